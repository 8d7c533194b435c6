package feishu

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Modes of an app: how events reach the adapter.
const (
	ModeHTTP      = "http"
	ModeWebSocket = "websocket"
)

// Base URLs of Feishu (China) and Lark (international).
const (
	FeishuBaseURL = "https://open.feishu.cn"
	LarkBaseURL   = "https://open.larksuite.com"
)

// Config configures the adapter. Zero values take the defaults shown.
type Config struct {
	Apps []App
	// ClickTimeout is how long a click may take before the adapter answers
	// "processing" and sends the card later by delayed update (2.5s; Feishu
	// allows 3s).
	ClickTimeout time.Duration
	// CloseGrace is how long Close lets handlers still running finish (a
	// click answered "processing" was acknowledged to Feishu, which will
	// not deliver it again) before it cancels them (default 10s).
	CloseGrace time.Duration
	// MessageTimeout bounds the bot's handling of a message (2.5s); past it
	// the webhook answers 5xx and Feishu redelivers.
	MessageTimeout time.Duration
	// MaxBodyBytes limits a webhook body (1 MiB).
	MaxBodyBytes int64
	Rate         RateLimits
}

// App is one Feishu/Lark self-built app.
type App struct {
	ID                string
	Secret            string
	EncryptKey        string
	VerificationToken string
	// Mode is ModeHTTP (webhook, the default) or ModeWebSocket (long
	// connection opened by Start).
	Mode string
	// BaseURL is FeishuBaseURL (default) or LarkBaseURL, or a fake.
	BaseURL string
	// ReplayWindow refuses webhook requests whose X-Lark-Request-Timestamp
	// is further than this from now (5m).
	ReplayWindow time.Duration
	// BotOpenID is the bot's own open_id: group messages that do not
	// mention the bot are ignored and the mention is stripped wherever it
	// is. When empty, Start fetches it from Feishu; until then (or if that
	// fails) a group message is taken when it starts with a mention, and
	// leading mentions are stripped.
	BotOpenID string
}

// RateLimits are the outbound limits per app and per chat; the defaults are
// Feishu's published numbers. The per-app limit holds over any window: at
// most AppPerSecond in a second and AppPerMinute in 60 s. The per-chat
// limit is keyed by chat id; a user's sends by open_id share the limit of
// their p2p chat once the adapter knows that chat (from the user's
// messages or a first send). Card updates are limited per message.
type RateLimits struct {
	AppPerSecond  float64 // 50
	AppPerMinute  float64 // 1000
	ChatPerSecond float64 // 5
	// BackoffMin and BackoffMax bound the wait after a rate-limited answer
	// without an x-ogw-ratelimit-reset header (200ms, 10s).
	BackoffMin time.Duration
	BackoffMax time.Duration
}

func (c Config) withDefaults() Config {
	c.ClickTimeout = cmp.Or(c.ClickTimeout, 2500*time.Millisecond)
	c.CloseGrace = cmp.Or(c.CloseGrace, 10*time.Second)
	c.MessageTimeout = cmp.Or(c.MessageTimeout, 2500*time.Millisecond)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 1<<20)
	c.Rate.AppPerSecond = cmp.Or(c.Rate.AppPerSecond, 50)
	c.Rate.AppPerMinute = cmp.Or(c.Rate.AppPerMinute, 1000)
	c.Rate.ChatPerSecond = cmp.Or(c.Rate.ChatPerSecond, 5)
	c.Rate.BackoffMin = cmp.Or(c.Rate.BackoffMin, 200*time.Millisecond)
	c.Rate.BackoffMax = cmp.Or(c.Rate.BackoffMax, 10*time.Second)
	apps := make([]App, len(c.Apps))
	for i, a := range c.Apps {
		a.Mode = cmp.Or(a.Mode, ModeHTTP)
		a.BaseURL = cmp.Or(a.BaseURL, FeishuBaseURL)
		a.ReplayWindow = cmp.Or(a.ReplayWindow, 5*time.Minute)
		apps[i] = a
	}
	c.Apps = apps
	return c
}

// ConfigError names the configuration key that is wrong.
type ConfigError struct {
	Key    string // e.g. "feishu.apps[0].encrypt_key"
	Reason string
}

func (e *ConfigError) Error() string { return "feishu: config " + e.Key + ": " + e.Reason }

func (c Config) validate() error {
	if len(c.Apps) == 0 {
		return &ConfigError{Key: "feishu.apps", Reason: "at least one app is required"}
	}
	switch {
	case c.Rate.AppPerSecond < 0:
		return &ConfigError{Key: "feishu.rate.app_per_second", Reason: "must be positive"}
	case c.Rate.AppPerMinute < 0:
		return &ConfigError{Key: "feishu.rate.app_per_minute", Reason: "must be positive"}
	case c.Rate.ChatPerSecond < 0:
		return &ConfigError{Key: "feishu.rate.chat_per_second", Reason: "must be positive"}
	}
	seen := map[string]bool{}
	for i, a := range c.Apps {
		key := func(k string) string { return fmt.Sprintf("feishu.apps[%d].%s", i, k) }
		switch {
		case a.ID == "":
			return &ConfigError{Key: key("app_id"), Reason: "required"}
		case seen[a.ID]:
			return &ConfigError{Key: key("app_id"), Reason: "duplicate app " + a.ID}
		case a.Secret == "":
			return &ConfigError{Key: key("app_secret"), Reason: "required"}
		case a.Mode != ModeHTTP && a.Mode != ModeWebSocket:
			return &ConfigError{Key: key("mode"), Reason: fmt.Sprintf("%q is neither %q nor %q", a.Mode, ModeHTTP, ModeWebSocket)}
		case a.Mode == ModeHTTP && a.EncryptKey == "" && a.VerificationToken == "":
			return &ConfigError{Key: key("encrypt_key"), Reason: "an http app needs an encrypt key (or at least a verification token) so that forged requests are refused"}
		case a.ReplayWindow < 0:
			return &ConfigError{Key: key("replay_window"), Reason: "must be positive"}
		}
		seen[a.ID] = true
	}
	return nil
}

// Option tunes an Adapter.
type Option func(*options)

type options struct {
	log        *slog.Logger
	httpClient *http.Client
	now        func() time.Time
	inbox      Inbox
	dir        Directory
}

// WithInbox keeps every click answered "processing" in in before the
// answer, and marks it done once its handler finished, so that a click
// cut off by a crash is replayed instead of lost (default: not kept).
func WithInbox(in Inbox) Option { return func(o *options) { o.inbox = in } }

// WithDirectory subscribes the adapter to the contact change events
// (contact.user.*_v3, contact.department.*_v3) and hands each to d
// (default: those events are acknowledged and ignored).
func WithDirectory(d Directory) Option { return func(o *options) { o.dir = d } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithHTTPClient sets the client for API calls (default a client with a
// 10s timeout that keeps up to 64 idle connections to the API).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithClock replaces time.Now (for the replay window and token expiry).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Errors callers can branch on.
var (
	ErrEmptyMessage = errors.New("message has neither text nor card")
	ErrUnknownApp   = errors.New("unknown app")
	ErrBadRef       = errors.New("malformed message reference")
	ErrNoRecipient  = errors.New("recipient has neither user id nor chat id")
)

// APIError is an error answer of Feishu's open platform.
type APIError struct {
	Op     string
	Status int
	Code   int
	Msg    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("feishu: %s: http %d code %d: %s", e.Op, e.Status, e.Code, e.Msg)
}
