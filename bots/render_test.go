package bots_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

func TestRenderEveryKind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	byID := testUsers()
	out := b.submit(t, "dev1", 5) // manager, then hr
	in := out.Instance
	task := pendingTask(t, out, "cto")
	tests := []struct {
		name  string
		m     flows.OutboxMessage
		to    string
		want  []string
		color bots.Color
		btns  bool
	}{
		{"task", flows.OutboxMessage{Kind: flows.MsgTask, TaskID: task.ID}, "cto", []string{"有一条新的审批待你处理", "LEAVE-20261126-0001"}, bots.ColorBlue, true},
		{"task en", flows.OutboxMessage{Kind: flows.MsgTask, TaskID: task.ID}, "dev2", []string{"Leave · LEAVE-20261126-0001", "Waiting for 李雷"}, bots.ColorBlue, false},
		{"submitted", flows.OutboxMessage{Kind: flows.MsgSubmitted}, "dev1", []string{"已提交，申请编号 LEAVE-20261126-0001", "→ 上级审批 — 李雷", "… 人事审批 — 刘人事"}, bots.ColorBlue, true},
		{"reminder", flows.OutboxMessage{Kind: flows.MsgReminder, TaskID: task.ID}, "cto", []string{"⏰ 提醒：请假 LEAVE-20261126-0001 待你审批，已等待 5 小时"}, bots.ColorOrange, true},
		{"escalation", flows.OutboxMessage{Kind: flows.MsgEscalation, TaskID: task.ID, Data: raw(t, map[string]any{"assignee": "cto"})}, "ceo", []string{"已超时未处理，审批人 李雷"}, bots.ColorOrange, false},
		{"cc", flows.OutboxMessage{Kind: flows.MsgCC, Data: raw(t, map[string]any{"text": map[string]any{"zh": "请知悉", "en": "FYI"}})}, "dev2", []string{"For your information", "FYI"}, bots.ColorBlue, false},
		{"urge", flows.OutboxMessage{Kind: flows.MsgUrge, TaskID: task.ID}, "cto", []string{"韩梅梅 在催办"}, bots.ColorBlue, true},
		{"comment", flows.OutboxMessage{Kind: flows.MsgComment, Data: raw(t, map[string]any{"by": "cto", "text": "请补充"})}, "dev1", []string{"李雷 评论了 请假 LEAVE-20261126-0001：请补充", "回复"}, bots.ColorBlue, true},
		{"own comment echoed", flows.OutboxMessage{Kind: flows.MsgComment, Data: raw(t, map[string]any{"by": "dev1", "text": "请补充"})}, "dev1", []string{"韩梅梅 评论了"}, bots.ColorBlue, false},
		{"reply to me", flows.OutboxMessage{Kind: flows.MsgComment, Data: raw(t, map[string]any{"by": "dev2", "text": "done", "reply_to": "cto"})}, "cto", []string{"Tom 回复了你在 请假 LEAVE-20261126-0001 的评论：done"}, bots.ColorBlue, true},
		{"reply to another en", flows.OutboxMessage{Kind: flows.MsgComment, Data: raw(t, map[string]any{"by": "dev1", "text": "ok", "reply_to": "cto"})}, "dev2", []string{"韩梅梅 replied to 李雷 on Leave LEAVE-20261126-0001: ok"}, bots.ColorBlue, true},
		{"sent back", flows.OutboxMessage{Kind: flows.MsgSentBack, Data: raw(t, map[string]any{"by": "hr1", "comment": "请上级确认", "step": "hr", "to": "manager"})}, "dev1", []string{"被 刘人事 退回到「上级审批」重新审批：请上级确认"}, bots.ColorBlue, true},
		{"sent back en", flows.OutboxMessage{Kind: flows.MsgSentBack, Data: raw(t, map[string]any{"by": "hr1", "comment": "check", "step": "hr", "to": "manager"})}, "dev2", []string{"sent back by 刘人事 to \"Manager\" to be decided again: check"}, bots.ColorBlue, false},
		{"transferred", flows.OutboxMessage{Kind: flows.MsgTransferred, TaskID: task.ID, Data: raw(t, map[string]any{"to": "ceo"})}, "cto", []string{"已转交给 王总"}, "", false},
		{"rejected", flows.OutboxMessage{Kind: flows.MsgRejected, Data: raw(t, map[string]any{"by": "cto", "comment": "不行"})}, "dev1", []string{"被 李雷 驳回：不行"}, bots.ColorBlue, true},
		{"returned", flows.OutboxMessage{Kind: flows.MsgReturned, Data: raw(t, map[string]any{"by": "cto"})}, "dev2", []string{"returned by 李雷 for changes: (none)"}, bots.ColorBlue, false},
		{"failed", flows.OutboxMessage{Kind: flows.MsgFailed, Data: raw(t, map[string]any{"error": "HTTP 500"})}, "dev1", []string{"处理失败：HTTP 500"}, bots.ColorBlue, true},
		// A line only: the applicant's request cards are updated in place.
		{"progress", flows.OutboxMessage{Kind: flows.MsgProgress, Data: raw(t, map[string]any{"step": "manager"})}, "dev1", []string{"「上级审批」已通过", "LEAVE-20261126-0001"}, "", false},
		{"approved", flows.OutboxMessage{Kind: flows.MsgApproved}, "dev2", []string{"was approved"}, bots.ColorBlue, false},
		{"withdrawn", flows.OutboxMessage{Kind: flows.MsgWithdrawn, TaskID: task.ID}, "cto", []string{"韩梅梅 撤回了 请假"}, bots.ColorBlue, true},
		{"text", flows.OutboxMessage{Kind: flows.MsgText, Data: raw(t, map[string]any{"text": map[string]any{"zh": "日报", "en": "Digest"}})}, "dev2", []string{"Digest"}, "", false},
		{"plain text", flows.OutboxMessage{Kind: flows.MsgText, Data: raw(t, map[string]any{"text": "你好"})}, "dev2", []string{"你好"}, "", false},
		// Digests are markdown: a card, so that no platform shows raw asterisks.
		{"digest", flows.OutboxMessage{Kind: flows.MsgText, Data: raw(t, map[string]any{"text": map[string]any{"zh": "**每日审批摘要**\n- 待我审批：2", "en": "**Daily digest**\n- Waiting for me: 2"}})}, "dev2", []string{"Daily digest", "Waiting for me: 2"}, bots.ColorBlue, false},
		{"titled report", flows.OutboxMessage{Kind: flows.MsgText, Data: raw(t, map[string]any{"title": map[string]any{"zh": "月报", "en": "Monthly report"}, "text": "- ok"})}, "dev1", []string{"月报", "- ok"}, bots.ColorBlue, false},
	}
	b.clock.Add(5 * time.Hour)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			m.InstanceID, m.Recipient = in.ID, tt.to
			msg, err := b.bot.Render(b.ctx, &m, byID[tt.to])
			require.NoError(t, err)
			got := msg.Text
			if msg.Card != nil {
				got += cardText(msg.Card)
				require.Equal(t, tt.color, msg.Card.Color)
				require.Equal(t, tt.btns, len(msg.Card.Buttons) > 0, "buttons: %v", actions(msg.Card))
			} else {
				require.Empty(t, tt.color, "expected a card")
			}
			for _, w := range tt.want {
				require.Contains(t, got, w)
			}
		})
	}
}

func TestRenderCardUpdateAndErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	users, _ := testOrg()
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	dec, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)
	var upd *flows.OutboxMessage
	for _, m := range dec.Outbox {
		if m.Kind == flows.MsgCardUpdate {
			upd = m
		}
	}
	require.NotNil(t, upd)
	for _, tt := range []struct {
		to   *flows.User
		note string
	}{{users[1], "已由 李雷 同意 · 10:00"}, {users[3], "Approved by 李雷 at 02:00"}} {
		msg, err := b.bot.Render(b.ctx, upd, tt.to)
		require.NoError(t, err)
		require.Equal(t, tt.note, msg.Card.Note)
		require.Empty(t, msg.Card.Buttons)
	}

	bad := []struct {
		name string
		m    flows.OutboxMessage
	}{
		{"http", flows.OutboxMessage{Kind: flows.MsgHTTP, InstanceID: out.Instance.ID}},
		{"unknown kind", flows.OutboxMessage{Kind: "fax", InstanceID: out.Instance.ID}},
		{"no request", flows.OutboxMessage{Kind: flows.MsgApproved}},
		{"missing request", flows.OutboxMessage{Kind: flows.MsgApproved, InstanceID: 999}},
		{"missing task", flows.OutboxMessage{Kind: flows.MsgTask, InstanceID: out.Instance.ID, TaskID: 999}},
		{"bad data", flows.OutboxMessage{Kind: flows.MsgRejected, InstanceID: out.Instance.ID, Data: json.RawMessage(`{`)}},
		{"text without text", flows.OutboxMessage{Kind: flows.MsgText, Data: json.RawMessage(`{"x":1}`)}},
	}
	for _, tt := range bad {
		_, err := b.bot.Render(b.ctx, &tt.m, users[1])
		require.Error(t, err, tt.name)
	}
	_, err = b.bot.Render(b.ctx, &bad[0].m, users[1])
	require.True(t, errors.Is(err, bots.ErrNotChat))
}

func raw(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
