package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/bots"
)

// DingTalkConfig configures the DingTalk adapter (the `dingtalk:` section).
type DingTalkConfig struct {
	Apps []DingTalkApp `yaml:"apps"`
	// ClickTimeout is how long a card click waits for the bot before it is
	// answered without a card (DingTalk allows 1.5 s; default 1.2s).
	ClickTimeout time.Duration `yaml:"click_timeout"`
	// MaxTextRunes splits longer robot texts (default 3800).
	MaxTextRunes int `yaml:"max_text_runes"`
}

// DingTalkApp is one DingTalk enterprise app.
type DingTalkApp struct {
	AppKey         string        `yaml:"app_key"`
	AppSecret      string        `yaml:"app_secret"`
	RobotCode      string        `yaml:"robot_code"`
	Mode           string        `yaml:"mode"` // stream (default) or http
	BaseURL        string        `yaml:"base_url"`
	CardTemplateID string        `yaml:"card_template_id"`
	TextOnly       bool          `yaml:"text_only"`
	ReplayWindow   time.Duration `yaml:"replay_window"`
}

// validate names the bad keys of the dingtalk section.
func (c DingTalkConfig) validate(bad func(key, format string, a ...any)) {
	if c.ClickTimeout < 0 || c.ClickTimeout > 1500*time.Millisecond {
		bad("dingtalk.click_timeout", "must be between 0 and 1.5s (DingTalk's limit), not %s", c.ClickTimeout)
	}
	if c.MaxTextRunes < 0 {
		bad("dingtalk.max_text_runes", "must not be negative")
	}
	seen := map[string]bool{}
	for i, a := range c.Apps {
		key := fmt.Sprintf("dingtalk.apps[%d]", i)
		if a.AppKey == "" {
			bad(key+".app_key", "is empty")
		}
		if seen[a.AppKey] && a.AppKey != "" {
			bad(key+".app_key", "%q is configured twice", a.AppKey)
		}
		seen[a.AppKey] = true
		if a.AppSecret == "" {
			bad(key+".app_secret", "is empty (set it from the environment: ${DINGTALK_APP_SECRET})")
		}
		switch a.Mode {
		case "", dingtalk.ModeStream, dingtalk.ModeHTTP:
		default:
			bad(key+".mode", "must be stream or http, not %q", a.Mode)
		}
		if a.CardTemplateID == "" && !a.TextOnly {
			bad(key+".card_template_id", "is empty: import adapters/dingtalk/template into the DingTalk card platform and set its id, or set text_only: true")
		}
		if a.ReplayWindow < 0 {
			bad(key+".replay_window", "must not be negative")
		}
	}
}

// dingtalkMetrics counts the adapter's work per app on the app's registry.
type dingtalkMetrics struct{ c *prometheus.CounterVec }

func (m dingtalkMetrics) Inc(app, kind string) { m.c.WithLabelValues(app, kind).Inc() }

// wireDingTalk starts the DingTalk adapter when apps are configured: its
// HTTP robot callback on /webhook/dingtalk, its Stream connections, its
// readiness check and counters, and its Messenger.
func (a *app) wireDingTalk(ctx context.Context, h handler, ms map[string]bots.Messenger) error {
	c := a.cfg.DingTalk
	if len(c.Apps) == 0 {
		return nil
	}
	var apps []dingtalk.App
	for _, x := range c.Apps {
		apps = append(apps, dingtalk.App{
			Key: x.AppKey, Secret: x.AppSecret, RobotCode: x.RobotCode, Mode: x.Mode, BaseURL: x.BaseURL,
			CardTemplateID: x.CardTemplateID, TextOnly: x.TextOnly, ReplayWindow: x.ReplayWindow,
		})
	}
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowbot_dingtalk_total",
		Help: "DingTalk adapter work by app and kind (frame_in, ack, later, reconnect, send, send_failure).",
	}, []string{"app", "kind"})
	if err := a.metrics.reg.Register(counter); err != nil {
		return fmt.Errorf("dingtalk: register metrics: %w", err)
	}
	opts := []dingtalk.Option{dingtalk.WithLogger(a.log), dingtalk.WithMetrics(dingtalkMetrics{counter}), dingtalk.WithInbox(a.bot)}
	if a.dirEvents.s != nil {
		opts = append(opts, dingtalk.WithDirectory(a.dirEvents))
	}
	ad, err := dingtalk.New(dingtalk.Config{Apps: apps, ClickTimeout: c.ClickTimeout, MaxTextRunes: c.MaxTextRunes, CloseGrace: a.cfg.HTTP.ShutdownGrace}, h, opts...)
	if err != nil {
		return err // already says "dingtalk: ..."
	}
	a.adapters = append(a.adapters, ad.Close)
	a.starters = append(a.starters, ad.Start)
	if a.ready == nil {
		a.ready = map[string]func(ctx context.Context) error{}
	}
	a.ready["dingtalk"] = ad.Ready
	ms["dingtalk"] = ad
	a.mux.Handle("POST /webhook/dingtalk", ad)
	return nil
}
