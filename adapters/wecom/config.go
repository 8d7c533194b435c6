package wecom

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// DefaultBaseURL is WeCom's API.
const DefaultBaseURL = "https://qyapi.weixin.qq.com"

// Config configures the adapter. Zero values take the defaults shown.
type Config struct {
	Apps []App
	// HandleTimeout bounds the bot's handling of one callback (4s): WeCom
	// retries a callback not answered within 5 s.
	HandleTimeout time.Duration
	// CloseGrace is how long Close lets background work (the clicked
	// card's update, follow-up questions) finish before it cancels it
	// (default 10s).
	CloseGrace time.Duration
	// MaxBodyBytes limits a callback body (256 KiB).
	MaxBodyBytes int64
	// ReplayWindow refuses callbacks whose timestamp is further than this
	// from now (5m).
	ReplayWindow time.Duration
	// IdempotencyTTL is how long a send's key is remembered (24h).
	IdempotencyTTL time.Duration
	// FollowUpTTL is how long a click waits for the answers to its
	// follow-up questions (10m).
	FollowUpTTL time.Duration
	Rate        RateLimits
}

// RateLimits is WeCom's per-member limit of one app (messages past it are
// dropped silently by WeCom): at most PerMinute in any Minute window and
// PerHour in any Hour window (30, 1000, 1m, 1h). The windows are
// configurable for tests.
type RateLimits struct {
	PerMinute int
	PerHour   int
	Minute    time.Duration
	Hour      time.Duration
}

// App is one WeCom self-built app (corp id + agent id).
type App struct {
	// Name identifies the app in bots.Event.App and bots.Recipient.App
	// ("<corp_id>:<agent_id>" when empty).
	Name    string
	CorpID  string
	AgentID int64
	Secret  string
	// Token and EncodingAESKey are the callback's 接收消息 settings.
	Token          string
	EncodingAESKey string
	// BaseURL is DefaultBaseURL, or a fake's URL.
	BaseURL string
}

func (c Config) withDefaults() Config {
	c.HandleTimeout = cmp.Or(c.HandleTimeout, 4*time.Second)
	c.CloseGrace = cmp.Or(c.CloseGrace, 10*time.Second)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 256<<10)
	c.ReplayWindow = cmp.Or(c.ReplayWindow, 5*time.Minute)
	c.IdempotencyTTL = cmp.Or(c.IdempotencyTTL, 24*time.Hour)
	c.FollowUpTTL = cmp.Or(c.FollowUpTTL, 10*time.Minute)
	c.Rate.PerMinute = cmp.Or(c.Rate.PerMinute, 30)
	c.Rate.PerHour = cmp.Or(c.Rate.PerHour, 1000)
	c.Rate.Minute = cmp.Or(c.Rate.Minute, time.Minute)
	c.Rate.Hour = cmp.Or(c.Rate.Hour, time.Hour)
	apps := make([]App, len(c.Apps))
	for i, a := range c.Apps {
		a.BaseURL = cmp.Or(a.BaseURL, DefaultBaseURL)
		a.Name = cmp.Or(a.Name, a.CorpID+":"+strconv.FormatInt(a.AgentID, 10))
		apps[i] = a
	}
	c.Apps = apps
	return c
}

// ConfigError names the configuration key that is wrong.
type ConfigError struct {
	Key    string // e.g. "wecom.apps[0].encoding_aes_key"
	Reason string
}

func (e *ConfigError) Error() string { return "wecom: config " + e.Key + ": " + e.Reason }

func (c Config) validate() error {
	if len(c.Apps) == 0 {
		return &ConfigError{Key: "wecom.apps", Reason: "at least one app is required"}
	}
	if c.Rate.PerMinute < 0 || c.Rate.PerHour < 0 || c.Rate.Minute < 0 || c.Rate.Hour < 0 {
		return &ConfigError{Key: "wecom.rate", Reason: "must be positive"}
	}
	seen := map[string]bool{}
	for i, a := range c.Apps {
		key := func(k string) string { return fmt.Sprintf("wecom.apps[%d].%s", i, k) }
		switch {
		case a.CorpID == "":
			return &ConfigError{Key: key("corp_id"), Reason: "required"}
		case a.AgentID <= 0:
			return &ConfigError{Key: key("agent_id"), Reason: "required (a positive number)"}
		case a.Secret == "":
			return &ConfigError{Key: key("secret"), Reason: "required"}
		case a.Token == "":
			return &ConfigError{Key: key("token"), Reason: "required"}
		case seen[a.Name]:
			return &ConfigError{Key: key("name"), Reason: "duplicate app " + a.Name}
		}
		if _, err := decodeAESKey(a.EncodingAESKey); err != nil {
			return &ConfigError{Key: key("encoding_aes_key"), Reason: err.Error()}
		}
		seen[a.Name] = true
	}
	return nil
}

// decodeAESKey decodes a 43-character EncodingAESKey into 32 bytes.
func decodeAESKey(k string) ([]byte, error) {
	if len(k) != 43 {
		return nil, errors.New("must be 43 characters")
	}
	b, err := base64.StdEncoding.DecodeString(k + "=")
	if err != nil || len(b) != 32 {
		return nil, errors.New("must be base64 of 32 bytes")
	}
	return b, nil
}

// Option tunes an Adapter.
type Option func(*options)

type options struct {
	dir        Directory
	log        *slog.Logger
	httpClient *http.Client
	now        func() time.Time
	metrics    Metrics
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithDirectory hands the address-book changes (change_contact callbacks:
// members and departments created, updated, deleted) to d (default: they
// are acknowledged and ignored).
func WithDirectory(d Directory) Option { return func(o *options) { o.dir = d } }

// WithHTTPClient sets the client for API calls (default: apiclient.New,
// a 10s timeout and idle connections kept for the next sends).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithClock replaces time.Now (replay window, token expiry, caches).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithMetrics receives the adapter's counts (per app).
func WithMetrics(m Metrics) Option { return func(o *options) { o.metrics = m } }

// Metrics receives counts per app; cmd/flowbot backs it with Prometheus.
type Metrics interface {
	// Callback counts a callback by outcome ("ok", "refused", "duplicate", "error").
	Callback(app, outcome string)
	// Sent counts an API call by op ("send", "update") and outcome ("ok", "error").
	Sent(app, op, outcome string)
}

type nopMetrics struct{}

func (nopMetrics) Callback(string, string)     {}
func (nopMetrics) Sent(string, string, string) {}

// Errors callers can branch on.
var (
	ErrEmptyMessage = errors.New("message has neither text nor card")
	ErrUnknownApp   = errors.New("unknown app")
	ErrBadRef       = errors.New("malformed message reference")
	ErrNoRecipient  = errors.New("recipient has neither user id nor chat id")
)

// APIError is an error answer of WeCom (errcode ≠ 0, or a non-2xx status).
type APIError struct {
	Op      string
	Status  int
	ErrCode int
	ErrMsg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wecom: %s: http %d errcode %d: %s", e.Op, e.Status, e.ErrCode, e.ErrMsg)
}
