package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// BenchmarkDashboardPage1M draws the whole dashboard page (every flow's
// diagram, bottleneck and forecast accuracy, charts and tables over 104
// weeks) over an aggregate of 1,000,000 events: 120,000 expense requests
// (eight events each, a third of them rated), one every 140 working
// seconds over the last two years.
func BenchmarkDashboardPage1M(b *testing.B) {
	const n = 120_000
	from := now.AddDate(0, 0, -7*104)
	a := historyEvery(b, n, 140*time.Second, from)
	defs := exampleFlows(b)
	h := dashboard.New(dashboard.Config{Aggregate: a, Now: func() time.Time { return now },
		Flows: func(context.Context) ([]*flowdef.Definition, error) { return defs, nil }})
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?lang=en&weeks=104", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(n*8+(n+2)/3), "events")
}
