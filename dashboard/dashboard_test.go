package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/examples"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
)

var now = time.Date(2026, 12, 4, 10, 0, 0, 0, workcal.Default().Location)

// stepWaits are the planted working-time waits of the expense flow's
// steps: finance is the bottleneck.
var stepWaits = map[string]time.Duration{"manager": time.Hour, "finance": 20 * time.Hour, "cfo": 3 * time.Hour}

// history folds n expense requests, one every working 2 hours from 12
// weeks ago, each step waiting its planted time; applicants alternate
// between eng and sales.
func history(t testing.TB, n int) *flowstats.Aggregate {
	t.Helper()
	return historyEvery(t, n, 2*time.Hour, now.AddDate(0, 0, -7*12))
}

// historyEvery is history with a request filed every working `every`
// from start.
func historyEvery(t testing.TB, n int, every time.Duration, from time.Time) *flowstats.Aggregate {
	t.Helper()
	cal := workcal.Default()
	day := 9 * time.Hour
	add := func(at time.Time, w time.Duration) time.Time { return cal.Add(at, (w/day)*24*time.Hour+w%day) }
	a := flowstats.NewAggregate(cal)
	a.SetDirectory([]*flows.User{{ID: "ann", Dept: "eng"}, {ID: "bo", Dept: "sales"}})
	var evs []*flows.Event
	start := cal.Add(from, 0)
	data := func(m map[string]any) json.RawMessage { b, _ := json.Marshal(m); return b }
	task := int64(0)
	for i := range n {
		id := int64(i + 1)
		at := add(start, time.Duration(i)*every)
		who := []string{"ann", "bo"}[i%2]
		evs = append(evs, &flows.Event{InstanceID: id, FlowID: "expense", Type: flows.EvSubmitted, Actor: who, Data: data(map[string]any{"version": 1}), At: at})
		for _, s := range []string{"manager", "finance", "cfo"} {
			task++
			evs = append(evs, &flows.Event{InstanceID: id, FlowID: "expense", StepID: s, TaskID: task, Type: flows.EvTaskCreated, Data: data(map[string]any{"assignee": s + "_boss", "status": "pending"}), At: at})
			at = add(at, stepWaits[s])
			evs = append(evs, &flows.Event{InstanceID: id, FlowID: "expense", StepID: s, TaskID: task, Type: flows.EvApproved, Actor: s + "_boss", At: at})
		}
		evs = append(evs, &flows.Event{InstanceID: id, FlowID: "expense", Type: flows.EvCompleted, Data: data(map[string]any{"status": "approved"}), At: at})
		if i%3 == 0 { // every third applicant rates: 5, 4, 3, 5, 4, 3...
			evs = append(evs, &flows.Event{InstanceID: id, FlowID: "expense", Type: flows.EvRated, Actor: who, Data: data(map[string]any{"score": 5 - (i/3)%3}), At: at})
		}
	}
	for i, e := range evs {
		e.ID = int64(i + 1)
	}
	a.Apply(evs...)
	return a
}

func exampleFlows(t testing.TB) []*flowdef.Definition {
	t.Helper()
	var defs []*flowdef.Definition
	for _, f := range []string{"expense", "leave", "purchase"} {
		src, err := examples.FS.ReadFile("flows/" + f + ".yaml")
		require.NoError(t, err)
		d, err := flowdef.Parse(f+".yaml", src)
		require.NoError(t, err)
		defs = append(defs, d)
	}
	return defs
}

func server(t testing.TB, a *flowstats.Aggregate) *httptest.Server {
	t.Helper()
	defs := exampleFlows(t)
	h := dashboard.New(dashboard.Config{Aggregate: a, Now: func() time.Time { return now },
		Flows: func(context.Context) ([]*flowdef.Definition, error) { return defs, nil }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// fillOf returns the fill of the heat map box of step in page.
func fillOf(t testing.TB, page, step string) string {
	t.Helper()
	m := regexp.MustCompile(`data-step="` + step + `"[^>]*fill="(#[0-9a-f]{6})"`).FindStringSubmatch(page)
	require.NotNil(t, m, "no box for step %s", step)
	return m[1]
}

func TestHeatMapMarksThePlantedBottleneck(t *testing.T) {
	t.Parallel()
	srv := server(t, history(t, 300))
	code, page := get(t, srv.URL+"/?lang=en")
	require.Equal(t, http.StatusOK, code)
	hottest := dashboard.Heat[len(dashboard.Heat)-1]
	require.Equal(t, hottest, fillOf(t, page, "finance"))
	require.NotEqual(t, hottest, fillOf(t, page, "manager"))
	require.NotEqual(t, hottest, fillOf(t, page, "cfo"))
	// 20h of 24h waited per request is in finance: 83%; median 20h = 2.2 working days.
	require.Contains(t, page, "83% of waiting time is in")
	require.Contains(t, page, "median 2.2 working days")
	require.Contains(t, page, "Process dashboard")
	require.Contains(t, page, "Satisfaction <b>4.0</b> / 5")
	// Every planted request takes 24 working hours: each past forecast,
	// drawn from the weeks before it, is exact.
	require.Contains(t, page, `data-flow="expense">Forecast accuracy (the last 200 approved requests, each forecast from the weeks before it only): 100% finished by the p90 forecast, 100% within a quarter of the median forecast; median error 0.0 working days.`)
	require.NotContains(t, page, "wait longest", "both departments wait alike: none is named")

	_, zh := get(t, srv.URL+"/?lang=zh")
	require.Contains(t, zh, "流程看板")
	require.Contains(t, zh, "83% 的等待时间在")

	// Filters: one department keeps the planted figures; the csv agrees.
	code, page = get(t, srv.URL+"/?lang=en&flow=expense&dept=sales&weeks=13")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, hottest, fillOf(t, page, "finance"))
	code, csv := get(t, srv.URL+"/csv?flow=expense&weeks=13")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, csv, "step,expense,finance,,")
	require.Regexp(t, `step,expense,finance,,\d+,\d+,0,,0,0,20.00,20.00,`, csv)
}

func TestBadFiltersAreRefused(t *testing.T) {
	t.Parallel()
	a := history(t, 50)
	srv := server(t, a)
	before := a.Summary(flowstats.Filter{})
	for _, q := range []string{"weeks=0", "weeks=-3", "weeks=abc", "weeks=105", "weeks=1e3", "flow=nope", "flow=%3Cscript%3E", "dept=nowhere",
		"dept=" + strings.Repeat("x", 65), "lang=fr", "flow=expense&weeks=", "flow=../etc"} {
		for _, path := range []string{"/", "/csv"} {
			code, body := get(t, srv.URL+path+"?"+q)
			if strings.HasSuffix(q, "weeks=") {
				require.Equal(t, http.StatusOK, code, "an empty period is the default: %s", q)
				continue
			}
			require.Equal(t, http.StatusBadRequest, code, "%s%s", path, q)
			require.NotContains(t, body, "<script>", q)
		}
	}
	code, body := get(t, srv.URL+"/?weeks=0&lang=en")
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, fmt.Sprintf("period must be 1 to %d weeks, not %q\n", 104, "0"), body)
	_, body = get(t, srv.URL+"/?weeks=0")
	require.Contains(t, body, "周期须为 1 到 104 周")
	require.Equal(t, before, a.Summary(flowstats.Filter{}), "nothing changed")
	code, _ = get(t, srv.URL+"/nothing-here")
	require.Equal(t, http.StatusNotFound, code)
}

// TestDiagramShowsEveryStepAndCondition: the flow's diagram draws every
// step (an http step too), each conditional step with its condition and an
// else path around it, and colours only approval steps by their wait.
func TestDiagramShowsEveryStepAndCondition(t *testing.T) {
	t.Parallel()
	srv := server(t, history(t, 300))
	tests := []struct {
		lang, flow string
		steps      []string
		conditions map[string]string // step -> its condition as shown
		kinds      map[string]string
	}{
		{"en", "expense", []string{"manager", "finance", "cfo"},
			map[string]string{"finance": "if amount &gt; 5000", "cfo": "if amount &gt; 50000"}, map[string]string{"cfo": "approve"}},
		{"zh", "expense", []string{"manager", "finance", "cfo"}, map[string]string{"finance": "若 amount &gt; 5000"}, nil},
		{"en", "purchase", []string{"dept_head", "erp"}, nil, map[string]string{"erp": "http"}},
	}
	for _, tc := range tests {
		t.Run(tc.lang+"/"+tc.flow, func(t *testing.T) {
			t.Parallel()
			code, page := get(t, srv.URL+"/?lang="+tc.lang+"&flow="+tc.flow)
			require.Equal(t, http.StatusOK, code)
			m := regexp.MustCompile(`(?s)<svg class="heat" data-flow="` + tc.flow + `".*?</svg>`).FindString(page)
			require.NotEmpty(t, m, "no diagram for %s", tc.flow)
			var got []string
			for _, x := range regexp.MustCompile(`data-step="([a-z_]+)"`).FindAllStringSubmatch(m, -1) {
				got = append(got, x[1])
			}
			require.Equal(t, tc.steps, got, "every step, in order")
			for step, cond := range tc.conditions {
				require.Regexp(t, `data-when="`+step+`"[^>]*>`+regexp.QuoteMeta(cond)+`<`, m)
			}
			require.Equal(t, len(tc.conditions) > 0 || tc.flow == "expense", strings.Contains(m, `class="else"`))
			require.Equal(t, strings.Count(m, `class="when"`), strings.Count(m, `class="else"`), "one else path per condition")
			for step, kind := range tc.kinds {
				require.Regexp(t, `data-kind="`+kind+`"><rect data-step="`+step+`"`, m)
			}
		})
	}
	_, page := get(t, srv.URL+"/?lang=en&flow=purchase")
	require.Contains(t, page, `data-step="erp" x="`)
	require.Regexp(t, `data-step="erp"[^>]*fill="#ffffff"[^>]*stroke-dasharray`, page, "an http step is not coloured by a wait")
	require.Contains(t, page, "Median wait: 0")
}

// historyOutcomes folds n expense requests (filed a working 2 hours apart
// from 12 weeks ago, each step deciding after an hour) with planted
// outcomes: i%10 == 0 finance returns it to the applicant, who resubmits;
// i%10 == 1 cfo sends it back to finance; i%10 == 2 the applicant
// withdraws it while finance has it. So per 10 requests (all end): 1
// returned, 1 sent back, 1 withdrawn; finance decides 11 times (1 return),
// cfo 10 times (1 send-back).
func historyOutcomes(t testing.TB, n int) *flowstats.Aggregate {
	t.Helper()
	cal := workcal.Default()
	a := flowstats.NewAggregate(cal)
	a.SetDirectory([]*flows.User{{ID: "ann", Dept: "eng"}})
	var evs []*flows.Event
	data := func(m map[string]any) json.RawMessage { b, _ := json.Marshal(m); return b }
	task := int64(0)
	steps := []string{"manager", "finance", "cfo"}
	for i := range n {
		id := int64(i + 1)
		at := cal.Add(now.AddDate(0, 0, -7*12), time.Duration(i)*2*time.Hour)
		ev := func(typ flows.EventType, step string, task int64, actor string, d map[string]any) {
			e := &flows.Event{InstanceID: id, FlowID: "expense", StepID: step, TaskID: task, Type: typ, Actor: actor, At: at}
			if d != nil {
				e.Data = data(d)
			}
			evs = append(evs, e)
		}
		ev(flows.EvSubmitted, "", 0, "ann", map[string]any{"version": 1})
		returned, sentBack := i%10 == 0, i%10 == 1
	route:
		for k := 0; k < len(steps); k++ {
			s := steps[k]
			task++
			ev(flows.EvTaskCreated, s, task, flows.System, map[string]any{"assignee": s + "_boss", "status": "pending"})
			at = cal.Add(at, time.Hour)
			switch {
			case s == "finance" && i%10 == 2:
				ev(flows.EvWithdrawn, s, 0, "ann", nil)
				break route
			case s == "finance" && returned:
				returned = false
				ev(flows.EvRejected, s, task, s+"_boss", map[string]any{"outcome": "return"})
				ev(flows.EvReturned, s, 0, s+"_boss", map[string]any{"step": s})
				ev(flows.EvResubmitted, "", 0, "ann", nil)
				k = -1
			case s == "cfo" && sentBack:
				sentBack = false
				ev(flows.EvRejected, s, task, s+"_boss", map[string]any{"outcome": "send_back", "to": "finance"})
				ev(flows.EvSentBack, s, 0, s+"_boss", map[string]any{"step": s, "to": "finance"})
				k = 0
			default:
				ev(flows.EvApproved, s, task, s+"_boss", nil)
				if k == len(steps)-1 {
					ev(flows.EvCompleted, "", 0, flows.System, map[string]any{"status": "approved"})
				}
			}
		}
	}
	for i, e := range evs {
		e.ID = int64(i + 1)
	}
	a.Apply(evs...)
	return a
}

// The flow's return, send-back and withdrawal rates and each step's, as
// planted, on the page (both languages) and in the CSV.
func TestRatesPerFlowAndStep(t *testing.T) {
	t.Parallel()
	srv := server(t, historyOutcomes(t, 200))
	code, page := get(t, srv.URL+"/?lang=en&flow=expense")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, `data-flow="expense">Ended 200 · rejected 0% · returned to the applicant 10% · sent back to an earlier step 10% · withdrawn 10%</p>`)
	cell := func(page, step, class string) string {
		t.Helper()
		m := regexp.MustCompile(`<tr data-step="` + step + `">.*?<td class="` + class + `">([^<]*)</td>`).FindStringSubmatch(page)
		require.NotNil(t, m, "no %s cell for %s", class, step)
		return m[1]
	}
	for _, tt := range []struct{ step, class, want string }{
		{"finance", "ret", "9%"}, // 1 of 11 decisions
		{"finance", "back", "0%"},
		{"cfo", "back", "10%"}, // 1 of 10
		{"cfo", "ret", "0%"},
		{"manager", "ret", "0%"},
	} {
		require.Equal(t, tt.want, cell(page, tt.step, tt.class), "%s %s", tt.step, tt.class)
	}
	_, zh := get(t, srv.URL+"/?lang=zh&flow=expense")
	require.Contains(t, zh, "已结束 200 · 驳回率 0% · 退回申请人率 10% · 退回前面环节率 10% · 撤回率 10%")
	_, csv := get(t, srv.URL+"/csv?flow=expense")
	require.Contains(t, csv, ",return_rate,send_back_rate,withdrawal_rate\n")
	require.Regexp(t, `(?m)^flow,expense,.*,0\.1000,0\.1000,0\.1000$`, csv)
	require.Regexp(t, `(?m)^step,expense,cfo,.*,0\.0000,0\.1000,$`, csv)
}

// gatedSource is an event log whose first read waits for open to close.
type gatedSource struct {
	evs  []*flows.Event
	open chan struct{}
}

func (g *gatedSource) Events(ctx context.Context, f flows.EventFilter) ([]*flows.Event, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var out []*flows.Event
	for _, e := range g.evs {
		if e.ID > f.AfterID && (f.Limit == 0 || len(out) < f.Limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (g *gatedSource) Users(context.Context) ([]*flows.User, error) { return nil, nil }

// While the statistics rebuild after a start, the page answers at once
// with 503 "warming up" (reloading itself) and the CSV likewise; once the
// rebuild is done, the figures.
func TestWarmingUpAnswersAtOnce(t *testing.T) {
	t.Parallel()
	a := flowstats.NewAggregate(workcal.Default())
	src := &gatedSource{evs: []*flows.Event{{ID: 1, InstanceID: 1, FlowID: "expense", Type: flows.EvSubmitted, Actor: "ann", At: now.Add(-time.Hour)}}, open: make(chan struct{})}
	defs := exampleFlows(t)
	h := dashboard.New(dashboard.Config{Aggregate: a, Now: func() time.Time { return now },
		Refresh: func(ctx context.Context) error { _, err := a.Update(ctx, src); return err },
		Flows:   func(context.Context) ([]*flowdef.Definition, error) { return defs, nil }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	done := a.Warm(context.Background(), src)
	require.True(t, a.Warming())
	for _, tt := range []struct{ path, want string }{
		{"/?lang=en", "Statistics are warming up"},
		{"/", "统计正在预热"},
		{"/csv", "统计正在预热"},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, tt.path)
		require.Equal(t, "5", resp.Header.Get("Retry-After"))
		require.Contains(t, string(body), tt.want)
		require.Contains(t, string(body), `http-equiv="refresh"`)
	}
	close(src.open)
	require.NoError(t, <-done)
	require.False(t, a.Warming())
	code, page := get(t, srv.URL+"/?lang=en")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, "Filed <b>1</b>")
}
