package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

func TestApproveClick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")

	// The card the approver sees has the buttons; the applicant's copy not.
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	users, _ := testOrg()
	card := b.bot.TaskCard(v, task, users[1])
	require.Equal(t, []string{"approve", "reject", "transfer", "add_signer", "comment"}, actions(card))
	require.Equal(t, bots.StylePrimary, card.Buttons[0].Style)
	require.Equal(t, bots.StyleDanger, card.Buttons[1].Style)
	require.Equal(t, bots.ColorBlue, card.Color)
	require.Contains(t, cardText(card), "申请人: 韩梅梅")
	require.Contains(t, cardText(card), "部门: 研发部")
	require.Empty(t, b.bot.TaskCard(v, task, users[2]).Buttons)

	rep := b.click(t, "cto", button(t, card, "approve"), map[string]string{"comment": "好的"})
	require.Equal(t, "已同意", rep.Toast)
	require.NotNil(t, rep.Card)
	require.Empty(t, rep.Card.Buttons, "a decided task has no buttons")
	require.Equal(t, bots.ColorGreen, rep.Card.Color)
	require.Equal(t, "已由 李雷 同意 · 10:00", rep.Card.Note)
	require.Contains(t, rep.Card.Markdown, "好的")

	// A second click on the same card: the engine's answer, nothing changes.
	rep = b.click(t, "cto", button(t, card, "approve"), nil)
	require.Contains(t, rep.Toast, "已由 李雷 处理")
	require.Empty(t, rep.Card.Buttons)
	require.Contains(t, text(b.say(t, "dev1", "/mine")), "已通过")
}

func TestRejectClick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	btn := taskButton("reject", pendingTask(t, out, "cto"))

	rep := b.click(t, "cto", btn, map[string]string{"comment": "  "})
	require.Equal(t, "驳回请填写理由", rep.Toast)
	require.NotNil(t, rep.Card)
	require.Contains(t, actions(rep.Card), "reject", "the task is still open")
	require.Equal(t, "comment", rep.Card.Inputs[0].Name)
	require.NotEmpty(t, rep.Card.Inputs[0].Error, "the reason input is highlighted")
	require.Empty(t, rep.Card.Inputs[1].Error)

	rep = b.click(t, "cto", btn, map[string]string{"comment": "时间冲突"})
	require.Equal(t, "已驳回", rep.Toast)
	require.Equal(t, bots.ColorRed, rep.Card.Color)
	require.Equal(t, "已由 李雷 驳回 · 10:00", rep.Card.Note)
	require.Contains(t, text(b.say(t, "dev1", "/mine")), "已驳回")
}

func TestTransferAddSignerAndCommentClicks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")

	rep := b.click(t, "cto", taskButton("comment", task), map[string]string{"comment": "请补充说明"})
	require.Equal(t, "评论已发送", rep.Toast)
	require.Contains(t, actions(rep.Card), "approve", "a comment leaves the task open")

	rep = b.click(t, "cto", taskButton("comment", task), nil)
	require.Equal(t, "请填写内容", rep.Toast)

	rep = b.click(t, "cto", taskButton("transfer", task), map[string]string{"comment": "出差"})
	require.Equal(t, "请填写要转交或加签的人", rep.Toast)
	require.NotEmpty(t, rep.Card.Inputs[1].Error)

	rep = b.click(t, "cto", taskButton("transfer", task), map[string]string{"user": "nobody", "comment": "出差"})
	require.Contains(t, rep.Toast, "找不到「nobody」")

	rep = b.click(t, "cto", taskButton("transfer", task), map[string]string{"user": "王总"})
	require.Equal(t, "请填写理由。", rep.Toast)
	require.NotEmpty(t, rep.Card.Inputs[0].Error)

	rep = b.click(t, "cto", taskButton("add_signer", task), map[string]string{"user": "hr1", "position": "sideways"})
	require.Contains(t, rep.Toast, "加签位置")

	rep = b.click(t, "cto", taskButton("transfer", task), map[string]string{"user": "王总", "comment": "出差"})
	require.Equal(t, "已转交给 王总", rep.Toast)
	require.Empty(t, rep.Card.Buttons)
	require.Equal(t, bots.ColorGrey, rep.Card.Color)
	require.Contains(t, rep.Card.Note, "转交给 王总")

	// The new assignee adds a signer by email, alongside.
	todo := b.say(t, "ceo", "/todo")
	card := lastCard(t, todo)
	rep = b.click(t, "ceo", button(t, card, "add_signer"), map[string]string{"user": "hr1", "position": "同时"})
	require.Equal(t, "已加签 刘人事", rep.Toast)
	require.Contains(t, actions(rep.Card), "approve", "alongside: the ceo still decides")
	require.Contains(t, text(b.say(t, "hr1", "/todo")), "LEAVE-20261126-0001")
}

func TestRefusedClicks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")

	// Not the assignee.
	rep := b.click(t, "dev2", taskButton("approve", task), nil)
	require.Contains(t, rep.Toast, "not yours")
	require.Contains(t, rep.Toast, "李雷")
	require.Nil(t, rep.Card, "a non-assignee gets a toast only: a shared card stays as the assignee sees it")
	require.Equal(t, bots.ToastWarning, rep.ToastKind)
	require.Contains(t, text(b.say(t, "cto", "/todo")), "你有 1 条待审批")

	// Broken and unknown buttons.
	rep = b.click(t, "cto", bots.Button{Action: "approve", Value: map[string]string{"task": "x"}}, nil)
	require.Contains(t, rep.Toast, "卡片的数据有误")
	rep = b.click(t, "cto", bots.Button{Action: "explode", Value: map[string]string{"task": "1"}}, nil)
	require.Contains(t, rep.Toast, "无法处理这个按钮")
	rep = b.click(t, "cto", bots.Button{Action: "approve", Value: map[string]string{"task": "999"}}, nil)
	require.Contains(t, rep.Toast, "找不到这个审批任务")

	// The applicant withdraws from the request card; the approver's card
	// then refuses and shows the withdrawn state.
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	users, _ := testOrg()
	rc := b.bot.RequestCard(v, users[2])
	rep = b.click(t, "dev1", button(t, rc, "urge"), nil)
	require.Equal(t, "已催办审批人", rep.Toast)
	rep = b.click(t, "dev1", button(t, rc, "withdraw"), nil)
	require.Empty(t, rep.Toast, "Withdraw asks first")
	require.Equal(t, []string{"withdraw", "keep"}, actions(rep.Card))
	rep = b.click(t, "dev1", button(t, rep.Card, "withdraw"), nil)
	require.Equal(t, "已撤回", rep.Toast)
	require.Equal(t, bots.ColorGrey, rep.Card.Color)
	require.Equal(t, []string{"copy"}, actions(rep.Card), "a withdrawn request offers only a copy")

	rep = b.click(t, "cto", taskButton("approve", task), nil)
	require.Contains(t, rep.Toast, "已结束")
	require.Empty(t, rep.Card.Buttons)
	require.Contains(t, rep.Card.Note, "申请人已撤回")
	ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	require.Equal(t, flows.StatusWithdrawn, ins[0].Status)
}
