package schedule_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// The deadline check tells the approver and the flow's owner once, when a
// running task becomes predicted to miss its deadline: not before the
// prediction says so, not again on later runs, not when the deadline has
// passed already (the reminders speak then), not for a finished request.
func TestBreachPredictedIsToldOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t) // C: dev1's leave waits for cto, D: dev2's expense waits for cto
	deadline := sh(0, 15, 0)
	var mu sync.Mutex
	end50 := sh(0, 12, 0) // what the forecast says now
	forecast := func(ctx context.Context, id int64) (*flows.Instance, *flowstats.Forecast, error) {
		ins, err := b.db.Instances(ctx, flows.InstanceFilter{Status: []flows.Status{flows.StatusPending}, Limit: 100})
		if err != nil {
			return nil, nil, err
		}
		for _, in := range ins {
			if in.ID == id && in.Number == b.numbers["C"] {
				mu.Lock()
				e := end50
				mu.Unlock()
				return in, &flowstats.Forecast{Finish50: e, Finish90: e.Add(2 * time.Hour), Steps: []flowstats.StepForecast{
					{StepID: "mgr", Approver: "cto", End50: e, End90: e.Add(2 * time.Hour), Deadline: deadline, Breach: e.After(deadline)}}}, nil
			}
		}
		return nil, nil, nil // D: no history to predict from
	}
	defs := func(context.Context) ([]*flowdef.Definition, error) {
		return []*flowdef.Definition{{ID: "leave", Owner: "ceo"}, {ID: "expense", Owner: "hr1"}}, nil
	}
	s := b.scheduler(schedule.Config{Forecast: forecast, Flows: defs})
	breaches := func() map[string]int {
		out := map[string]int{}
		for to, ts := range b.texts(t) {
			for _, x := range ts {
				if strings.HasPrefix(x.ZH, "⏰") {
					out[to]++
				}
			}
		}
		return out
	}
	steps := []struct {
		name  string
		at    time.Time
		end50 time.Time
		want  map[string]int
	}{
		{"before: predicted in time", sh(0, 10, 0), sh(0, 12, 0), map[string]int{}},
		{"at: now predicted after the deadline", sh(0, 10, 15), sh(0, 16, 30), map[string]int{"cto": 1, "ceo": 1}},
		{"after: still predicted late, told already", sh(0, 10, 30), sh(0, 17, 0), map[string]int{"cto": 1, "ceo": 1}},
		{"in time again, then late again: still once", sh(0, 10, 45), sh(0, 18, 0), map[string]int{"cto": 1, "ceo": 1}},
	}
	for _, st := range steps {
		mu.Lock()
		end50 = st.end50
		mu.Unlock()
		require.NoError(t, s.RunDue(b.ctx, st.at), st.name)
		require.Equal(t, st.want, breaches(), st.name)
	}
	texts := b.texts(t)
	var toCTO, toCEO flowdef.Text
	for _, x := range texts["cto"] {
		if strings.HasPrefix(x.ZH, "⏰") {
			toCTO = x
		}
	}
	for _, x := range texts["ceo"] {
		if strings.HasPrefix(x.ZH, "⏰") {
			toCEO = x
		}
	}
	require.Equal(t, "⏰ 申请 REQ-C 的「leave / mgr」按以往的用时预计 11-26 16:30 完成（最晚 11-26 18:30），晚于期限 11-26 15:00。请尽快处理。", toCTO.ZH)
	require.Contains(t, toCTO.EN, "REQ-C: from past waits, \"leave / mgr\" is predicted to be done 11-26 16:30 (at the latest 11-26 18:30), after its deadline 11-26 15:00.")
	require.Contains(t, toCEO.ZH, "（cto 处理中）")
	require.Contains(t, toCEO.EN, "(with cto)")
}

// A task whose deadline has passed, or that was reminded already, is not
// "predicted" to breach: nothing is sent.
func TestBreachNotToldWhenAlreadyOverdue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		deadline time.Time
		at       time.Time
	}{
		{"deadline passed", sh(0, 9, 30), sh(0, 10, 0)},
		{"deadline is now", sh(0, 10, 0), sh(0, 10, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.seedHistory(t)
			forecast := func(ctx context.Context, id int64) (*flows.Instance, *flowstats.Forecast, error) {
				in := &flows.Instance{ID: id, FlowID: "leave", Number: "X"}
				e := tc.deadline.Add(3 * time.Hour)
				return in, &flowstats.Forecast{Steps: []flowstats.StepForecast{
					{StepID: "mgr", Approver: "cto", End50: e, End90: e, Deadline: tc.deadline, Breach: true},
					{StepID: "mgr", Approver: "uklead", End50: e, End90: e, Deadline: tc.deadline, Breach: true}}}, nil
			}
			s := b.scheduler(schedule.Config{Forecast: forecast})
			require.NoError(t, s.RunDue(b.ctx, tc.at))
			for to, ts := range b.texts(t) {
				for _, x := range ts {
					require.False(t, strings.HasPrefix(x.ZH, "⏰"), "told %s: %s", to, x.ZH)
				}
			}
		})
	}
}
