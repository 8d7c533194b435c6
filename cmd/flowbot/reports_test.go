package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReportLinkOpensTheReport: a signed report link opens the flow's
// monthly report page (and its chart) for the flow's owner; a forged
// link, or one for someone who may not see the flow, is refused.
func TestReportLinkOpensTheReport(t *testing.T) {
	t.Parallel()
	r := startApp(t, testConfig(t.TempDir()))
	require.NotNil(t, r.app.files, "attachments are on in the test config")
	require.NotNil(t, ownerChartsFor(r.app.files, "http://x/ui/dashboard/"))
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tok := r.app.files.reports.Token("expense", month, "sunli", "") // sunli owns expense
	code, _, body := getBody(t, r.base+"/ui/dashboard/report?lang=en&t="+url.QueryEscape(tok))
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "Process health report · Expense claim")
	code, _, _ = getBody(t, r.base+"/ui/dashboard/report/chart.png?t="+url.QueryEscape(tok))
	require.Equal(t, http.StatusOK, code)

	code, _, body = getBody(t, r.base+"/ui/dashboard/report?lang=en&t="+url.QueryEscape(tok+"x"))
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "not valid")
	other := r.app.files.reports.Token("expense", month, "nobody-here", "")
	code, _, body = getBody(t, r.base+"/ui/dashboard/report?lang=en&t="+url.QueryEscape(other))
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "no longer see")
	// Without a link, the page is the dashboard's (demo mode: open).
	code, _, _ = getBody(t, r.base+"/ui/dashboard/report?flow=expense&month=2026-11")
	require.Equal(t, http.StatusOK, code)
}
