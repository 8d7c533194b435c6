package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
)

// wireDashboard mounts the process dashboard at /ui/dashboard/ next to the
// playground: open to anyone in demo mode; otherwise behind sign-in,
// showing what flows.StatsScope allows the signed-in user. Its aggregate
// folds the event log incrementally on each page.
func (a *app) wireDashboard(cal *workcal.Calendar) {
	if a.web == nil {
		return
	}
	agg := a.stats
	if agg == nil {
		agg = flowstats.NewAggregate(cal)
	}
	dc := dashboard.Config{
		Aggregate: agg,
		Refresh: func(ctx context.Context) error {
			_, err := agg.Update(ctx, a.store)
			return err
		},
		Flows:    a.dashboardFlows,
		Overdue:  a.dashboardOverdue,
		Now:      a.clock.Now,
		Logger:   a.log,
		Renderer: a.charts,
	}
	if a.files != nil {
		dc.Reports, dc.Charts, dc.ReportAccess = a.files.reports, a.files.store, a.reportAccess
	}
	h := dashboard.New(dc)
	var page http.Handler = http.StripPrefix("/ui/dashboard", h)
	if a.signin != nil {
		page = a.signin.Require(a.dashboardRights(page))
	}
	a.mux.Handle("/ui/dashboard/", page)
	a.mountReportLinks(h, page)
	a.mux.Handle("/ui/dashboard", http.RedirectHandler("/ui/dashboard/", http.StatusFound))
}

// dashboardOverdue lists the open tasks past a deadline at now (up to
// 1000 open requests are looked at).
func (a *app) dashboardOverdue(ctx context.Context, now time.Time) ([]dashboard.OverdueTask, error) {
	ins, err := a.store.Instances(ctx, flows.InstanceFilter{Status: []flows.Status{flows.StatusPending}, Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("load open requests: %w", err)
	}
	scope := scopeFrom(ctx)
	deptOf := map[string]string{}
	var out []dashboard.OverdueTask
	for _, in := range ins {
		if !scope.all {
			d, ok := deptOf[in.Applicant]
			if !ok {
				if u, err := a.store.User(ctx, in.Applicant); err == nil {
					d = u.Dept
				}
				deptOf[in.Applicant] = d
			}
			if !slices.Contains(scope.depts, d) {
				continue
			}
		}
		ts, err := a.store.Tasks(ctx, flows.TaskFilter{InstanceID: in.ID, Status: []flows.TaskStatus{flows.TaskPending}})
		if err != nil {
			return nil, fmt.Errorf("load tasks of request %d: %w", in.ID, err)
		}
		for _, t := range ts {
			if !flowstats.Overdue(t, now) {
				continue
			}
			since := t.CreatedAt
			if t.StartedAt != nil {
				since = *t.StartedAt
			}
			out = append(out, dashboard.OverdueTask{Number: in.Number, FlowID: in.FlowID, StepID: t.StepID, Assignee: t.Assignee, Since: since})
		}
	}
	return out, nil
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
// where the dashboard is served (the playground's demo mode, or behind
// sign-in, at the redirect URL's host).
func dashboardURL(cfg Config) string {
	if !cfg.Playground.Enabled || cfg.HTTP.Addr == "" {
		return ""
	}
	if cfg.SignIn.Enabled {
		u, err := url.Parse(cfg.SignIn.RedirectURL)
		if err != nil {
			return ""
		}
		return u.Scheme + "://" + u.Host + "/ui/dashboard/"
	}
	if !cfg.Playground.Demo {
		return ""
	}
	return "http://" + cfg.HTTP.Addr + "/ui/dashboard/"
}
