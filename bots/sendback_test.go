package bots_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// claimYAML: the manager approves, then HR, who may reject, return for
// changes or send back to the manager.
const claimYAML = `
id: claim
name: {zh: 报账, en: Claim}
fields:
  - id: note
    type: text
    label: {zh: 说明, en: Note}
    required: true
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
  - id: hr
    name: {zh: 人事审批, en: HR}
    approvers: [{role: hr}]
    on_reject: [end, return, send_back]
`

// atHR files a claim of applicant and has the manager approve it.
func atHR(t *testing.T, b *bundle, applicant string) *flows.Outcome {
	t.Helper()
	_, _, err := b.engine.PublishFlow(b.ctx, "claim.yaml", []byte(claimYAML))
	require.NoError(t, err)
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: applicant, FlowID: "claim", Values: map[string]any{"note": "taxi"}})
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, out, "cto").ID, Approve: true})
	require.NoError(t, err)
	return out
}

// hrCard is HR's task card as the engine shows it now.
func hrCard(t *testing.T, b *bundle, out *flows.Outcome) (*bots.Card, *flows.Task) {
	t.Helper()
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	task := pendingTask(t, &flows.Outcome{Tasks: v.Tasks}, "hr1")
	return b.bot.TaskCard(v, task, mustUser(t, b, "hr1")), task
}

// Defect 14: the card offers each outcome the step allows under its own
// name, and each button does what it says.
func TestApproverChoosesOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		action string
		inputs map[string]string
		toast  string
		status flows.Status
		step   string
		note   string
	}{
		{"reject ends", "reject", map[string]string{"comment": "不合规"}, "已驳回", flows.StatusRejected, "hr", "已由 刘人事 驳回"},
		{"return for changes", "send_back", map[string]string{"comment": "补发票", "to_step": bots.ToApplicant}, "已退回申请人修改", flows.StatusReturned, "hr", "已由 刘人事 退回申请人修改"},
		{"send back to the manager", "send_back", map[string]string{"comment": "请上级确认", "to_step": "manager"}, "已退回到「上级审批」", flows.StatusPending, "manager", "已由 刘人事 退回到「上级审批」"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out := atHR(t, b, "dev1")
			card, _ := hrCard(t, b, out)
			require.Equal(t, []string{"approve", "reject", "send_back", "transfer", "add_signer", "comment"}, actions(card))
			require.LessOrEqual(t, len(card.Buttons), 6, "a card has at most 6 buttons (WeCom, DingTalk, Feishu)")
			var sel *bots.Input
			for i := range card.Inputs {
				if card.Inputs[i].Name == "to_step" {
					sel = &card.Inputs[i]
				}
			}
			require.NotNil(t, sel, "a select of the steps to send back to")
			require.Equal(t, bots.InputSelect, sel.Kind)
			require.Equal(t, []bots.Option{{Value: bots.ToApplicant, Label: "申请人（修改后重新提交）"}, {Value: "manager", Label: "上级审批"}}, sel.Options)
			require.Equal(t, bots.ToApplicant, sel.Value, "returning to the applicant is the default")

			rep := b.click(t, "hr1", button(t, card, tc.action), tc.inputs)
			require.Equal(t, tc.toast, rep.Toast)
			require.Empty(t, rep.Card.Buttons, "decided: no buttons left")
			require.Contains(t, rep.Card.Note, tc.note)
			v, err := b.engine.View(b.ctx, out.Instance.ID)
			require.NoError(t, err)
			require.Equal(t, tc.status, v.Instance.Status)
			require.Equal(t, tc.step, v.Instance.StepID)
		})
	}
}

// The manager gets the sent-back request again with the reason; the
// applicant's /status tells it in the viewer's language.
func TestSendBackReachesTheEarlierStep(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := atHR(t, b, "dev2") // Tom reads English
	card, _ := hrCard(t, b, out)
	b.click(t, "hr1", button(t, card, "send_back"), map[string]string{"comment": "请上级确认金额", "to_step": "manager"})

	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	task := pendingTask(t, &flows.Outcome{Tasks: v.Tasks}, "cto")
	mc := b.bot.TaskCard(v, task, mustUser(t, b, "cto"))
	require.Contains(t, mc.Markdown, "刘人事 把这条申请退回到本步骤，请重新审批：请上级确认金额")
	require.Contains(t, actions(mc), "approve")
	require.NotContains(t, actions(mc), "send_back", "nothing before the first step")

	got := text(b.say(t, "dev2", "/status "+v.Instance.Number))
	require.Contains(t, got, `刘人事 sent it back to "Manager": 请上级确认金额`)
	require.NotContains(t, got, "刘人事 rejected", "a send-back is not a rejection")
	got = text(b.say(t, "cto", "/status "+v.Instance.Number))
	require.Contains(t, got, "刘人事 退回到「上级审批」：请上级确认金额")
}

// Bad send-back clicks get a clear answer on the card and change nothing.
func TestSendBackClickRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := atHR(t, b, "dev1")
	card, task := hrCard(t, b, out)
	tests := []struct {
		name   string
		user   string
		btn    bots.Button
		inputs map[string]string
		toast  string
		field  string // the input marked in error
	}{
		{"no reason", "hr1", button(t, card, "send_back"), map[string]string{"to_step": "manager"}, "驳回请填写理由", "comment"},
		{"no step", "hr1", button(t, card, "send_back"), map[string]string{"comment": "x"}, "请选择要退回到的步骤", "to_step"},
		{"a later step", "hr1", button(t, card, "send_back"), map[string]string{"comment": "x", "to_step": "hr"}, "不能退回到「人事审批」", "to_step"},
		{"a made-up step", "hr1", button(t, card, "send_back"), map[string]string{"comment": "x", "to_step": "'; drop table tasks; --"}, "还没有经过这一步", "to_step"},
		{"forged outcome", "hr1", bots.Button{Action: "reject", Value: map[string]string{"task": taskButton("", task).Value["task"], "outcome": "explode"}}, map[string]string{"comment": "x"}, "不能选择", ""},
		{"not the assignee", "dev2", button(t, card, "send_back"), map[string]string{"comment": "x", "to_step": "manager"}, "not yours", ""},
	}
	before := outboxDepth(t, b)
	for _, tc := range tests {
		rep := b.click(t, tc.user, tc.btn, tc.inputs)
		require.Contains(t, rep.Toast, tc.toast, tc.name)
		require.Equal(t, bots.ToastWarning, rep.ToastKind, tc.name)
		if tc.field != "" {
			require.NotNil(t, rep.Card, tc.name)
			for _, in := range rep.Card.Inputs {
				if in.Name == tc.field {
					require.NotEmpty(t, in.Error, "%s: %s marked", tc.name, tc.field)
				}
			}
		}
	}
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, "hr", v.Instance.StepID)
	require.Equal(t, flows.StatusPending, v.Instance.Status)
	require.Equal(t, before, outboxDepth(t, b), "nothing sent")
}

func outboxDepth(t *testing.T, b *bundle) int {
	t.Helper()
	n, err := b.db.OutboxDepth(b.ctx)
	require.NoError(t, err)
	return n
}

// An old definition with on_reject: return keeps working: its one "no"
// button is named for what it does.
func TestOldReturnStepButtonSaysReturn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := strings.Replace(claimYAML, "on_reject: [end, return, send_back]", "on_reject: return", 1)
	_, _, err := b.engine.PublishFlow(b.ctx, "claim.yaml", []byte(src))
	require.NoError(t, err)
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "claim", Values: map[string]any{"note": "taxi"}})
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, out, "cto").ID, Approve: true})
	require.NoError(t, err)
	card, _ := hrCard(t, b, out)
	require.Equal(t, []string{"approve", "return", "transfer", "add_signer", "comment"}, actions(card))
	require.Contains(t, cardText(card), "[退回修改]")
	require.NotContains(t, cardText(card), "[驳回]")
}
