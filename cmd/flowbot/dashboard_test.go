package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// TestDashboardMountedInDemoMode: the dashboard is served at
// /ui/dashboard/ in demo mode, shows a request filed through the engine
// (the aggregate folds the event log on each page) and refuses bad
// filters; out of demo mode it is not served.
func TestDashboardMountedInDemoMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := startApp(t, testConfig(t.TempDir()))
	_, err := r.app.engine.Submit(ctx, flows.SubmitRequest{Actor: applicant, FlowID: "expense", Values: map[string]any{
		"amount": 100, "category": "travel", "description": "taxi",
	}})
	require.NoError(t, err)
	code, _, body := getBody(t, r.base+"/ui/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `href="dashboard/"`, "the playground links the dashboard")
	code, _, body = getBody(t, r.base+"/ui/dashboard/?lang=en&flow=expense")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "Filed <b>1</b>")
	require.Contains(t, body, `data-step="manager"`)
	require.Contains(t, body, "Nothing is overdue.")
	r.app.clock.offset.Store(int64(10 * 24 * time.Hour)) // far past the expense flow's 8h reminder
	t.Cleanup(func() { r.app.clock.offset.Store(0) })
	code, _, body = getBody(t, r.base+"/ui/dashboard/?lang=en")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Overdue now")
	require.Regexp(t, `<td>EXP-\d{8}-0001</td><td>Expense claim</td><td>manager</td><td>lilei</td>`, body)
	code, _, _ = getBody(t, r.base+"/ui/dashboard/?flow=nope")
	require.Equal(t, http.StatusBadRequest, code)
	code, _, _ = getBody(t, r.base+"/ui/dashboard/csv?lang=en")
	require.Equal(t, http.StatusOK, code)

	cfg := testConfig(t.TempDir())
	cfg.Playground.Demo = false
	off := startApp(t, cfg)
	code, _, _ = getBody(t, off.base+"/ui/dashboard/")
	require.Equal(t, http.StatusNotFound, code)
}

func TestDashboardURLOnlyWhereServed(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	cfg.HTTP.Addr = "127.0.0.1:8080"
	require.Equal(t, "http://127.0.0.1:8080/ui/dashboard/", dashboardURL(cfg))
	cfg.Playground.Demo = false
	require.Empty(t, dashboardURL(cfg), "no dashboard outside demo mode: no link")
}
