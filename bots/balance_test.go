package bots_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// setupBalances is setupExamples with annual leave balances for this
// test year (2026, the clock's): hanmeimei and tom 10 days, zhangwei 2 left.
func setupBalances(t *testing.T) *bundle {
	t.Helper()
	b := setupExamples(t)
	used := 3.0
	require.NoError(t, b.engine.SetBalances(b.ctx, "wangzong", []flows.BalanceUpdate{
		{User: "hanmeimei", Type: "annual", Year: 2026, Total: 10},
		{User: "tom", Type: "annual", Year: 2026, Total: 10},
		{User: "zhangwei", Type: "annual", Year: 2026, Total: 5, Used: &used},
	}))
	return b
}

func TestLeaveConversationShowsBalance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user    string
		period        string
		afterType     string // in the question after the type is chosen; "" = no balance line
		onSummary     string // on the confirm card
		submitRefusal string // "" = Submit files it
	}{
		{"zh", "hanmeimei", "2026-12-01 至 2026-12-03", "年假剩余 10 天", "假期余额: 年假剩余 10 天（本次 3 天）", ""},
		{"en", "tom", "2026-12-01 to 2026-12-03", "Annual leave left: 10 days", "Leave balance: Annual leave left: 10 days (this request: 3)", ""},
		{"short", "zhangwei", "2026-12-01 至 2026-12-03", "年假剩余 2 天", "假期余额: 年假剩余 2 天（本次 3 天），余额不足", "年假余额不足：剩余 2 天，本次申请 3 天。"},
		{"no balance", "zhaomin", "2026-12-01 至 2026-12-03", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupBalances(t)
			first := text(b.say(t, tc.user, "/leave"))
			require.NotContains(t, first, "剩余")
			require.NotContains(t, first, " left: ")
			q := text(b.say(t, tc.user, "1")) // annual leave
			if tc.afterType == "" {
				require.NotContains(t, q, "剩余")
			} else {
				require.Contains(t, q, tc.afterType)
			}
			b.say(t, tc.user, tc.period)
			rep := b.say(t, tc.user, "-") // no reason
			card := lastCard(t, rep)
			if tc.onSummary == "" {
				require.NotContains(t, cardText(card), "假期余额")
			} else {
				require.Contains(t, cardText(card), tc.onSummary)
			}
			sub := b.click(t, tc.user, button(t, card, "submit"), nil)
			if tc.submitRefusal != "" {
				require.Contains(t, text(sub), tc.submitRefusal)
				ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: tc.user})
				require.NoError(t, err)
				require.Empty(t, ins, "a refused leave files nothing")
				return
			}
			ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: tc.user})
			require.NoError(t, err)
			require.Len(t, ins, 1, "got %s", text(sub))
		})
	}
}

// approvedLeave files a 3-day annual leave for hanmeimei and has lilei approve it.
func approvedLeave(t *testing.T, b *bundle) *flows.Instance {
	t.Helper()
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": "2026-12-01", "to": "2026-12-03"}}})
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "lilei", TaskID: pendingTask(t, out, "lilei").ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	return out.Instance
}

func (b *bundle) annualUsed(t *testing.T, user string) float64 {
	t.Helper()
	bs, err := b.db.Balances(b.ctx, flows.BalanceFilter{User: user, Type: "annual"})
	require.NoError(t, err)
	require.Len(t, bs, 1)
	return bs[0].Used
}

func TestCancelApprovedLeaveInChat(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"button", "command"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			b := setupBalances(t)
			leave := approvedLeave(t, b)
			require.Equal(t, 3.0, b.annualUsed(t, "hanmeimei"))

			status := lastCard(t, b.say(t, "hanmeimei", "/status "+leave.Number))
			btn := button(t, status, "cancel_request")
			require.Contains(t, cardText(status), "[申请撤销]")
			require.NotContains(t, actions(lastCard(t, b.say(t, "lilei", "/status "+leave.Number))), "cancel_request", "only the applicant gets Cancel")

			var rep bots.Reply
			if how == "button" {
				rep = b.click(t, "hanmeimei", btn, nil)
				require.Equal(t, "已提交撤销申请", rep.Toast)
			} else {
				rep = b.say(t, "hanmeimei", "/cancel "+leave.Number+" 行程取消")
			}
			got := text(rep)
			require.Contains(t, got, "已提交撤销 "+leave.Number+" 的申请 XJ-")
			require.Contains(t, got, "直属上级确认")

			tasks, err := b.db.Tasks(b.ctx, flows.TaskFilter{Assignee: "lilei", Status: []flows.TaskStatus{flows.TaskPending}})
			require.NoError(t, err)
			require.Len(t, tasks, 1, "the manager decides the cancellation")
			approve := taskButton("approve", tasks[0])
			b.click(t, "lilei", approve, nil)

			status = lastCard(t, b.say(t, "hanmeimei", "/status "+leave.Number))
			require.Contains(t, cardText(status), "状态: 已撤销")
			require.Contains(t, cardText(status), "扣减年假余额 3 天")
			require.Contains(t, cardText(status), "韩梅梅 撤销了申请（XJ-")
			require.Contains(t, cardText(status), "退回年假余额 3 天")
			require.NotContains(t, actions(status), "cancel_request")
			require.Equal(t, 0.0, b.annualUsed(t, "hanmeimei"), "the days are back")

			// The old Cancel button and the approve click again: refused, nothing changes.
			again := b.click(t, "hanmeimei", btn, nil)
			require.Equal(t, bots.ToastWarning, again.ToastKind)
			require.Contains(t, again.Toast, "只有已通过的申请可以撤销")
			b.click(t, "lilei", approve, nil)
			require.Equal(t, 0.0, b.annualUsed(t, "hanmeimei"), "no double restore")
			n, err := b.db.Instances(b.ctx, flows.InstanceFilter{FlowID: "leave_cancel"})
			require.NoError(t, err)
			require.Len(t, n, 1)
		})
	}
}

func TestCancelRefusedInChat(t *testing.T) {
	t.Parallel()
	b := setupBalances(t)
	leave := approvedLeave(t, b)
	pending, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
		"type": "sick", "period": map[string]any{"from": "2026-12-07", "to": "2026-12-07"}}})
	require.NoError(t, err)
	expense, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "expense", Values: map[string]any{
		"amount": 100, "category": "travel", "description": "taxi"}})
	require.NoError(t, err)
	tests := []struct {
		name, user, say string
		btn             *bots.Button
		want            string
	}{
		{"someone else's leave", "zhangwei", "/cancel " + leave.Number, nil, "只有申请人可以撤销 " + leave.Number},
		{"in English", "tom", "/cancel " + leave.Number, nil, "Only the applicant may cancel " + leave.Number},
		{"pending leave", "hanmeimei", "/cancel " + pending.Instance.Number, nil, "只有已通过的申请可以撤销"},
		{"a flow without a cancel rule", "hanmeimei", "/cancel " + expense.Instance.Number, nil, "没有撤销规则"},
		{"unknown number", "hanmeimei", "/cancel LEAVE-20991231-0001", nil, "LEAVE-20991231-0001"},
		{"no number: leaves the conversation", "hanmeimei", "/cancel", nil, "当前没有进行中的对话"},
		{"broken button", "hanmeimei", "", &bots.Button{Action: "cancel_request", Value: map[string]string{"instance": "abc"}}, "这张卡片的数据有误"},
		{"button of someone else's leave", "zhangwei", "", &bots.Button{Action: "cancel_request", Value: map[string]string{"instance": fmt.Sprint(leave.ID)}}, "只有申请人可以撤销"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rep bots.Reply
			if tc.btn != nil {
				rep = b.click(t, tc.user, *tc.btn, nil)
			} else {
				rep = b.say(t, tc.user, tc.say)
			}
			require.Contains(t, text(rep), tc.want)
			ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{FlowID: "leave_cancel"})
			require.NoError(t, err)
			require.Empty(t, ins, "a refused cancel files nothing")
			require.Equal(t, 3.0, b.annualUsed(t, "hanmeimei"))
		})
	}
}

// The leave form card shows the applicant's balance: of the type given
// inline, or of every type they have before one is chosen; none for an
// applicant with no balance.
func TestLeaveFormShowsBalance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user, cmd string
		want            string // "" = no balance line
	}{
		{"zh, type chosen", "hanmeimei", "/leave form type=annual", "假期余额: 年假剩余 10 天"},
		{"en, type chosen", "tom", "/leave form type=annual", "Leave balance: Annual leave left: 10 days"},
		{"zh, no type yet", "hanmeimei", "/leave form", "假期余额: 年假剩余 10 天"},
		{"short, dates given", "zhangwei", "/leave form type=annual period=2026-12-01~2026-12-03", "年假剩余 2 天（本次 3 天），余额不足"},
		{"no balance", "zhaomin", "/leave form type=annual", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupBalances(t)
			card := lastCard(t, b.say(t, tc.user, tc.cmd))
			require.NotEmpty(t, card.Inputs, "a form card")
			if tc.want == "" {
				require.NotContains(t, cardText(card), "假期余额")
				require.NotContains(t, cardText(card), "Leave balance")
				return
			}
			require.Contains(t, cardText(card), tc.want)
		})
	}
}

// Item 6 of issue 10: each option of the leave-type picker carries that
// type's balance line (with the days of the dates given), for a picker
// that shows the chosen one's as it changes; types without a balance
// carry none.
func TestLeaveFormPickerOptionsCarryBalance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user, cmd, annual string
	}{
		{"hanmeimei", "/leave form", "年假剩余 10 天"},
		{"hanmeimei", "/leave form type=sick period=2026-12-01~2026-12-03", "年假剩余 10 天（本次 3 天）"},
		{"tom", "/leave form", "Annual leave left: 10 days"},
		{"zhangwei", "/leave form period=2026-12-01~2026-12-03", "年假剩余 2 天（本次 3 天），余额不足"},
		{"zhaomin", "/leave form", ""},
	}
	for _, tc := range tests {
		t.Run(tc.user+" "+tc.cmd, func(t *testing.T) {
			t.Parallel()
			b := setupBalances(t)
			card := lastCard(t, b.say(t, tc.user, tc.cmd))
			var typ *bots.Input
			for i := range card.Inputs {
				if card.Inputs[i].Name == "type" {
					typ = &card.Inputs[i]
				}
			}
			require.NotNil(t, typ)
			for _, o := range typ.Options {
				if o.Value == "annual" {
					require.Equal(t, tc.annual, o.Note)
				} else {
					require.Empty(t, o.Note, "%s has no balance", o.Value)
				}
			}
		})
	}
}
