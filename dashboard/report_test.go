package dashboard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
)

// The report tests' history: one expense request filed every working
// day from reportFrom, each waiting the planted stepWaits (finance is the
// bottleneck), every third rated 5, 4, 3, 5...
var reportFrom = time.Date(2026, 9, 1, 9, 0, 0, 0, workcal.Default().Location)

const (
	reportN     = 68
	reportEvery = 9 * time.Hour // one working day
)

// planned is the generator's plan of request i: when it is filed and
// when it ends (the same arithmetic as historyEvery).
func planned(i int) (filed, ended time.Time) {
	cal := workcal.Default()
	day := 9 * time.Hour
	add := func(at time.Time, w time.Duration) time.Time { return cal.Add(at, (w/day)*24*time.Hour+w%day) }
	filed = add(cal.Add(reportFrom, 0), time.Duration(i)*reportEvery)
	ended = filed
	for _, s := range []string{"manager", "finance", "cfo"} {
		ended = add(ended, stepWaits[s])
	}
	return filed, ended
}

// monthWeeks is the span a month's figures cover: the weeks from the
// one of its first day to the last one starting in it.
func monthWeeks(month time.Time) (lo, hi time.Time) {
	monday := func(t time.Time) time.Time {
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
	lo = monday(month)
	hi = monday(month.AddDate(0, 1, -1)).AddDate(0, 0, 7)
	return lo, hi
}

// expected counts, from the plan, the requests filed and ended in
// month's weeks, and the mean rating of those rated then.
func expected(month time.Time) (filed, ended, ratings int, satisfaction float64) {
	lo, hi := monthWeeks(month)
	in := func(t time.Time) bool { return !t.Before(lo) && t.Before(hi) }
	sum := 0
	for i := range reportN {
		f, e := planned(i)
		if in(f) {
			filed++
		}
		if in(e) {
			ended++
			if i%3 == 0 {
				ratings++
				sum += 5 - (i/3)%3
			}
		}
	}
	if ratings > 0 {
		satisfaction = float64(sum) / float64(ratings)
	}
	return filed, ended, ratings, satisfaction
}

var secret = []byte("0123456789abcdef0123456789abcdef-report")

type reportEnv struct {
	srv    *httptest.Server // the dashboard as signed-in users reach it
	public *httptest.Server // what a signed link opens without signing in
	signer *dashboard.ReportSigner
	clock  *time.Time
}

// reportServer serves the dashboard over a with report links signed
// under secret; only "sunli" (expense's owner) may open them.
func reportServer(t testing.TB, a *flowstats.Aggregate, charts dashboard.ChartStore) *reportEnv {
	t.Helper()
	defs := exampleFlows(t)
	clock := now
	env := &reportEnv{clock: &clock}
	signer, err := dashboard.NewReportSigner(secret, 7*24*time.Hour, func() time.Time { return *env.clock })
	require.NoError(t, err)
	env.signer = signer
	h := dashboard.New(dashboard.Config{Aggregate: a, Now: func() time.Time { return now },
		Flows:   func(context.Context) ([]*flowdef.Definition, error) { return defs, nil },
		Reports: signer, Charts: charts,
		ReportAccess: func(_ context.Context, viewer, flow string) (bool, error) {
			if viewer == "broken" {
				return false, errors.New("directory down")
			}
			return viewer == "sunli" && flow == "expense", nil
		}})
	env.srv = httptest.NewServer(h)
	t.Cleanup(env.srv.Close)
	env.public = httptest.NewServer(h.Public())
	t.Cleanup(env.public.Close)
	return env
}

func reportHistory(t testing.TB) *flowstats.Aggregate {
	t.Helper()
	return historyEvery(t, reportN, reportEvery, reportFrom)
}

// cell returns the text of column col ("now", "before" or the change) of
// the figures row key.
func cell(t testing.TB, page, key, col string) string {
	t.Helper()
	re := regexp.MustCompile(`<tr data-row="` + key + `"><td>[^<]*</td><td class="now">([^<]*)</td><td class="before">([^<]*)</td><td[^>]*>([^<]*)</td></tr>`)
	m := re.FindStringSubmatch(page)
	require.NotNil(t, m, "no row %s in the report", key)
	switch col {
	case "now":
		return m[1]
	case "before":
		return m[2]
	}
	return m[3]
}

func TestReportShowsTheMonthsFigures(t *testing.T) {
	t.Parallel()
	env := reportServer(t, reportHistory(t), nil)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, workcal.Default().Location)
	filed, ended, ratings, sat := expected(nov)
	bFiled, bEnded, bRatings, bSat := expected(nov.AddDate(0, -1, 0))
	require.NotZero(t, filed)
	require.NotZero(t, bFiled)
	require.NotEqual(t, filed, bFiled, "the months differ, so the change shows")

	code, page := get(t, env.srv.URL+"/report?flow=expense&month=2026-11&lang=en")
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Process health report · Expense claim")
	require.Equal(t, fmt.Sprint(filed), cell(t, page, "volume", "now"))
	require.Equal(t, fmt.Sprint(bFiled), cell(t, page, "volume", "before"))
	require.Equal(t, fmt.Sprintf("%+.0f%%", 100*float64(filed-bFiled)/float64(bFiled)), cell(t, page, "volume", "change"))
	require.Equal(t, fmt.Sprint(ended), cell(t, page, "ended", "now"))
	require.Equal(t, fmt.Sprint(bEnded), cell(t, page, "ended", "before"))
	// Every request takes 1 + 20 + 3 working hours: 2.7 working days of 9 hours.
	require.Equal(t, "2.7", cell(t, page, "median", "now"))
	require.Equal(t, "2.7", cell(t, page, "p90", "now"))
	require.Equal(t, "+0%", cell(t, page, "median", "change"))
	require.Equal(t, "0%", cell(t, page, "failure", "now"))
	require.Equal(t, "+0 pt", cell(t, page, "failure", "change"))
	require.Equal(t, fmt.Sprintf("%.1f / 5 (%d)", sat, ratings), cell(t, page, "satisfaction", "now"))
	require.Equal(t, fmt.Sprintf("%.1f / 5 (%d)", bSat, bRatings), cell(t, page, "satisfaction", "before"))
	// The planted bottleneck, in words.
	require.Regexp(t, `data-testid="bottleneck" data-step="finance">Expense claim: 8[0-9]% of waiting time is in Finance approval`, page)
	require.Contains(t, page, "median 2.2 working days")
	require.Regexp(t, `<tr data-step="finance"><td>Finance approval</td><td>\d+</td><td>8[0-9]%</td><td>2.2</td></tr>`, page)
	// Printable.
	require.Contains(t, page, "@media print")
	require.Contains(t, page, "window.print()")

	_, zh := get(t, env.srv.URL+"/report?flow=expense&month=2026-11")
	require.Contains(t, zh, "流程健康月报 · 报销")
	require.Regexp(t, `报销：8[0-9]% 的等待时间在「财务审批」`, zh)
	require.Contains(t, zh, "打印 / 存为 PDF")

	// The chart is a PNG of the chart's size.
	src := regexp.MustCompile(`<img class="chart" data-testid="chart" src="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, src)
	resp, err := http.Get(env.srv.URL + "/" + strings.ReplaceAll(src[1], "&amp;", "&"))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	img, err := png.Decode(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 720, img.Bounds().Dx())

	// A month without requests says so.
	code, page = get(t, env.srv.URL+"/report?flow=expense&month=2026-01&lang=en")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "0", cell(t, page, "volume", "now"))
	require.Contains(t, page, "Nothing waited this month.")
}

func TestReportSignedLinkOpensWithoutSignIn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := blobs.NewLocal(dir)
	require.NoError(t, err)
	kept := []byte("\x89PNG\r\n\x1a\n the chart as sent")
	key := blobs.NewKey()
	require.NoError(t, store.Put(context.Background(), key, bytes.NewReader(kept), int64(len(kept))))
	env := reportServer(t, reportHistory(t), store)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, workcal.Default().Location)
	tok := env.signer.Token("expense", nov, "sunli", key)

	// The flow and month come from the link; the query cannot widen it.
	code, page := get(t, env.public.URL+"/report?t="+url.QueryEscape(tok)+"&flow=leave&month=2026-01&lang=en")
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Process health report · Expense claim")
	require.Contains(t, page, `data-testid="period">2026-11 · counted by week: the weeks from Oct 26 to Dec 6, compared with the month before`)
	require.NotContains(t, page, "← dashboard", "a link holder is not signed in")
	filed, _, _, _ := expected(nov)
	require.Equal(t, fmt.Sprint(filed), cell(t, page, "volume", "now"))

	// Its chart is the one kept when the report was sent.
	resp, err := http.Get(env.public.URL + "/" + dashboard.ChartURL(tok))
	require.NoError(t, err)
	defer resp.Body.Close()
	var got bytes.Buffer
	_, _ = got.ReadFrom(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, kept, got.Bytes())

	// A link without a kept chart draws it.
	tok2 := env.signer.Token("expense", nov, "sunli", "")
	resp2, err := http.Get(env.public.URL + "/" + dashboard.ChartURL(tok2))
	require.NoError(t, err)
	defer resp2.Body.Close()
	_, err = png.Decode(resp2.Body)
	require.NoError(t, err)
}

func TestReportRefusesBadInput(t *testing.T) {
	t.Parallel()
	env := reportServer(t, reportHistory(t), nil)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, workcal.Default().Location)
	good := env.signer.Token("expense", nov, "sunli", "")
	payload, sig, _ := strings.Cut(good, ".")
	// The same grant for another flow, signed with another secret.
	other, err := dashboard.NewReportSigner([]byte("another secret of thirty-two bytes!!"), time.Hour, func() time.Time { return now })
	require.NoError(t, err)
	// An old link: made 8 days ago, it lasted 7.
	*env.clock = now.AddDate(0, 0, -8)
	old := env.signer.Token("expense", nov, "sunli", "")
	*env.clock = now
	tests := []struct {
		name, path string
		public     bool
		code       int
		says       string
	}{
		{"unknown flow", "/report?flow=nope&month=2026-11&lang=en", false, 404, `no flow "nope"`},
		{"malformed flow", "/report?flow=../x&month=2026-11&lang=en", false, 400, "malformed flow id"},
		{"no flow", "/report?month=2026-11&lang=en", false, 400, "missing or malformed flow id"},
		{"month 13", "/report?flow=expense&month=2026-13&lang=en", false, 400, `month must be YYYY-MM, e.g. 2026-11, not "2026-13"`},
		{"month with day", "/report?flow=expense&month=2026-11-01&lang=en", false, 400, "month must be YYYY-MM"},
		{"no month", "/report?flow=expense&lang=en", false, 400, "month must be YYYY-MM"},
		{"short year", "/report?flow=expense&month=26-11&lang=en", false, 400, "month must be YYYY-MM"},
		{"future month", "/report?flow=expense&month=2027-01&lang=en", false, 400, "has not begun yet"},
		{"bad language", "/report?flow=expense&month=2026-11&lang=fr", false, 400, "unknown language"},
		{"zh refusal says both", "/report?flow=nope&month=2026-11", false, 404, `没有流程 "nope" / no flow "nope"`},
		{"chart of unknown flow", "/report/chart.png?flow=nope&month=2026-11&lang=en", false, 404, `no flow "nope"`},
		{"no link, no sign-in", "/report?flow=expense&month=2026-11&lang=en", true, 403, "Sign in first."},
		{"forged signature", "/report?lang=en&t=" + payload + "." + strings.Repeat("A", len(sig)), true, 403, "not valid (altered or forged)"},
		{"altered grant", "/report?lang=en&t=" + alter(t, payload) + "." + sig, true, 403, "not valid (altered or forged)"},
		{"other secret", "/report?lang=en&t=" + url.QueryEscape(other.Token("expense", nov, "sunli", "")), true, 403, "not valid"},
		{"garbage", "/report?lang=en&t=%00%ff..", true, 403, "not valid"},
		{"empty token", "/report?lang=en&t=", true, 403, "not valid"},
		{"expired", "/report?lang=en&t=" + url.QueryEscape(old), true, 410, "has expired"},
		{"expired chart", "/report/chart.png?lang=en&t=" + url.QueryEscape(old), true, 410, "has expired"},
		{"viewer no longer allowed", "/report?lang=en&t=" + url.QueryEscape(env.signer.Token("expense", nov, "mallory", "")), true, 403, "no longer see"},
		{"other flow not allowed", "/report?lang=en&t=" + url.QueryEscape(env.signer.Token("leave", nov, "sunli", "")), true, 403, "no longer see"},
		{"directory down", "/report?lang=en&t=" + url.QueryEscape(env.signer.Token("expense", nov, "broken", "")), true, 500, "unavailable"},
		{"csv not public", "/csv?t=" + url.QueryEscape(good), true, 404, ""},
		{"dashboard not public", "/?t=" + url.QueryEscape(good), true, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := env.srv.URL
			if tt.public {
				base = env.public.URL
			}
			code, page := get(t, base+tt.path)
			page = html.UnescapeString(page)
			require.Equal(t, tt.code, code, page)
			require.Contains(t, page, tt.says)
			require.NotContains(t, page, `data-testid="figures"`, "a refused request shows no figures")
		})
	}
}

// alter changes the flow the payload grants: the signature no longer
// matches.
func alter(t *testing.T, payload string) string {
	t.Helper()
	// base64 of {"f":"expense"... : flip one character in the middle.
	b := []byte(payload)
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	return string(b)
}

func TestReportSignerRefusesBadSetup(t *testing.T) {
	t.Parallel()
	_, err := dashboard.NewReportSigner([]byte("short"), time.Hour, nil)
	require.ErrorContains(t, err, "too short")
	_, err = dashboard.NewReportSigner(secret, 0, nil)
	require.ErrorContains(t, err, "positive")
}

func TestReportLinkRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := dashboard.NewReportSigner(secret, time.Hour, func() time.Time { return now })
	require.NoError(t, err)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	key := blobs.NewKey()
	g, err := s.Verify(s.Token("expense", nov, "sunli", key))
	require.NoError(t, err)
	require.Equal(t, dashboard.ReportGrant{Flow: "expense", Month: "2026-11", Viewer: "sunli", Chart: key, Expires: now.Add(time.Hour).Unix()}, g)
	// An attachment link's token is no report token, even under the
	// same secret.
	bs, err := blobs.NewSigner(secret, time.Hour, func() time.Time { return now })
	require.NoError(t, err)
	_, err = s.Verify(bs.Token(blobs.Blob{Key: key, Name: "x.png", Type: "image/png"}, 1, "sunli"))
	require.ErrorIs(t, err, dashboard.ErrLinkForged)
}
