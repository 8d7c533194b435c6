package flowstats_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
)

// origin is a Monday 09:00 in Shanghai, the default calendar's zone.
var origin = time.Date(2026, 6, 1, 9, 0, 0, 0, workcal.Default().Location)

var planted = genParams{
	Requests:   2000,
	Base:       map[string]time.Duration{"mgr": 30 * time.Minute, "finance": 4 * time.Hour, "ceo": 20 * time.Minute},
	SalesExtra: 9 * time.Hour,
}

func built(t testing.TB, p genParams) (*flowstats.Aggregate, []*flows.Event, truth) {
	t.Helper()
	evs, tr := generate(p, origin)
	a := flowstats.NewAggregate(nil)
	a.SetDirectory(tr.users)
	a.Apply(evs...)
	return a, evs, tr
}

func TestAggregateMatchesPlantedHistory(t *testing.T) {
	t.Parallel()
	a, evs, tr := built(t, planted)
	s := a.Summary(flowstats.Filter{})
	require.Equal(t, evs[len(evs)-1].ID, s.Cursor)

	require.Equal(t, tr.submitted, s.Total.Submitted)
	require.Equal(t, tr.approved, s.Total.Approved)
	require.Equal(t, tr.rejected, s.Total.Rejected)
	require.Equal(t, tr.withdrawn, s.Total.Withdrawn)
	require.Equal(t, tr.sentBack, s.Total.SentBack)
	require.Equal(t, tr.sentBack, s.Total.Reworked)
	ended := float64(tr.approved + tr.rejected + tr.withdrawn)
	require.InDelta(t, float64(tr.rejected)/ended, s.Total.RejectionRate, 1e-9)
	require.InDelta(t, float64(tr.withdrawn)/ended, s.Total.WithdrawalRate, 1e-9)

	f := s.Flow("purchase")
	require.NotNil(t, f)
	require.Equal(t, "finance", f.Steps[0].StepID, "the planted bottleneck waits most")
	var total time.Duration
	for step, ws := range tr.waits {
		st := f.Step(step)
		require.NotNil(t, st, step)
		want := flowstats.Summarize(ws)
		require.Equal(t, want.N, st.WaitWork.N, step)
		require.Equal(t, want.Median, st.WaitWork.Median, step)
		require.Equal(t, want.P90, st.WaitWork.P90, step)
		require.Equal(t, tr.fridayPM[step], st.FridayPM, step)
		for _, w := range ws {
			total += w
		}
	}
	var fin time.Duration
	for _, w := range tr.waits["finance"] {
		fin += w
	}
	require.Equal(t, total, f.Waiting)
	require.InDelta(t, float64(fin)/float64(total), f.Step("finance").Share, 1e-9)
	// Finance waits (1..5) x 4h, sales +9h: eng 4,8,12,16,20; sales 13,17,21,25,29.
	require.Equal(t, 16*time.Hour+30*time.Minute, f.Step("finance").WaitWork.Median)
	require.Equal(t, tr.reminders, f.Step("finance").Reminders+f.Step("mgr").Reminders+f.Step("ceo").Reminders)
	require.Equal(t, tr.sentBack, f.Step("mgr").SentBack)
	require.Equal(t, 0, f.Step("ceo").SentBack)

	for dept, ws := range tr.deptWaits {
		d := s.Dept(dept)
		require.NotNil(t, d, dept)
		require.Equal(t, flowstats.Summarize(ws), d.DecisionWork, dept)
	}
	require.Equal(t, "sales", s.Depts[0].Dept, "sales waits longest")
	require.Equal(t, "fay", s.Approvers[0].Approver)

	// Filters: by department, approver, flow, period.
	sales := a.Summary(flowstats.Filter{Dept: "sales"})
	require.Equal(t, []string{"sales"}, deptIDs(sales))
	require.Equal(t, 21*time.Hour, sales.Flow("purchase").Step("finance").WaitWork.Median)
	require.Empty(t, a.Summary(flowstats.Filter{FlowID: "leave"}).Flows)
	fay := a.Summary(flowstats.Filter{Approver: "fay"})
	require.Len(t, fay.Approvers, 1)
	require.Equal(t, s.Total, fay.Total, "an approver filter narrows the waits, not the requests")
	weeks := 0
	for _, w := range s.Weeks {
		weeks += w.Submitted
	}
	require.Equal(t, tr.submitted, weeks)
	first := s.Weeks[0]
	one := a.Summary(flowstats.Filter{Since: first.Start, Until: first.Start.Add(7 * 24 * time.Hour)})
	require.Equal(t, first.Submitted, one.Total.Submitted)
	require.Len(t, one.Weeks, 1)
	require.Empty(t, a.Summary(flowstats.Filter{Since: origin.AddDate(-1, 0, 0), Until: origin.AddDate(0, 0, -7)}).Weeks)
}

func deptIDs(s *flowstats.Summary) []string {
	var out []string
	for _, d := range s.Depts {
		out = append(out, d.Dept)
	}
	return out
}

func TestAggregateIncrementalEqualsRebuild(t *testing.T) {
	t.Parallel()
	p := planted
	p.Requests = 500
	full, evs, tr := built(t, p)
	inc := flowstats.NewAggregate(nil)
	inc.SetDirectory(tr.users)
	for i := 0; i < len(evs); i += 97 {
		page := evs[i:min(i+97, len(evs))]
		inc.Apply(page...)
		inc.Apply(page...) // a page read twice counts once
	}
	require.Equal(t, full.Summary(flowstats.Filter{}), inc.Summary(flowstats.Filter{}))
}

func TestAggregateIgnoresBadEvents(t *testing.T) {
	t.Parallel()
	a := flowstats.NewAggregate(nil)
	at := origin
	a.Apply(
		nil,
		&flows.Event{ID: 1, InstanceID: 9, FlowID: "x", Type: flows.EvApproved, TaskID: 3, At: at}, // unknown request
		&flows.Event{ID: 2, InstanceID: 1, FlowID: "x", Type: flows.EvSubmitted, Actor: "u", Data: []byte(`{"version":"two"}`), At: at},
		&flows.Event{ID: 3, InstanceID: 1, FlowID: "x", Type: flows.EvApproved, TaskID: 77, At: at}, // unknown task
		&flows.Event{ID: 4, InstanceID: 1, FlowID: "x", Type: flows.EvTaskCreated, TaskID: 5, Data: []byte(`{not json`), At: at},
		&flows.Event{ID: 5, InstanceID: 1, FlowID: "x", Type: flows.EvCompleted, Data: []byte(`{"status":"approved"}`), At: at.Add(-time.Hour)}, // before submission
		&flows.Event{ID: 6, InstanceID: 1, FlowID: "x", Type: flows.EvCompleted, Data: []byte(`{"status":"approved"}`), At: at},                 // already closed
	)
	s := a.Summary(flowstats.Filter{})
	require.Equal(t, 1, s.Total.Submitted)
	require.Equal(t, 1, s.Total.Approved)
	require.Equal(t, time.Duration(0), s.Total.Decision.Median, "a negative duration counts as zero")
	require.Equal(t, int64(6), a.Cursor())
}

func TestAggregateCountsRatingsOncePerFinishedRequest(t *testing.T) {
	t.Parallel()
	a := flowstats.NewAggregate(nil)
	a.SetDirectory([]*flows.User{{ID: "u", Dept: "eng"}})
	at := origin
	rated := func(id, inst int64, data string) *flows.Event {
		return &flows.Event{ID: id, InstanceID: inst, FlowID: "x", Type: flows.EvRated, Actor: "u", Data: []byte(data), At: at}
	}
	a.Apply(
		&flows.Event{ID: 1, InstanceID: 1, FlowID: "x", Type: flows.EvSubmitted, Actor: "u", At: at},
		&flows.Event{ID: 2, InstanceID: 2, FlowID: "x", Type: flows.EvSubmitted, Actor: "u", At: at},
		&flows.Event{ID: 3, InstanceID: 3, FlowID: "x", Type: flows.EvSubmitted, Actor: "u", At: at},
		rated(4, 1, `{"score":5}`), // still open: not counted
		&flows.Event{ID: 5, InstanceID: 1, FlowID: "x", Type: flows.EvCompleted, Data: []byte(`{"status":"approved"}`), At: at},
		&flows.Event{ID: 6, InstanceID: 2, FlowID: "x", Type: flows.EvCompleted, Data: []byte(`{"status":"rejected"}`), At: at},
		rated(7, 1, `{"score":4}`),
		rated(8, 1, `{"score":1}`), // a second rating of the same request
		rated(9, 2, `{"score":9}`), // out of range
		rated(10, 2, `{"score":2}`),
		rated(11, 99, `{"score":3}`), // unknown request
	)
	s := a.Summary(flowstats.Filter{})
	require.Equal(t, 2, s.Total.Ratings)
	require.InDelta(t, 3.0, s.Total.Satisfaction, 1e-9)
	require.Equal(t, 2, s.Dept("eng").Ratings)
}
