package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/flowbot/flowbot/api"
	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/webhooks"
)

// tokenStore returns the API token store of the database behind st.
func tokenStore(st flows.Store) (tokens.Store, error) {
	ts, ok := st.(interface{ Tokens() tokens.Store })
	if !ok {
		return nil, fmt.Errorf("the %T store keeps no API tokens", st)
	}
	return ts.Tokens(), nil
}

// newRESTAPI builds the REST API over a store and an engine.
func newRESTAPI(cfg APIConfig, hooksCfg WebhooksConfig, st flows.Store, engine *flows.Engine, dirLock func(context.Context) (func(), error), log *slog.Logger) (*api.Server, error) {
	ts, err := tokenStore(st)
	if err != nil {
		return nil, err
	}
	var hooks api.Webhooks
	if ws, ok := st.(interface{ Webhooks() webhooks.Store }); ok {
		hooks = ws.Webhooks()
	}
	var subs webhooks.SubscriptionStore
	if ss, ok := st.(subscriptionStore); ok {
		subs = ss.Subscriptions()
	}
	return api.New(api.Config{
		Engine: engine, Queries: st, Tokens: ts, Directory: st, Webhooks: hooks,
		Subscriptions: subs, WebhooksAllowPrivate: hooksCfg.AllowPrivate, DirectoryLock: dirLock,
		Stats: func(ctx context.Context, q flowstats.Query) (*flowstats.Report, error) {
			return flowstats.Compute(ctx, st, q)
		},
		AdminToken: cfg.AdminToken, RatePerSecond: cfg.RatePerSecond, Burst: cfg.Burst, MaxBody: cfg.MaxBody,
		Logger: log.With("component", "api"),
	}), nil
}

// restAPI mounts /api/v1 (unless api.disabled).
func (a *app) restAPI() error {
	if a.cfg.API.Disabled {
		return nil
	}
	s, err := newRESTAPI(a.cfg.API, a.cfg.Webhooks, a.store, a.engine, a.lockDirectory, a.log)
	if err != nil {
		return err
	}
	a.mux.Handle("/api/v1/", nudging(s.Handler(), a.nudge))
	return nil
}

// nudging wakes the notifier after every request that may have written
// messages (any but GET and HEAD), so that what an API call causes (the
// approver's card of a request filed by an ERP) is sent at once instead
// of at the notifier's next poll.
func nudging(next http.Handler, nudge func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			nudge()
		}
	})
}
