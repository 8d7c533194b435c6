package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
)

// wireDashboard mounts the process dashboard at /ui/dashboard/ next to the
// playground: like the playground it has no sign-in yet, so it runs only
// in demo mode. Its aggregate folds the event log incrementally on each
// page.
func (a *app) wireDashboard(cal *workcal.Calendar) {
	if a.web == nil {
		return
	}
	agg := flowstats.NewAggregate(cal)
	h := dashboard.New(dashboard.Config{
		Aggregate: agg,
		Refresh: func(ctx context.Context) error {
			_, err := agg.Update(ctx, a.store)
			return err
		},
		Flows:  a.dashboardFlows,
		Now:    a.clock.Now,
		Logger: a.log,
	})
	a.mux.Handle("/ui/dashboard/", http.StripPrefix("/ui/dashboard", h))
	a.mux.Handle("/ui/dashboard", http.RedirectHandler("/ui/dashboard/", http.StatusFound))
}

// dashboardFlows returns the latest definition of every flow.
func (a *app) dashboardFlows(ctx context.Context) ([]*flowdef.Definition, error) {
	fvs, err := a.store.LatestFlows(ctx)
	if err != nil {
		return nil, fmt.Errorf("load flows: %w", err)
	}
	defs := make([]*flowdef.Definition, 0, len(fvs))
	for _, fv := range fvs {
		d, err := flowdef.Parse(fv.ID+".yaml", fv.Source)
		if err != nil {
			return nil, fmt.Errorf("parse flow %s v%d: %w", fv.ID, fv.Version, err)
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// dashboardURL is the dashboard's address for the digest's link: set only
// where the dashboard is served (the playground's demo mode).
func dashboardURL(cfg Config) string {
	if !cfg.Playground.Enabled || !cfg.Playground.Demo || cfg.HTTP.Addr == "" {
		return ""
	}
	return "http://" + cfg.HTTP.Addr + "/ui/dashboard/"
}
