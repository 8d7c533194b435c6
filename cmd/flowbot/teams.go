package main

import (
	"context"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowbot/flowbot/adapters/teams"
	"github.com/flowbot/flowbot/bots"
)

// TeamsConfig configures the Microsoft Teams adapter (the `teams:` section).
// The adapter is on when app_id is set.
type TeamsConfig struct {
	AppID             string        `yaml:"app_id"`
	AppPassword       string        `yaml:"app_password"` // ${ENV}
	TenantID          string        `yaml:"tenant_id"`
	Path              string        `yaml:"path"` // messaging endpoint, default /api/messages
	OpenIDMetadataURL string        `yaml:"openid_metadata_url"`
	Issuer            string        `yaml:"issuer"`
	LoginBaseURL      string        `yaml:"login_base_url"`
	ServiceURL        string        `yaml:"service_url"`
	Leeway            time.Duration `yaml:"leeway"`
	KeysMaxAge        time.Duration `yaml:"keys_max_age"`
	KeysMinRefetch    time.Duration `yaml:"keys_min_refetch"`
	InvokeTimeout     time.Duration `yaml:"invoke_timeout"`
	MessageTimeout    time.Duration `yaml:"message_timeout"`
	MaxBodyBytes      int64         `yaml:"max_body_bytes"`
}

// validate names the bad keys of the teams section.
func (c TeamsConfig) validate(bad func(key, format string, a ...any)) {
	if c.AppID == "" {
		return
	}
	if c.AppPassword == "" {
		bad("teams.app_password", "is required when teams.app_id is set")
	}
	if c.TenantID == "" {
		bad("teams.tenant_id", "is required (a single-tenant bot's Entra tenant id)")
	}
	if c.Path != "" && c.Path[0] != '/' {
		bad("teams.path", "must start with /, not %q", c.Path)
	}
	for key, u := range map[string]string{"teams.openid_metadata_url": c.OpenIDMetadataURL, "teams.login_base_url": c.LoginBaseURL, "teams.service_url": c.ServiceURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			bad(key, "is not an http(s) URL: %q", u)
		}
	}
	if c.Leeway < 0 || c.Leeway > 10*time.Minute {
		bad("teams.leeway", "must be between 0 and 10m, not %s", c.Leeway)
	}
	for key, d := range map[string]time.Duration{"teams.keys_max_age": c.KeysMaxAge, "teams.keys_min_refetch": c.KeysMinRefetch,
		"teams.invoke_timeout": c.InvokeTimeout, "teams.message_timeout": c.MessageTimeout} {
		if d < 0 {
			bad(key, "must be >= 0, not %s", d)
		}
	}
	if c.MaxBodyBytes < 0 {
		bad("teams.max_body_bytes", "must be >= 0, not %d", c.MaxBodyBytes)
	}
}

// wireTeams starts the Microsoft Teams adapter when it is configured: the
// messaging endpoint, its Messenger, its readiness check and metrics.
func (a *app) wireTeams(ctx context.Context, h handler, ms map[string]bots.Messenger) error {
	c := a.cfg.Teams
	if c.AppID == "" {
		return nil
	}
	ad, err := teams.New(teams.Config{
		AppID: c.AppID, AppPassword: c.AppPassword, TenantID: c.TenantID,
		OpenIDMetadataURL: c.OpenIDMetadataURL, Issuer: c.Issuer, LoginBaseURL: c.LoginBaseURL, ServiceURL: c.ServiceURL,
		Leeway: c.Leeway, KeysMaxAge: c.KeysMaxAge, KeysMinRefetch: c.KeysMinRefetch,
		InvokeTimeout: c.InvokeTimeout, MessageTimeout: c.MessageTimeout, MaxBodyBytes: c.MaxBodyBytes,
	}, h, teams.WithLogger(a.log))
	if err != nil {
		return err // already says "teams: ..."
	}
	a.adapters = append(a.adapters, ad.Close)
	ms["teams"] = ad
	path := c.Path
	if path == "" {
		path = "/api/messages"
	}
	a.mux.Handle("POST "+path, ad)
	if a.ready == nil {
		a.ready = map[string]func(ctx context.Context) error{}
	}
	a.ready["teams"] = ad.Ready
	if a.metrics != nil {
		registerTeamsMetrics(a.metrics.reg, c.AppID, ad)
	}
	return nil
}

// registerTeamsMetrics exports the adapter's counters, labelled by app.
func registerTeamsMetrics(reg prometheus.Registerer, appID string, ad *teams.Adapter) {
	labels := prometheus.Labels{"app": appID}
	counter := func(name, help string, get func(teams.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(get(ad.Stats())) })
	}
	reg.MustRegister(
		counter("flowbot_teams_activities_accepted_total", "Teams activities accepted (token valid, handled).", func(s teams.Stats) uint64 { return s.Accepted }),
		counter("flowbot_teams_activities_refused_total", "Teams activities refused (bad token, malformed, too large).", func(s teams.Stats) uint64 { return s.Refused }),
		counter("flowbot_teams_activities_duplicate_total", "Teams activities redelivered (deduped by activity id).", func(s teams.Stats) uint64 { return s.Duplicates }),
		counter("flowbot_teams_sent_total", "Activities sent through the Bot Connector.", func(s teams.Stats) uint64 { return s.Sent }),
		counter("flowbot_teams_updated_total", "Activities updated through the Bot Connector.", func(s teams.Stats) uint64 { return s.Updated }),
		counter("flowbot_teams_retries_total", "Bot Connector calls retried after 429/412/502/504.", func(s teams.Stats) uint64 { return s.Retried }),
	)
}
