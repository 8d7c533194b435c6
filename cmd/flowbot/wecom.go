package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/bots"
)

// WeComConfig configures the WeCom adapter (the `wecom:` section).
type WeComConfig struct {
	Apps []WeComApp `yaml:"apps"`
	// HandleTimeout bounds the bot's handling of one callback (4s; WeCom
	// retries after 5s).
	HandleTimeout  time.Duration `yaml:"handle_timeout"`
	MaxBodyBytes   int64         `yaml:"max_body_bytes"`  // 256 KiB
	ReplayWindow   time.Duration `yaml:"replay_window"`   // 5m
	IdempotencyTTL time.Duration `yaml:"idempotency_ttl"` // 24h
	FollowUpTTL    time.Duration `yaml:"follow_up_ttl"`   // 10m
	Rate           WeComRate     `yaml:"rate"`
}

// WeComRate is WeCom's per-member limit of one app.
type WeComRate struct {
	PerMinute int `yaml:"per_minute"` // 30
	PerHour   int `yaml:"per_hour"`   // 1000
}

// WeComApp is one self-built app.
type WeComApp struct {
	Name           string `yaml:"name"`
	CorpID         string `yaml:"corp_id"`
	AgentID        int64  `yaml:"agent_id"`
	Secret         string `yaml:"secret"`
	Token          string `yaml:"token"`
	EncodingAESKey string `yaml:"encoding_aes_key"`
	BaseURL        string `yaml:"base_url"`
}

// validate names the bad keys of the wecom section.
func (c WeComConfig) validate(bad func(key, format string, a ...any)) {
	for k, d := range map[string]time.Duration{"handle_timeout": c.HandleTimeout, "replay_window": c.ReplayWindow,
		"idempotency_ttl": c.IdempotencyTTL, "follow_up_ttl": c.FollowUpTTL} {
		if d < 0 {
			bad("wecom."+k, "must not be negative, not %s", d)
		}
	}
	if c.HandleTimeout > 5*time.Second {
		bad("wecom.handle_timeout", "must be at most 5s (WeCom retries a callback not answered in 5s), not %s", c.HandleTimeout)
	}
	if c.MaxBodyBytes < 0 {
		bad("wecom.max_body_bytes", "must not be negative")
	}
	if c.Rate.PerMinute < 0 || c.Rate.PerHour < 0 {
		bad("wecom.rate", "per_minute and per_hour must not be negative")
	}
	names := map[string]bool{}
	for i, a := range c.Apps {
		key := fmt.Sprintf("wecom.apps[%d]", i)
		if a.CorpID == "" {
			bad(key+".corp_id", "is empty")
		}
		if a.AgentID <= 0 {
			bad(key+".agent_id", "must be the app's AgentId (a positive number)")
		}
		if a.Secret == "" {
			bad(key+".secret", "is empty (set it from the environment: ${WECOM_SECRET})")
		}
		if a.Token == "" {
			bad(key+".token", "is empty (the callback Token of 接收消息)")
		}
		if len(a.EncodingAESKey) != 43 {
			bad(key+".encoding_aes_key", "must be the 43-character EncodingAESKey of 接收消息")
		}
		name := a.Name
		if name == "" {
			name = fmt.Sprintf("%s:%d", a.CorpID, a.AgentID)
		}
		if names[name] {
			bad(key+".name", "duplicate app %s", name)
		}
		names[name] = true
	}
}

// wireWeCom starts the WeCom adapter when apps are configured: its
// callback on /webhook/wecom (GET URL check and POST), its Messenger, its
// readiness check (a token for every app) and its metrics per app.
func (a *app) wireWeCom(ctx context.Context, h handler, ms map[string]bots.Messenger) error {
	c := a.cfg.WeCom
	if len(c.Apps) == 0 {
		return nil
	}
	var apps []wecom.App
	for _, x := range c.Apps {
		apps = append(apps, wecom.App{Name: x.Name, CorpID: x.CorpID, AgentID: x.AgentID, Secret: x.Secret,
			Token: x.Token, EncodingAESKey: x.EncodingAESKey, BaseURL: x.BaseURL})
	}
	m := newWeComMetrics()
	if a.metrics != nil {
		if err := m.register(a.metrics.reg); err != nil {
			return fmt.Errorf("wecom: register metrics: %w", err)
		}
	}
	ad, err := wecom.New(wecom.Config{
		Apps: apps, HandleTimeout: c.HandleTimeout, CloseGrace: a.cfg.HTTP.ShutdownGrace, MaxBodyBytes: c.MaxBodyBytes, ReplayWindow: c.ReplayWindow,
		IdempotencyTTL: c.IdempotencyTTL, FollowUpTTL: c.FollowUpTTL,
		Rate: wecom.RateLimits{PerMinute: c.Rate.PerMinute, PerHour: c.Rate.PerHour},
	}, h, wecomOpts(a, m)...)
	if err != nil {
		return err // already says "wecom: ..."
	}
	a.adapters = append(a.adapters, ad.Close)
	ms[wecom.Platform] = ad
	a.mux.Handle("GET /webhook/wecom", ad)
	a.mux.Handle("POST /webhook/wecom", ad)
	if a.ready == nil {
		a.ready = map[string]func(ctx context.Context) error{}
	}
	a.ready[wecom.Platform] = ad.Ready
	return nil
}

// weComMetrics are the adapter's counters, labelled per app.
type weComMetrics struct {
	callbacks *prometheus.CounterVec
	calls     *prometheus.CounterVec
}

func newWeComMetrics() *weComMetrics {
	return &weComMetrics{
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_wecom_callbacks_total", Help: "WeCom callbacks by app and outcome (ok, ignored, duplicate, refused, error).",
		}, []string{"app", "outcome"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_wecom_api_calls_total", Help: "WeCom sends and card updates by app, op and outcome.",
		}, []string{"app", "op", "outcome"}),
	}
}

func (m *weComMetrics) register(reg *prometheus.Registry) error {
	for _, c := range []prometheus.Collector{m.callbacks, m.calls} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *weComMetrics) Callback(app, outcome string) { m.callbacks.WithLabelValues(app, outcome).Inc() }
func (m *weComMetrics) Sent(app, op, outcome string) { m.calls.WithLabelValues(app, op, outcome).Inc() }

func wecomOpts(a *app, m wecom.Metrics) []wecom.Option {
	opts := []wecom.Option{wecom.WithLogger(a.log), wecom.WithMetrics(m)}
	if a.dirEvents.s != nil {
		opts = append(opts, wecom.WithDirectory(a.dirEvents))
	}
	return opts
}
