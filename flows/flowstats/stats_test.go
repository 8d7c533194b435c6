package flowstats_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

var day = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time  { return day.Add(d) }
func pt(d time.Duration) *time.Time { t := at(d); return &t }
func h(n float64) time.Duration     { return time.Duration(n * float64(time.Hour)) }
func ds(hs ...float64) []time.Duration {
	var out []time.Duration
	for _, x := range hs {
		out = append(out, h(x))
	}
	return out
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   []time.Duration
		want flowstats.Timing
	}{
		{"empty", nil, flowstats.Timing{}},
		{"one", ds(3), flowstats.Timing{N: 1, Median: h(3), P90: h(3)}},
		{"odd count, unsorted", ds(5, 1, 3), flowstats.Timing{N: 3, Median: h(3), P90: h(5)}},
		{"even count: mean of the middle two", ds(4, 1, 2, 8), flowstats.Timing{N: 4, Median: h(3), P90: h(8)}},
		{"p90 of ten is the ninth", ds(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), flowstats.Timing{N: 10, Median: h(5.5), P90: h(9)}},
		{"p90 of eleven is the tenth", ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100), flowstats.Timing{N: 11, Median: h(6), P90: h(10)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := append([]time.Duration(nil), tc.in...)
			require.Equal(t, tc.want, flowstats.Summarize(tc.in))
			require.Equal(t, before, tc.in, "input unchanged")
		})
	}
}

func TestOverdue(t *testing.T) {
	t.Parallel()
	now := at(h(10))
	cases := []struct {
		name string
		task flows.Task
		want bool
	}{
		{"reminded", flows.Task{Status: flows.TaskApproved, Reminders: 1, DecidedAt: pt(h(1))}, true},
		{"escalated", flows.Task{Status: flows.TaskPending, Escalated: true}, true},
		{"timed out", flows.Task{Status: flows.TaskApproved, Auto: true, DecidedAt: pt(h(1))}, true},
		{"decided before deadline", flows.Task{Status: flows.TaskApproved, RemindAt: pt(h(2)), DecidedAt: pt(h(1))}, false},
		{"decided after deadline not yet ticked", flows.Task{Status: flows.TaskApproved, EscalateAt: pt(h(2)), DecidedAt: pt(h(3))}, true},
		{"pending past deadline", flows.Task{Status: flows.TaskPending, TimeoutAt: pt(h(9))}, true},
		{"pending before deadline", flows.Task{Status: flows.TaskPending, RemindAt: pt(h(11))}, false},
		{"no deadline", flows.Task{Status: flows.TaskPending}, false},
		{"cancelled without decision time", flows.Task{Status: flows.TaskCancelled, RemindAt: pt(h(1))}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, flowstats.Overdue(&tc.task, now))
		})
	}
}

// history is a small constructed history on day (window: the day).
func history() *flowstats.Rows {
	closed := func(d float64) *time.Time { return pt(h(d)) }
	ins := []*flows.Instance{
		{ID: 1, FlowID: "leave", Applicant: "alice", Status: flows.StatusApproved, CreatedAt: at(0), ClosedAt: closed(4)},
		{ID: 2, FlowID: "leave", Applicant: "bob", Status: flows.StatusRejected, CreatedAt: at(0), ClosedAt: closed(2)},
		{ID: 3, FlowID: "leave", Applicant: "carol", Status: flows.StatusWithdrawn, CreatedAt: at(h(1)), ClosedAt: closed(2)},
		{ID: 4, FlowID: "leave", Applicant: "carol", Status: flows.StatusPending, CreatedAt: at(h(2))},
		// filed the day before, approved in the window
		{ID: 5, FlowID: "leave", Applicant: "alice", Status: flows.StatusApproved, CreatedAt: at(-h(20)), ClosedAt: closed(4)},
		{ID: 6, FlowID: "expense", Applicant: "bob", Status: flows.StatusApproved, CreatedAt: at(h(1)), ClosedAt: closed(9)},
		// filed after the window
		{ID: 7, FlowID: "leave", Applicant: "alice", Status: flows.StatusPending, CreatedAt: at(h(30))},
	}
	ts := []*flows.Task{
		{ID: 11, InstanceID: 1, StepID: "mgr", Assignee: "mia", Status: flows.TaskApproved, CreatedAt: at(0), StartedAt: pt(0), DecidedAt: pt(h(1))},
		{ID: 12, InstanceID: 1, StepID: "hr", Assignee: "hana", Status: flows.TaskApproved, CreatedAt: at(h(1)), StartedAt: pt(h(1)), DecidedAt: pt(h(4))},
		{ID: 21, InstanceID: 2, StepID: "mgr", Assignee: "mia", Status: flows.TaskRejected, CreatedAt: at(0), StartedAt: pt(0), DecidedAt: pt(h(2)), RemindAt: pt(h(1))},
		{ID: 31, InstanceID: 3, StepID: "mgr", Assignee: "mia", Status: flows.TaskCancelled, CreatedAt: at(h(1)), StartedAt: pt(h(1)), DecidedAt: pt(h(2))},
		{ID: 41, InstanceID: 4, StepID: "mgr", Assignee: "mia", Status: flows.TaskPending, CreatedAt: at(h(2)), StartedAt: pt(h(2)), RemindAt: pt(h(3))},
		{ID: 42, InstanceID: 4, StepID: "hr", Assignee: "hana", Status: flows.TaskQueued, CreatedAt: at(h(2))},
		{ID: 51, InstanceID: 5, StepID: "hr", Assignee: "hana", Status: flows.TaskApproved, CreatedAt: at(-h(20)), StartedAt: pt(-h(20)), DecidedAt: pt(h(4)), Reminders: 2},
		{ID: 61, InstanceID: 6, StepID: "boss", Assignee: "mia", Status: flows.TaskApproved, CreatedAt: at(h(1)), StartedAt: pt(h(1)), DecidedAt: pt(h(9))},
		{ID: 71, InstanceID: 7, StepID: "mgr", Assignee: "mia", Status: flows.TaskPending, CreatedAt: at(h(30)), StartedAt: pt(h(30))},
	}
	users := []*flows.User{{ID: "alice", Dept: "eng"}, {ID: "bob", Dept: "eng"}, {ID: "carol", Dept: "sales"}}
	return &flowstats.Rows{Instances: ins, Tasks: ts, Users: users}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	q := flowstats.Query{Since: day, Until: day.Add(24 * time.Hour), Now: at(h(10))}
	r := flowstats.Build(history(), q)

	require.Equal(t, flowstats.Counts{Submitted: 5, Approved: 3, Rejected: 1, Withdrawn: 1, Pending: 1}, r.Total.Counts)
	require.Equal(t, flowstats.Timing{N: 4, Median: h(6), P90: h(24)}, r.Total.Decision) // 2h, 4h, 8h, 24h
	require.InDelta(t, 0.25, r.Total.RejectionRate, 1e-9)
	// judged: 11, 12, 21, 31, 41, 51, 61 (42 queued, 71 outside); overdue: 21, 41, 51
	require.Equal(t, 7, r.Total.Tasks)
	require.Equal(t, 3, r.Total.Overdue)
	require.Equal(t, 1, r.Total.OverdueOpen)
	require.InDelta(t, 3.0/7, r.Total.OverdueRate, 1e-9)

	leave := r.Flow("leave")
	require.NotNil(t, leave)
	require.Equal(t, flowstats.Counts{Submitted: 4, Approved: 2, Rejected: 1, Withdrawn: 1, Pending: 1}, leave.Counts)
	require.InDelta(t, 1.0/3, leave.RejectionRate, 1e-9)
	require.Equal(t, "hr", leave.Bottleneck, "hr waits 3h and 24h, mgr 1h and 2h")
	require.Equal(t, h(13.5), leave.BottleneckWait)
	exp := r.Flow("expense")
	require.Equal(t, "boss", exp.Bottleneck)
	require.Equal(t, h(8), exp.Decision.Median)

	mgr := r.Step("leave", "mgr")
	require.Equal(t, flowstats.Counts{Submitted: 4, Approved: 1, Rejected: 1, Pending: 1}, mgr.Counts) // 11, 21, 31, 41 started
	require.Equal(t, flowstats.Timing{N: 2, Median: h(1.5), P90: h(2)}, mgr.Decision)
	require.InDelta(t, 0.5, mgr.RejectionRate, 1e-9)
	require.Equal(t, 4, mgr.Tasks) // 11, 21, 31, 41
	require.Equal(t, 2, mgr.Overdue)

	require.NotNil(t, r.Bottleneck)
	require.Equal(t, "leave", r.Bottleneck.FlowID)
	require.Equal(t, "hr", r.Bottleneck.StepID)

	mia := r.Approver("mia")
	require.Equal(t, 3, mia.Approved+mia.Rejected)
	require.Equal(t, flowstats.Timing{N: 3, Median: h(2), P90: h(8)}, mia.Decision)
	require.Equal(t, 1, mia.Pending)

	eng := r.Dept("eng")
	require.Equal(t, flowstats.Counts{Submitted: 3, Approved: 3, Rejected: 1}, eng.Counts)
	sales := r.Dept("sales")
	require.Equal(t, flowstats.Counts{Submitted: 2, Withdrawn: 1, Pending: 1}, sales.Counts)
	require.Equal(t, 1, sales.OverdueOpen)
}

func TestBuildScope(t *testing.T) {
	t.Parallel()
	base := flowstats.Query{Since: day, Until: day.Add(24 * time.Hour), Now: at(h(10))}
	cases := []struct {
		name       string
		depts      []string
		applicants []string
		flow       string
		want       flowstats.Counts
	}{
		{"all", nil, nil, "", flowstats.Counts{Submitted: 5, Approved: 3, Rejected: 1, Withdrawn: 1, Pending: 1}},
		{"one department", []string{"sales"}, nil, "", flowstats.Counts{Submitted: 2, Withdrawn: 1, Pending: 1}},
		{"one applicant", nil, []string{"bob"}, "", flowstats.Counts{Submitted: 2, Approved: 1, Rejected: 1}},
		{"department or applicant", []string{"sales"}, []string{"bob"}, "", flowstats.Counts{Submitted: 4, Approved: 1, Rejected: 1, Withdrawn: 1, Pending: 1}},
		{"one flow", nil, nil, "expense", flowstats.Counts{Submitted: 1, Approved: 1}},
		{"unknown department", []string{"nowhere"}, nil, "", flowstats.Counts{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := base
			q.Depts, q.Applicants, q.FlowID = tc.depts, tc.applicants, tc.flow
			r := flowstats.Build(history(), q)
			require.Equal(t, tc.want, r.Total.Counts)
		})
	}
}

func TestBuildEmpty(t *testing.T) {
	t.Parallel()
	r := flowstats.Build(nil, flowstats.Query{})
	require.Equal(t, flowstats.Stats{Key: "total"}, r.Total)
	require.Nil(t, r.Bottleneck)
	require.Nil(t, r.Flow("leave"))
}

func TestPredictFinish(t *testing.T) {
	t.Parallel()
	ins := history().Instances
	cases := []struct {
		flow    string
		elapsed time.Duration
		finish  time.Duration
		remain  time.Duration
	}{
		{"leave", 0, h(4), h(4)},     // approved 4h and 24h, rejected 2h
		{"leave", h(3), h(4), h(11)}, // 4h and 24h left 1h and 21h
		{"expense", h(1), h(8), h(7)},
		{"nothing", 0, 0, 0},
		{"leave", h(100), h(4), 0},
	}
	for _, tc := range cases {
		require.Equal(t, tc.finish, flowstats.PredictFinish(ins, tc.flow), tc.flow)
		require.Equal(t, tc.remain, flowstats.PredictRemaining(ins, tc.flow, tc.elapsed), "%s after %s", tc.flow, tc.elapsed)
	}
}

func TestExpandDepts(t *testing.T) {
	t.Parallel()
	depts := []*flows.Department{{ID: "exec"}, {ID: "eng", Parent: "exec"}, {ID: "web", Parent: "eng"}, {ID: "hr", Parent: "exec"}, {ID: "ops"}}
	require.Equal(t, []string{"eng", "web"}, flowstats.ExpandDepts(depts, []string{"eng"}))
	require.ElementsMatch(t, []string{"exec", "eng", "web", "hr"}, flowstats.ExpandDepts(depts, []string{"exec"}))
	require.Equal(t, []string{"gone"}, flowstats.ExpandDepts(depts, []string{"gone"}))
	require.Empty(t, flowstats.ExpandDepts(depts, nil))
}
