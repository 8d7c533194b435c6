package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// tripYAML returns to the applicant on rejection; its finance step only
// applies to long trips.
const tripYAML = `
id: trip
name: {zh: 出差, en: Trip}
aliases: [出差]
fields:
  - id: city
    type: text
    label: {zh: 城市, en: City}
    required: true
  - id: days
    type: number
    label: {zh: 天数, en: Days}
    required: true
  - id: note
    type: textarea
    label: {zh: 备注, en: Note}
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
    on_reject: return
  - id: finance
    name: {zh: 财务审批, en: Finance}
    when: days > 5
    approvers: [{user: fin1}]
`

// setupTrip is setup with the trip flow and a request of applicant that
// the manager (cto) returned for changes.
func setupTrip(t *testing.T, applicant string) (*bundle, *flows.Outcome) {
	t.Helper()
	b := setup(t)
	_, _, err := b.engine.PublishFlow(b.ctx, "trip.yaml", []byte(tripYAML))
	require.NoError(t, err)
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: applicant, FlowID: "trip", Values: map[string]any{"city": "上海", "days": 3}})
	require.NoError(t, err)
	rep := b.click(t, "cto", taskButton("reject", pendingTask(t, out, "cto")), map[string]string{"comment": "天数不够"})
	require.Equal(t, bots.ColorOrange, rep.Card.Color, "returned for changes, not rejected")
	require.Equal(t, "已退回申请人修改", rep.Toast)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusReturned, v.Instance.Status)
	return b, out
}

// returnedMessage renders the engine's "returned" outbox message of the
// request for its applicant.
func returnedMessage(t *testing.T, b *bundle, out *flows.Outcome, applicant string) *bots.Card {
	t.Helper()
	msgs, err := b.db.Outbox(b.ctx, flows.OutboxPending, 100)
	require.NoError(t, err)
	for _, m := range msgs {
		if m.Kind == flows.MsgReturned && m.InstanceID == out.Instance.ID {
			msg, err := b.bot.Render(b.ctx, m, mustUser(t, b, applicant))
			require.NoError(t, err)
			require.NotNil(t, msg.Card)
			return msg.Card
		}
	}
	t.Fatal("no returned message in the outbox")
	return nil
}

func TestAmendAndResubmitChinese(t *testing.T) {
	t.Parallel()
	b, out := setupTrip(t, "dev1")

	card := returnedMessage(t, b, out, "dev1")
	require.Equal(t, bots.ColorOrange, card.Color)
	require.Equal(t, []string{"amend", "withdraw"}, actions(card))
	require.Equal(t, "修改并重新提交", card.Buttons[0].Label)
	require.Equal(t, "撤回", card.Buttons[1].Label)
	got := cardText(card)
	require.Contains(t, got, "被 李雷 退回修改：天数不够")
	require.Contains(t, got, "/resubmit TRIP-20261126-0001")
	require.Contains(t, got, "状态: 待修改")
	// The approver's view of the returned request has no buttons.
	require.Empty(t, lastCard(t, b.say(t, "cto", "/status TRIP-20261126-0001")).Buttons)

	rep := b.click(t, "dev1", button(t, card, "amend"), nil)
	require.Equal(t, "请修改后重新提交", rep.Toast)
	require.Nil(t, rep.Card, "the request card stays as it is")
	sum := lastCard(t, rep)
	require.Equal(t, "修改并重新提交：出差 · TRIP-20261126-0001", sum.Title)
	require.Equal(t, []bots.Field{{Label: "城市", Value: "上海"}, {Label: "天数", Value: "3"}}, sum.Fields)
	require.Equal(t, []string{"submit", "form", "cancel"}, actions(sum))
	require.Equal(t, "重新提交", sum.Buttons[0].Label)

	// field=value changes a field; the summary shows the new value.
	rep = b.say(t, "dev1", "天数=7")
	require.Contains(t, text(rep), "已修改「天数」：7")
	sum = lastCard(t, rep)
	require.Contains(t, sum.Fields, bots.Field{Label: "天数", Value: "7"})
	// A field's name alone asks it again.
	got = text(b.say(t, "dev1", "备注"))
	require.Contains(t, got, "备注（选填")
	sum = lastCard(t, b.say(t, "dev1", "补充了行程单"))
	require.Contains(t, sum.Fields, bots.Field{Label: "备注", Value: "补充了行程单"})

	rep = b.say(t, "dev1", "确认")
	rc := lastCard(t, rep)
	got = cardText(rc)
	require.Contains(t, got, "已重新提交 TRIP-20261126-0001")
	require.Contains(t, got, "状态: 审批中")
	require.Contains(t, got, "天数: 7")
	require.Contains(t, got, "→ 上级审批 — 李雷")
	require.Contains(t, got, "… 财务审批 — 张会计", "the longer trip now needs finance")
	require.Contains(t, got, "韩梅梅 重新提交")
	require.Equal(t, []string{"urge", "withdraw"}, actions(rc))

	// The route runs again: the manager decides, then finance.
	todo := b.say(t, "cto", "/todo")
	require.Contains(t, text(todo), "你有 1 条待审批")
	rep = b.click(t, "cto", button(t, lastCard(t, todo), "approve"), nil)
	require.Equal(t, "已同意", rep.Toast)
	require.Contains(t, text(b.say(t, "fin1", "/todo")), "TRIP-20261126-0001")
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusPending, v.Instance.Status)
	require.Equal(t, "finance", v.Instance.StepID)
	require.Contains(t, text(b.say(t, "dev1", "1")), "没看懂", "the conversation is over")
}

func TestAmendAndResubmitEnglish(t *testing.T) {
	t.Parallel()
	b, out := setupTrip(t, "dev2")

	got := text(b.say(t, "dev2", "/status TRIP-20261126-0001"))
	require.Contains(t, got, "[Amend and resubmit]")
	require.Contains(t, got, "[Withdraw]")
	require.Contains(t, cardText(returnedMessage(t, b, out, "dev2")), `Click "Amend and resubmit", or send /resubmit TRIP-20261126-0001.`)

	rep := b.say(t, "dev2", "/resubmit trip-20261126-0001")
	sum := lastCard(t, rep)
	require.Equal(t, "Amend and resubmit: Trip · TRIP-20261126-0001", sum.Title)
	require.Contains(t, sum.Markdown, "field=value")
	require.Equal(t, "Resubmit", sum.Buttons[0].Label)

	require.Contains(t, text(b.say(t, "dev2", "days=2 city=Beijing")), "Days changed to 2.")
	rep = b.say(t, "dev2", "city")
	require.Contains(t, text(rep), "City (required)")
	sum = lastCard(t, b.say(t, "dev2", "London"))
	require.Equal(t, []bots.Field{{Label: "City", Value: "London"}, {Label: "Days", Value: "2"}}, sum.Fields)

	rep = b.click(t, "dev2", button(t, sum, "submit"), nil)
	require.Equal(t, "TRIP-20261126-0001 was resubmitted and goes through approval again.", rep.Toast)
	got = cardText(rep.Card)
	require.Contains(t, got, "Status: Pending")
	require.Contains(t, got, "City: London")
	require.Contains(t, got, "→ Manager — 李雷 (in progress)")
	require.NotContains(t, got, "Finance", "a short trip skips finance")
	require.Contains(t, got, "Tom resubmitted")

	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusPending, v.Instance.Status)
	require.Contains(t, text(b.say(t, "cto", "/todo")), "你有 1 条待审批")
	// The old summary card cannot resubmit twice.
	rep = b.click(t, "dev2", button(t, sum, "submit"), nil)
	require.Contains(t, rep.Toast, "out of date")
}

func TestAmendRefusals(t *testing.T) {
	t.Parallel()
	b, out := setupTrip(t, "dev2")
	tests := []struct {
		name, user, text string
		want             string
	}{
		{"no number", "dev2", "/resubmit", "Add a request number"},
		{"unknown request", "dev2", "/resubmit TRIP-20991231-0001", "was not found"},
		{"not the applicant", "dev1", "重新提交 TRIP-20261126-0001", "只有申请人可以这样做"},
		{"not returned", "dev1", "/resubmit LEAVE-20261126-0001", "不在待修改状态"},
	}
	b.submit(t, "dev1", 2) // LEAVE-20261126-0001, pending
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, text(b.say(t, tt.user, tt.text)), tt.want)
		})
	}
	// Clicks on a pending request's card: refused with the current card.
	rep := b.click(t, "dev1", bots.Button{Action: "amend", Value: map[string]string{"instance": "2"}}, nil)
	require.Contains(t, rep.Toast, "不在待修改状态")
	require.Equal(t, []string{"urge", "withdraw"}, actions(rep.Card))
	rep = b.click(t, "dev1", bots.Button{Action: "amend", Value: map[string]string{"instance": "x"}}, nil)
	require.Contains(t, rep.Toast, "卡片的数据有误")
	rep = b.click(t, "dev1", bots.Button{Action: "amend", Value: map[string]string{"instance": "999"}}, nil)
	require.Contains(t, rep.Toast, "找不到申请")

	// Bad edits change nothing and say why.
	sum := lastCard(t, b.say(t, "dev2", "/resubmit TRIP-20261126-0001"))
	edits := []struct{ text, want string }{
		{"budget=100", `"Trip" has no field "budget"`},
		{"days=many", "That is not a valid Days"},
		{`note="unclosed`, "A quote is not closed"},
		{"hmm", "Click Submit or Cancel"},
	}
	for _, e := range edits {
		require.Contains(t, text(b.say(t, "dev2", e.text)), e.want, e.text)
	}
	require.Equal(t, sum.Fields, lastCard(t, b.say(t, "dev2", "days=x")).Fields, "the values are unchanged")

	// Cancelling leaves the request returned; Withdraw on its card ends it.
	require.Contains(t, text(b.say(t, "dev2", "cancel")), "Cancelled")
	card := returnedMessage(t, b, out, "dev2")
	rep = b.click(t, "dev2", button(t, card, "withdraw"), nil)
	require.Contains(t, cardText(rep.Card), "Withdraw Trip TRIP-20261126-0001?")
	rep = b.click(t, "dev2", button(t, rep.Card, "withdraw"), nil)
	require.Equal(t, "Withdrawn", rep.Toast)
	require.Equal(t, []string{"copy"}, actions(rep.Card), "a withdrawn request offers only a copy")
	require.Contains(t, text(b.say(t, "dev2", "/resubmit TRIP-20261126-0001")), "is not waiting for changes")
}
