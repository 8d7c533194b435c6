package flowstats_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// Rejections, returns to the applicant and send-backs to an earlier step
// are counted apart, per request and per step, each with its own rate.
func TestAggregateCountsOutcomesApart(t *testing.T) {
	t.Parallel()
	a := flowstats.NewAggregate(nil)
	a.SetDirectory([]*flows.User{{ID: "u", Dept: "eng"}})
	at := origin
	id := int64(0)
	ev := func(inst, task int64, typ flows.EventType, step, data string) *flows.Event {
		id++
		at = at.Add(time.Minute)
		e := &flows.Event{ID: id, InstanceID: inst, TaskID: task, FlowID: "x", StepID: step, Type: typ, Actor: "boss", At: at}
		if data != "" {
			e.Data = []byte(data)
		}
		return e
	}
	a.Apply(
		// 1: rejected for good at cfo.
		ev(1, 0, flows.EvSubmitted, "", ""),
		ev(1, 11, flows.EvTaskCreated, "cfo", `{"assignee":"boss","status":"pending"}`),
		ev(1, 11, flows.EvRejected, "cfo", `{"comment":"no","outcome":"end"}`),
		ev(1, 0, flows.EvCompleted, "cfo", `{"status":"rejected"}`),
		// 2: returned to the applicant at cfo.
		ev(2, 0, flows.EvSubmitted, "", ""),
		ev(2, 21, flows.EvTaskCreated, "cfo", `{"assignee":"boss","status":"pending"}`),
		ev(2, 21, flows.EvRejected, "cfo", `{"comment":"fix","outcome":"return"}`),
		ev(2, 0, flows.EvReturned, "cfo", `{"step":"cfo"}`),
		// 3: sent back to the manager at cfo, then approved.
		ev(3, 0, flows.EvSubmitted, "", ""),
		ev(3, 31, flows.EvTaskCreated, "cfo", `{"assignee":"boss","status":"pending"}`),
		ev(3, 31, flows.EvRejected, "cfo", `{"comment":"ask the manager","outcome":"send_back","to":"manager"}`),
		ev(3, 0, flows.EvSentBack, "cfo", `{"step":"cfo","to":"manager"}`),
		ev(3, 32, flows.EvTaskCreated, "cfo", `{"assignee":"boss","status":"pending"}`),
		ev(3, 32, flows.EvApproved, "cfo", `{}`),
		ev(3, 0, flows.EvCompleted, "cfo", `{"status":"approved"}`),
	)
	s := a.Summary(flowstats.Filter{})
	require.Equal(t, 1, s.Total.Rejected, "only the real rejection")
	require.Equal(t, 1, s.Total.SentBack, "returns to the applicant")
	require.Equal(t, 1, s.Total.SentToStep, "send-backs to a step")
	require.InDelta(t, 0.5, s.Total.RejectionRate, 1e-9) // 1 of 2 ended
	require.InDelta(t, 0.5, s.Total.SendToStepRate, 1e-9)
	st := s.Flow("x").Step("cfo")
	require.NotNil(t, st)
	require.Equal(t, 1, st.Approved)
	require.Equal(t, 1, st.Rejected)
	require.Equal(t, 1, st.SentBack)
	require.Equal(t, 1, st.SentToStep)
	require.InDelta(t, 0.5, st.RejectionRate, 1e-9)
	require.InDelta(t, 0.25, st.ReturnRate, 1e-9)
	require.InDelta(t, 0.25, st.SendToStepRate, 1e-9)
}

// The report over tasks counts returned and sent-back tasks apart from
// rejected ones.
func TestBuildCountsOutcomesApart(t *testing.T) {
	t.Parallel()
	at := origin
	in := &flows.Instance{ID: 1, FlowID: "x", Applicant: "u", Status: flows.StatusPending, CreatedAt: at}
	task := func(id int64, st flows.TaskStatus) *flows.Task {
		d := at.Add(time.Hour)
		return &flows.Task{ID: id, InstanceID: 1, StepID: "cfo", Assignee: "boss", Status: st, CreatedAt: at, StartedAt: &at, DecidedAt: &d}
	}
	r := flowstats.Build(&flowstats.Rows{
		Instances: []*flows.Instance{in},
		Tasks:     []*flows.Task{task(1, flows.TaskApproved), task(2, flows.TaskRejected), task(3, flows.TaskReturned), task(4, flows.TaskSentBack)},
		Users:     []*flows.User{{ID: "u", Dept: "eng"}, {ID: "boss", Dept: "eng"}},
	}, flowstats.Query{Since: at.Add(-time.Hour), Until: at.Add(2 * time.Hour)})
	require.NotEmpty(t, r.Steps)
	s := r.Steps[0]
	require.Equal(t, 1, s.Approved)
	require.Equal(t, 1, s.Rejected)
	require.Equal(t, 1, s.Returned)
	require.Equal(t, 1, s.SentBack)
	require.InDelta(t, 0.5, s.RejectionRate, 1e-9)
	require.InDelta(t, 0.25, s.ReturnRate, 1e-9)
	require.InDelta(t, 0.25, s.SendBackRate, 1e-9)
}
