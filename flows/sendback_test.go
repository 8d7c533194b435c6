package flows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// chainYAML: manager, then finance (any of two), an optional audit step,
// a notice, then the CFO; finance and the CFO offer every outcome.
const chainYAML = `
id: chain
name: {zh: 采购, en: Purchase}
fields:
  - id: amount
    type: money
    label: {zh: 金额, en: Amount}
    required: true
steps:
  - id: manager
    name: {zh: 上级, en: Manager}
    approvers: [{manager: 1}]
  - id: finance
    name: {zh: 财务, en: Finance}
    approvers: [{role: finance}]
    on_reject: [end, return, send_back]
  - id: audit
    name: {zh: 审计, en: Audit}
    when: amount > 1000000
    approvers: [{user: ceo}]
  - id: tell
    kind: notify
    cc: [{role: hr}]
  - id: cfo
    name: {zh: CFO, en: CFO}
    approvers: [{user: cfo}]
    on_reject: [send_back, end, return]
    deadline:
      timeout_after: 48h
      on_timeout: reject
`

// atCFO files a chain request by dev1 and approves it up to the CFO.
func atCFO(t *testing.T, b *bundle) *flows.Outcome {
	t.Helper()
	_, _, err := b.engine.PublishFlow(b.ctx, "chain.yaml", []byte(chainYAML))
	require.NoError(t, err)
	out := b.submit(t, "dev1", "chain", map[string]any{"amount": "800"})
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "fin1", TaskID: pending(out)["fin1"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, "cfo", out.Instance.StepID)
	return out
}

// Defect 14: the approver chooses what a "no" does, among what the step
// offers, and each choice does exactly that.
func TestDecideOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		outcome  flowdef.RejectAction
		to       string
		status   flows.Status
		step     string
		task     flows.TaskStatus
		messages []string
		pending  []string
	}{
		{"reject ends", flowdef.RejectEnd, "", flows.StatusRejected, "cfo", flows.TaskRejected,
			[]string{"card_update:", "rejected:dev1"}, nil},
		{"return to the applicant", flowdef.RejectReturn, "", flows.StatusReturned, "cfo", flows.TaskReturned,
			[]string{"card_update:", "returned:dev1"}, nil},
		{"send back to finance", flowdef.RejectSendBack, "finance", flows.StatusPending, "finance", flows.TaskSentBack,
			[]string{"card_update:", "sent_back:dev1", "task:fin1", "task:fin2"}, []string{"fin1", "fin2"}},
		{"send back to the manager", flowdef.RejectSendBack, "manager", flows.StatusPending, "manager", flows.TaskSentBack,
			[]string{"card_update:", "sent_back:dev1", "task:cto"}, []string{"cto"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out := atCFO(t, b)
			task := pending(out)["cfo"]
			out, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cfo", TaskID: task.ID, Outcome: tc.outcome, ToStep: tc.to, Comment: "quote is old"})
			require.NoError(t, err)
			require.Equal(t, tc.status, out.Instance.Status)
			require.Equal(t, tc.step, out.Instance.StepID)
			require.ElementsMatch(t, tc.messages, kinds(out.Outbox))
			require.ElementsMatch(t, tc.pending, keys(pending(out)))
			for _, x := range out.Tasks {
				if x.ID == task.ID {
					require.Equal(t, tc.task, x.Status)
				}
			}
		})
	}
}

// A sent-back step decides again and the request goes on from there: the
// steps after it are asked again, in order.
func TestSendBackThenOnAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := atCFO(t, b)
	out, err := b.engine.SendBack(b.ctx, "cfo", pending(out)["cfo"].ID, "manager", "budget owner must confirm")
	require.NoError(t, err)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Empty(t, flows.SendBackTargets(v.Def, v.Instance, v.Events), "at the first step nothing lies behind")
	evs := v.Events
	last := evs[len(evs)-1]
	require.Equal(t, flows.EvTaskCreated, last.Type)
	var sb *flows.Event
	for _, e := range evs {
		if e.Type == flows.EvSentBack {
			sb = e
		}
	}
	require.NotNil(t, sb, "the audit trail records the send-back")
	require.JSONEq(t, `{"by":"cfo","comment":"budget owner must confirm","step":"cfo","to":"manager"}`, string(sb.Data))

	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, "finance", out.Instance.StepID)
	v, err = b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	var ids []string
	for _, s := range flows.SendBackTargets(v.Def, v.Instance, v.Events) {
		ids = append(ids, s.ID)
	}
	require.Equal(t, []string{"manager"}, ids)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "fin2", TaskID: pending(out)["fin2"].ID, Approve: true})
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cfo", TaskID: pending(out)["cfo"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
}

// Bad send-backs and outcomes are refused with a clear error and write
// nothing.
func TestSendBackRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := atCFO(t, b)
	cfoTask := pending(out)["cfo"]
	leaveOut := b.submit(t, "dev2", "leave", leave(1))
	ctoTask := pending(leaveOut)["cto"]
	tests := []struct {
		name string
		req  flows.DecideRequest
		code flows.Code
		key  string
	}{
		{"not the assignee", flows.DecideRequest{Actor: "fin1", TaskID: cfoTask.ID, Outcome: flowdef.RejectSendBack, ToStep: "manager", Comment: "x"}, flows.CodeForbidden, "not_assignee"},
		{"applicant", flows.DecideRequest{Actor: "dev1", TaskID: cfoTask.ID, Outcome: flowdef.RejectSendBack, ToStep: "manager", Comment: "x"}, flows.CodeForbidden, "not_assignee"},
		{"no step", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Outcome: flowdef.RejectSendBack, Comment: "x"}, flows.CodeInvalid, "to_step_required"},
		{"plain reject defaults to send back, no step", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Comment: "x"}, flows.CodeInvalid, "to_step_required"},
		{"unknown step", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Outcome: flowdef.RejectSendBack, ToStep: "nope", Comment: "x"}, flows.CodeInvalid, "step_not_passed"},
		{"the current step", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Outcome: flowdef.RejectSendBack, ToStep: "cfo", Comment: "x"}, flows.CodeInvalid, "step_not_passed"},
		{"a skipped step", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Outcome: flowdef.RejectSendBack, ToStep: "audit", Comment: "x"}, flows.CodeInvalid, "step_not_passed"},
		{"a notify step", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Outcome: flowdef.RejectSendBack, ToStep: "tell", Comment: "x"}, flows.CodeInvalid, "step_not_passed"},
		{"no reason", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Outcome: flowdef.RejectSendBack, ToStep: "manager"}, flows.CodeInvalid, "reason_required"},
		{"unknown outcome", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Outcome: "explode", Comment: "x"}, flows.CodeInvalid, "outcome_not_offered"},
		{"approve with an outcome", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Approve: true, Outcome: flowdef.RejectEnd}, flows.CodeInvalid, "outcome_with_approve"},
		{"a step with return", flows.DecideRequest{Actor: "cfo", TaskID: cfoTask.ID, Outcome: flowdef.RejectReturn, ToStep: "manager", Comment: "x"}, flows.CodeInvalid, "to_step_without_send_back"},
		{"not offered by the step", flows.DecideRequest{Actor: "cto", TaskID: ctoTask.ID, Outcome: flowdef.RejectSendBack, ToStep: "manager", Comment: "x"}, flows.CodeInvalid, "outcome_not_offered"},
		{"return not offered", flows.DecideRequest{Actor: "cto", TaskID: ctoTask.ID, Outcome: flowdef.RejectReturn, Comment: "x"}, flows.CodeInvalid, "outcome_not_offered"},
		{"unknown task", flows.DecideRequest{Actor: "cfo", TaskID: 999999, Outcome: flowdef.RejectSendBack, ToStep: "manager", Comment: "x"}, flows.CodeNotFound, "task_unknown"},
	}
	before := snapshot(t, b)
	for _, tc := range tests {
		_, err := b.engine.Decide(b.ctx, tc.req)
		var fe *flows.Error
		require.ErrorAs(t, err, &fe, tc.name)
		require.Equal(t, tc.code, fe.Code, "%s: %v", tc.name, err)
		require.Equal(t, tc.key, fe.Key, "%s: %v", tc.name, err)
		require.NotContains(t, fe.Message("zh-CN"), "{", tc.name)
		require.NotContains(t, fe.Message("en"), "flowdef.Text", tc.name)
	}
	require.Equal(t, before, snapshot(t, b), "refused calls must write nothing")

	// A second click after the send-back is refused: already decided.
	_, err := b.engine.SendBack(b.ctx, "cfo", cfoTask.ID, "manager", "again")
	require.NoError(t, err)
	before = snapshot(t, b)
	_, err = b.engine.SendBack(b.ctx, "cfo", cfoTask.ID, "manager", "again")
	require.Equal(t, flows.CodeConflict, flows.ErrorCode(err))
	require.Equal(t, before, snapshot(t, b))
}

// A timeout cannot choose a step: a step whose first outcome is send_back
// times out into its next outcome (here: end).
func TestTimeoutOnSendBackStepEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := atCFO(t, b)
	res, err := b.engine.Tick(b.ctx, b.clock.Add(49*3600e9))
	require.NoError(t, err)
	require.Equal(t, 1, res.TimedOut)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusRejected, v.Instance.Status)
}
