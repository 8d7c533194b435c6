package dingtalk

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// Modes of an app's inbound channel.
const (
	ModeStream = "stream" // the Stream gateway (no public URL)
	ModeHTTP   = "http"   // the HTTP robot callback at /webhook/dingtalk
)

// DefaultBaseURL is DingTalk's OpenAPI host (token, robot, cards and the
// Stream gateway).
const DefaultBaseURL = "https://api.dingtalk.com"

// ErrUnknownApp says a recipient or ref names no configured app.
var ErrUnknownApp = errors.New("dingtalk: unknown app")

// Config configures the adapter.
type Config struct {
	Apps []App
	// ClickTimeout is how long a card callback waits for the bot before it
	// answers without a card (DingTalk gives 1.5 s; default 1.2 s).
	ClickTimeout time.Duration
	// MessageTimeout bounds the bot's work on one message (default 10 s).
	MessageTimeout time.Duration
	// CloseGrace is how long Close lets handlers of card callbacks already
	// answered finish before it cancels them (default 10 s). The Stream
	// connections stop at once.
	CloseGrace time.Duration
	// DedupeTTL is how long a message id is remembered (default 1 h).
	DedupeTTL time.Duration
	// MaxBodyBytes limits an HTTP callback's body (default 64 KiB).
	MaxBodyBytes int64
	// MaxTextRunes splits longer texts into several messages (default 3800).
	MaxTextRunes int
	// ReconnectMin and ReconnectMax bound the Stream reconnect backoff
	// (defaults 500 ms and 30 s).
	ReconnectMin, ReconnectMax time.Duration
	// SendRetries is how often a rate-limited or flow-controlled send is
	// retried within one call (default 3).
	SendRetries int
	// RetryBase is the first retry's wait, doubled each time (default 1 s).
	RetryBase time.Duration
}

// App is one DingTalk enterprise app (its robot).
type App struct {
	// Key is the app's AppKey (the Stream clientId); it names the app in
	// bots.Event.App and bots.Recipient.App.
	Key    string
	Secret string
	// RobotCode is the app robot's code (usually the AppKey).
	RobotCode string
	// Mode is ModeStream (default) or ModeHTTP.
	Mode string
	// BaseURL is the OpenAPI host, also used for the Stream gateway.
	BaseURL string
	// CardTemplateID is the id of the imported template (template/). Empty
	// is refused unless TextOnly is set.
	CardTemplateID string
	// TextOnly sends cards as markdown with /approve N and /reject N reason
	// commands instead of interactive cards.
	TextOnly bool
	// ReplayWindow is how old an HTTP callback's timestamp may be
	// (default 1 h, DingTalk's documented window).
	ReplayWindow time.Duration
}

func (c Config) withDefaults() Config {
	c.ClickTimeout = cmp.Or(c.ClickTimeout, 1200*time.Millisecond)
	c.MessageTimeout = cmp.Or(c.MessageTimeout, 10*time.Second)
	c.CloseGrace = cmp.Or(c.CloseGrace, 10*time.Second)
	c.DedupeTTL = cmp.Or(c.DedupeTTL, time.Hour)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 64<<10)
	c.MaxTextRunes = cmp.Or(c.MaxTextRunes, 3800)
	c.ReconnectMin = cmp.Or(c.ReconnectMin, 500*time.Millisecond)
	c.ReconnectMax = cmp.Or(c.ReconnectMax, 30*time.Second)
	c.SendRetries = cmp.Or(c.SendRetries, 3)
	c.RetryBase = cmp.Or(c.RetryBase, time.Second)
	apps := make([]App, len(c.Apps))
	for i, a := range c.Apps {
		a.Mode = cmp.Or(a.Mode, ModeStream)
		a.BaseURL = cmp.Or(a.BaseURL, DefaultBaseURL)
		a.RobotCode = cmp.Or(a.RobotCode, a.Key)
		a.ReplayWindow = cmp.Or(a.ReplayWindow, time.Hour)
		apps[i] = a
	}
	c.Apps = apps
	return c
}

func (c Config) validate() error {
	if len(c.Apps) == 0 {
		return errors.New("dingtalk: config: no apps")
	}
	seen := map[string]bool{}
	var errs []error
	for i, a := range c.Apps {
		bad := func(key, msg string) {
			errs = append(errs, fmt.Errorf("dingtalk: config: apps[%d].%s %s", i, key, msg))
		}
		if a.Key == "" {
			bad("app_key", "is empty")
		}
		if seen[a.Key] {
			bad("app_key", "is configured twice")
		}
		seen[a.Key] = true
		if a.Secret == "" {
			bad("app_secret", "is empty")
		}
		if a.Mode != ModeStream && a.Mode != ModeHTTP {
			bad("mode", fmt.Sprintf("is %q, want stream or http", a.Mode))
		}
		if a.CardTemplateID == "" && !a.TextOnly {
			bad("card_template_id", "is empty: import template/flowbot_approval.json in the DingTalk card platform and set its id, or set text_only: true")
		}
	}
	return errors.Join(errs...)
}
