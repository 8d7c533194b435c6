package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/flows"
)

// reportLinkTTL is how long the links of a monthly report card work: a
// month, until the next report.
const reportLinkTTL = 31 * 24 * time.Hour

// Open reads a kept picture (the owner reports' charts), for the bot's
// cards (bots.ImageOpener).
func (f *blobFiles) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return f.store.Open(ctx, key)
}

// ownerCharts keeps the owner reports' charts in the attachment store
// and signs their links for the dashboard at base.
type ownerCharts struct {
	files *blobFiles
	base  string // the dashboard's URL, ending in "/"
}

var _ schedule.OwnerCharts = (*ownerCharts)(nil)

func (o *ownerCharts) KeepChart(ctx context.Context, png []byte) (string, error) {
	key := blobs.NewKey()
	if err := o.files.store.Put(ctx, key, bytes.NewReader(png), int64(len(png))); err != nil {
		return "", fmt.Errorf("keep chart: %w", err)
	}
	return key, nil
}

func (o *ownerCharts) ReportLinks(flowID string, month time.Time, viewer, chart string) (string, string) {
	tok := o.files.reports.Token(flowID, month, viewer, chart)
	return o.base + dashboard.ReportURL(tok), o.base + dashboard.ChartURL(tok)
}

// ownerChartsFor wires the owner reports' charts: only where attachments
// are kept and the dashboard is served (nil otherwise: the report goes as
// text with the dashboard link).
func ownerChartsFor(files *blobFiles, dashboardURL string) schedule.OwnerCharts {
	if files == nil || dashboardURL == "" {
		return nil
	}
	return &ownerCharts{files: files, base: dashboardURL}
}

// reportAccess says whether viewer may still open flowID's report through
// a signed link: the flow's owner, or whoever sees every statistic
// (admins, auditors).
func (a *app) reportAccess(ctx context.Context, viewer, flowID string) (bool, error) {
	u, err := a.store.User(ctx, viewer)
	if errors.Is(err, flows.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load viewer %s: %w", viewer, err)
	}
	if all, _, err := flows.StatsScope(u, nil); err == nil && all {
		return true, nil
	}
	defs, err := a.dashboardFlows(ctx)
	if err != nil {
		return false, err
	}
	for _, d := range defs {
		if d.ID == flowID {
			return d.Owner == viewer, nil
		}
	}
	return false, nil
}

// mountReportLinks serves the report page and its chart without sign-in
// to requests that carry a signed link (t=...); the others go to the
// dashboard behind sign-in (page).
func (a *app) mountReportLinks(h *dashboard.Handler, page http.Handler) {
	public := http.StripPrefix("/ui/dashboard", h.Public())
	route := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("t") {
			public.ServeHTTP(w, r)
			return
		}
		page.ServeHTTP(w, r)
	})
	a.mux.Handle("/ui/dashboard/report", route)
	a.mux.Handle("/ui/dashboard/report/chart.png", route)
}
