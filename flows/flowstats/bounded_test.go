package flowstats_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// within: a figure read from histograms is within the stated error of
// the exact one (durations_test.go).
var within = flowstats.Within

// TestBusyHistoryFiguresWithinError: a history busy enough that the cells
// keep histograms (hundreds of spread waits a week) shows the planted
// counts exactly and the planted medians, p90s and forecasts within the
// stated error.
func TestBusyHistoryFiguresWithinError(t *testing.T) {
	t.Parallel()
	p := dense
	p.Requests = 12000
	p.Spacing = 2 * time.Minute // nine weeks of 1,350 requests
	evs, tr := generate(p, origin)
	a := flowstats.NewAggregate(nil)
	a.SetDirectory(tr.users)
	a.Apply(evs...)
	exact, sketched := flowstats.Sketched(a)
	t.Logf("%d events; duration sets: %d as samples, %d as histograms", len(evs), exact, sketched)
	require.Greater(t, sketched, exact, "most cells keep histograms")

	s := a.Summary(flowstats.Filter{})
	require.Equal(t, tr.submitted, s.Total.Submitted)
	require.Equal(t, tr.approved, s.Total.Approved)
	require.Equal(t, tr.rejected, s.Total.Rejected)
	f := s.Flow("purchase")
	require.NotNil(t, f)
	require.Equal(t, "finance", f.Steps[0].StepID, "the planted bottleneck waits most")
	for step, ws := range tr.waits {
		st := f.Step(step)
		require.NotNil(t, st, step)
		want := flowstats.Summarize(ws)
		require.Equal(t, want.N, st.WaitWork.N, step)
		within(t, want.Median, st.WaitWork.Median, step)
		within(t, want.P90, st.WaitWork.P90, step)
	}
	for dept, ws := range tr.deptWaits {
		want, got := flowstats.Summarize(ws), s.Dept(dept).DecisionWork
		require.Equal(t, want.N, got.N, dept)
		within(t, want.Median, got.Median, dept)
		within(t, want.P90, got.P90, dept)
	}
	b := a.Bottleneck(flowstats.Filter{}, "purchase")
	require.NotNil(t, b)
	within(t, flowstats.Summarize(tr.waits["finance"]).Median, b.Median)

	// The forecast draws ranks as Predict did over the sorted samples: the
	// same draws over the planted waits give p50 and p90 within the error.
	fc, err := a.Predict("purchase", purchaseRoute, origin)
	require.NoError(t, err)
	sorted := make([][]time.Duration, len(genSteps))
	for i, s := range genSteps {
		sorted[i] = slices.Clone(tr.waits[s.id])
		slices.Sort(sorted[i])
	}
	rng := rand.New(rand.NewPCG(1, uint64(len(purchaseRoute))))
	sums := make([]time.Duration, 2000)
	for n := range sums {
		for _, d := range sorted {
			sums[n] += d[rng.IntN(len(d))].Truncate(time.Second)
		}
	}
	slices.Sort(sums)
	within(t, sums[1000], fc.Work50, "p50")
	within(t, sums[1799], fc.Work90, "p90")

	acc := a.Accuracy("purchase", 0)
	require.NotNil(t, acc)
	t.Logf("accuracy: measured %d; within p90 %.0f%%; median error %s", acc.N, 100*acc.WithinP90, acc.MedianError)
	require.Equal(t, 200, acc.N)
	require.GreaterOrEqual(t, acc.WithinP90, 0.8)
	require.Equal(t, acc, a.Accuracy("purchase", 0), "the draws are repeatable")
}

// TestRatingsOfLongEndedRequests: a rating counts once however long after
// its request ended; past the last ended requests the aggregate remembers
// the cell of, it counts under the flow's latest version and the rater's
// department; a request that never ended is not counted.
func TestRatingsOfLongEndedRequests(t *testing.T) {
	t.Parallel()
	a := flowstats.NewAggregate(nil)
	flowstats.SetKeepEnded(a, 2)
	a.SetDirectory([]*flows.User{{ID: "u", Dept: "eng"}})
	var evs []*flows.Event
	id := int64(0)
	ev := func(inst int64, typ flows.EventType, data string) {
		id++
		evs = append(evs, &flows.Event{ID: id, InstanceID: inst, FlowID: "x", Type: typ, Actor: "u", Data: []byte(data), At: origin})
	}
	for inst := int64(1); inst <= 5; inst++ {
		ev(inst, flows.EvSubmitted, `{"version":3}`)
		ev(inst, flows.EvCompleted, `{"status":"approved"}`)
	}
	ev(6, flows.EvSubmitted, `{"version":3}`)
	a.Apply(evs...)
	// The directory changes: u moves to sales.
	a.SetDirectory([]*flows.User{{ID: "u", Dept: "sales"}})
	evs = nil
	ev(1, flows.EvRated, `{"score":5}`) // ended long ago: the rater's department now
	ev(1, flows.EvRated, `{"score":1}`) // twice: not counted
	ev(5, flows.EvRated, `{"score":3}`) // among the last 2: its cell
	ev(6, flows.EvRated, `{"score":4}`) // still open
	ev(99, flows.EvRated, `{"score":4}`)
	a.Apply(evs...)
	s := a.Summary(flowstats.Filter{})
	require.Equal(t, 2, s.Total.Ratings)
	require.InDelta(t, 4.0, s.Total.Satisfaction, 1e-9)
	require.Equal(t, 1, s.Dept("eng").Ratings)
	require.Equal(t, 1, s.Dept("sales").Ratings)
	require.Equal(t, 2, a.Summary(flowstats.Filter{Version: 3}).Total.Ratings, "the flow's latest version")
}
