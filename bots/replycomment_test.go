package bots_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// commentMessage renders the newest pending comment message to user.
func commentMessage(t *testing.T, b *bundle, user string) (*flows.OutboxMessage, *bots.Card) {
	t.Helper()
	msgs, err := b.db.Outbox(b.ctx, flows.OutboxPending, 1000)
	require.NoError(t, err)
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Kind == flows.MsgComment && m.Recipient == user {
			msg, err := b.bot.Render(b.ctx, m, mustUser(t, b, user))
			require.NoError(t, err)
			require.NotNil(t, msg.Card)
			return m, msg.Card
		}
	}
	t.Fatalf("no comment message to %s", user)
	return nil, nil
}

// A comment card has Reply; the reply reaches the commenter, even after
// they decided their step, and the audit trail records it.
func TestReplyToComment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 5) // manager (李雷), then HR
	task := pendingTask(t, out, "cto")
	b.click(t, "cto", taskButton("comment", task), map[string]string{"comment": "请补充交接人"})
	_, card := commentMessage(t, b, "dev1")
	require.Contains(t, card.Markdown, "李雷 评论了 请假")
	require.Equal(t, []string{"reply"}, actions(card))

	// 李雷 approves: now a past approver, still reached by the reply.
	b.click(t, "cto", taskButton("approve", task), nil)
	rep := b.click(t, "dev1", button(t, card, "reply"), map[string]string{"comment": "交接给 Tom"})
	require.Equal(t, "回复已发送给 李雷", rep.Toast)

	m, got := commentMessage(t, b, "cto")
	var d map[string]string
	require.NoError(t, json.Unmarshal(m.Data, &d))
	require.Equal(t, "cto", d["reply_to"])
	require.Contains(t, got.Markdown, "韩梅梅 回复了你在 请假 "+out.Instance.Number+" 的评论：交接给 Tom")
	require.Equal(t, []string{"reply"}, actions(got), "and 李雷 can answer back")

	status := text(b.say(t, "dev1", "/status "+out.Instance.Number))
	require.Contains(t, status, "韩梅梅 回复 李雷：交接给 Tom")
	require.Contains(t, text(b.say(t, "dev2", "/status "+out.Instance.Number)), "not see", "an outsider cannot read it")
}

// Bad replies get a clear answer and write nothing.
func TestReplyRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	id := strconv.FormatInt(out.Instance.ID, 10)
	reply := func(to string) bots.Button {
		return bots.Button{Action: "reply", Value: map[string]string{"instance": id, "to": to}}
	}
	tests := []struct {
		name, user string
		btn        bots.Button
		text       string
		toast      string
	}{
		{"empty", "dev1", reply("cto"), "  ", "请填写内容"},
		{"to myself", "dev1", reply("dev1"), "hi", "不能回复自己的评论"},
		{"to nobody", "dev1", reply(""), "hi", "请说明回复谁的评论"},
		{"to an outsider", "dev1", reply("fin1"), "hi", "张会计 不是这条申请的参与人"},
		{"to someone unknown", "dev1", reply("ghost"), "hi", "ghost 不是这条申请的参与人"},
		{"by an outsider", "fin1", reply("cto"), "hi", "你不是这条申请的参与人"},
		{"unknown request", "dev1", bots.Button{Action: "reply", Value: map[string]string{"instance": "99999", "to": "cto"}}, "hi", "找不到申请"},
		{"no request", "dev1", bots.Button{Action: "reply", Value: map[string]string{"to": "cto"}}, "hi", "卡片的数据有误"},
	}
	before := outboxDepth(t, b)
	for _, tc := range tests {
		rep := b.click(t, tc.user, tc.btn, map[string]string{"comment": tc.text})
		require.Contains(t, rep.Toast, tc.toast, tc.name)
		require.Equal(t, bots.ToastWarning, rep.ToastKind, tc.name)
	}
	require.Equal(t, before, outboxDepth(t, b), "nothing sent")
	require.NotContains(t, text(b.say(t, "dev1", "/status "+out.Instance.Number)), "回复")
}
