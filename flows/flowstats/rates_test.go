package flowstats_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// outcomeHistory is a generated history of the flow "expense" (steps mgr
// -> fin -> ceo) where each request's fate is set by its number i:
//
//	i%20 == 0   fin returns it to the applicant, who resubmits; then approved
//	i%20 == 1   ceo sends it back to fin, fin approves again; then approved
//	i%20 == 2,3 the applicant withdraws it while ceo has it
//	i%20 == 4   fin rejects it for good
//	otherwise   approved straight through
//
// So per 20 requests: 20 end (17 approved, 1 rejected, 2 withdrawn), 1 is
// returned and 1 sent back. fin decides 22 times (20 approvals, 1
// rejection, 1 return), ceo 18 times (17 approvals, 1 send-back), mgr 21.
// The same history comes as events (for the Aggregate) and as rows of
// instances and tasks (for Build, which /stats uses).
type outcomeHistory struct {
	events []*flows.Event
	rows   flowstats.Rows
	start  time.Time
	end    time.Time
}

func genOutcomes(n int) outcomeHistory {
	h := outcomeHistory{start: origin}
	h.rows.Users = []*flows.User{{ID: "app", Dept: "ops"}, {ID: "mia", Dept: "mgmt"}, {ID: "fay", Dept: "fin"}, {ID: "cole", Dept: "mgmt"}}
	approver := map[string]string{"mgr": "mia", "fin": "fay", "ceo": "cole"}
	var taskID int64
	at := origin
	for i := range n {
		id := int64(i + 1)
		in := &flows.Instance{ID: id, FlowID: "expense", Applicant: "app", CreatedAt: at, Status: flows.StatusApproved}
		h.rows.Instances = append(h.rows.Instances, in)
		ev := func(typ flows.EventType, step string, task int64, actor string, d map[string]any) {
			e := &flows.Event{InstanceID: id, FlowID: "expense", StepID: step, TaskID: task, Type: typ, Actor: actor, At: at}
			if d != nil {
				e.Data, _ = json.Marshal(d)
			}
			h.events = append(h.events, e)
		}
		// open creates step's task; decide ends it an hour later with status
		// st and the events that go with it.
		var open *flows.Task
		start := func(step string) {
			taskID++
			started := at
			open = &flows.Task{ID: taskID, InstanceID: id, StepID: step, Assignee: approver[step], Status: flows.TaskPending, CreatedAt: at, StartedAt: &started}
			h.rows.Tasks = append(h.rows.Tasks, open)
			ev(flows.EvTaskCreated, step, taskID, flows.System, map[string]any{"assignee": approver[step], "status": "pending"})
		}
		decide := func(st flows.TaskStatus) {
			at = at.Add(time.Hour)
			d := at
			open.Status, open.DecidedAt = st, &d
			step, who := open.StepID, open.Assignee
			switch st {
			case flows.TaskApproved:
				ev(flows.EvApproved, step, open.ID, who, map[string]any{})
			case flows.TaskRejected:
				ev(flows.EvRejected, step, open.ID, who, map[string]any{"outcome": "end"})
			case flows.TaskReturned:
				ev(flows.EvRejected, step, open.ID, who, map[string]any{"outcome": "return"})
				ev(flows.EvReturned, step, 0, who, map[string]any{"step": step})
			case flows.TaskSentBack:
				ev(flows.EvRejected, step, open.ID, who, map[string]any{"outcome": "send_back", "to": "fin"})
				ev(flows.EvSentBack, step, 0, who, map[string]any{"step": step, "to": "fin"})
			}
		}
		ev(flows.EvSubmitted, "", 0, "app", map[string]any{"version": 1})
		steps := []string{"mgr", "fin", "ceo"}
		returned, sentBack := i%20 == 0, i%20 == 1
	route:
		for k := 0; k < len(steps); k++ {
			start(steps[k])
			switch {
			case steps[k] == "fin" && returned:
				decide(flows.TaskReturned)
				returned = false
				at = at.Add(time.Hour)
				ev(flows.EvResubmitted, "", 0, "app", nil)
				k = -1 // from the first step again
			case steps[k] == "fin" && i%20 == 4:
				decide(flows.TaskRejected)
				in.Status = flows.StatusRejected
				ev(flows.EvCompleted, "fin", 0, "fay", map[string]any{"status": "rejected"})
				break route
			case steps[k] == "ceo" && (i%20 == 2 || i%20 == 3):
				at = at.Add(30 * time.Minute)
				open.Status = flows.TaskCancelled
				in.Status = flows.StatusWithdrawn
				ev(flows.EvWithdrawn, "ceo", 0, "app", nil)
				break route
			case steps[k] == "ceo" && sentBack:
				decide(flows.TaskSentBack)
				sentBack = false
				k = 0 // fin next
			default:
				decide(flows.TaskApproved)
				if k == len(steps)-1 {
					ev(flows.EvCompleted, "", 0, flows.System, map[string]any{"status": "approved"})
				}
			}
		}
		closed := at
		in.ClosedAt = &closed
		at = at.Add(time.Hour)
	}
	for i, e := range h.events {
		e.ID = int64(i + 1)
	}
	h.end = at
	return h
}

// The return, send-back and withdrawal rates, per flow and per step, come
// out as planted, from the event log (the dashboard's Aggregate) and from
// the rows (/stats's Build) alike.
func TestRatesOverGeneratedHistory(t *testing.T) {
	t.Parallel()
	const n = 2000 // 100 of each kind of 20
	h := genOutcomes(n)

	a := flowstats.NewAggregate(nil)
	a.SetDirectory(h.rows.Users)
	a.Apply(h.events...)
	s := a.Summary(flowstats.Filter{})
	f := s.Flow("expense")
	require.NotNil(t, f)
	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"withdrawal rate", f.WithdrawalRate, 2.0 / 20},
		{"return rate (to the applicant)", f.SendBackRate, 1.0 / 20},
		{"send-back rate (to a step)", f.SendToStepRate, 1.0 / 20},
		{"rejection rate", f.RejectionRate, 1.0 / 20},
		{"fin: return rate", f.Step("fin").ReturnRate, 1.0 / 22},
		{"fin: send-back rate", f.Step("fin").SendToStepRate, 0},
		{"fin: rejection rate", f.Step("fin").RejectionRate, 1.0 / 21},
		{"ceo: send-back rate", f.Step("ceo").SendToStepRate, 1.0 / 18},
		{"ceo: return rate", f.Step("ceo").ReturnRate, 0},
		{"mgr: return rate", f.Step("mgr").ReturnRate, 0},
		{"total withdrawal rate", s.Total.WithdrawalRate, 2.0 / 20},
	} {
		t.Run("aggregate/"+tt.name, func(t *testing.T) { require.InDelta(t, tt.want, tt.got, 1e-9) })
	}
	require.Equal(t, n/20*2, f.Withdrawn)
	require.Equal(t, n/20, f.SentBack)
	require.Equal(t, n/20, f.SentToStep)

	r := flowstats.Build(&h.rows, flowstats.Query{Since: h.start, Until: h.end.Add(time.Hour)})
	rf := r.Flow("expense")
	require.NotNil(t, rf)
	step := func(id string) *flowstats.Stats {
		st := r.Step("expense", id)
		require.NotNil(t, st, id)
		return st
	}
	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"withdrawal rate", rf.WithdrawalRate, 2.0 / 20},
		{"return rate", rf.ReturnRate, 1.0 / 20},
		{"send-back rate", rf.SendBackRate, 1.0 / 20},
		{"total withdrawal rate", r.Total.WithdrawalRate, 2.0 / 20},
		{"total return rate", r.Total.ReturnRate, 1.0 / 20},
		{"dept return rate", r.Dept("ops").ReturnRate, 1.0 / 20},
		{"fin: return rate", step("fin").ReturnRate, 1.0 / 22},
		{"fin: send-back rate", step("fin").SendBackRate, 0},
		{"ceo: send-back rate", step("ceo").SendBackRate, 1.0 / 18},
		{"ceo: return rate", step("ceo").ReturnRate, 0},
	} {
		t.Run("build/"+tt.name, func(t *testing.T) { require.InDelta(t, tt.want, tt.got, 1e-9) })
	}
	require.Equal(t, n/20, rf.Returned, "returns counted on the flow's row")
	require.Equal(t, n/20, rf.SentBack, "send-backs counted on the flow's row")

	// A window that holds no decision has no rates (not NaN, not 100%).
	empty := flowstats.Build(&h.rows, flowstats.Query{Since: h.end.Add(time.Hour), Until: h.end.Add(2 * time.Hour)})
	require.Zero(t, empty.Total.ReturnRate)
	require.Zero(t, empty.Total.WithdrawalRate)
	require.Equal(t, fmt.Sprint(0.0), fmt.Sprint(empty.Total.SendBackRate))
}
