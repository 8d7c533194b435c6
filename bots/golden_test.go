package bots_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares the indented JSON of v with testdata/golden/name.json,
// or rewrites that file with -update.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run: go test ./bots/ -run TestGoldenCards -update")
	require.Equal(t, string(want), string(got), "card %s changed; if on purpose, run: go test ./bots/ -run TestGoldenCards -update", name)
}

// TestGoldenCards pins the platform-neutral cards the adapters render:
// a fresh database (fixed ids), a fixed clock, a fixed conversation token.
func TestGoldenCards(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := b.engine.PublishFlow(b.ctx, "trip.yaml", []byte(tripYAML))
	require.NoError(t, err)
	users := map[string]*flows.User{}
	all, _ := testOrg()
	for _, u := range all {
		users[u.ID] = u
	}
	view := func(id int64) *flows.View {
		t.Helper()
		v, err := b.engine.View(b.ctx, id)
		require.NoError(t, err)
		return v
	}
	render := func(m *flows.OutboxMessage, to string) bots.Message {
		t.Helper()
		msg, err := b.bot.Render(b.ctx, m, users[to])
		require.NoError(t, err)
		return msg
	}

	pending := b.submit(t, "dev1", 5) // LEAVE-20261126-0001: manager, then hr
	pt := pendingTask(t, pending, "cto")
	approved := b.submit(t, "dev1", 2) // LEAVE-20261126-0002
	at := pendingTask(t, approved, "cto")
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: at.ID, Approve: true, Comment: "同意，注意交接"})
	require.NoError(t, err)
	rejected := b.submit(t, "dev1", 2) // LEAVE-20261126-0003
	rt := pendingTask(t, rejected, "cto")
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: rt.ID, Approve: false, Comment: "项目上线期间"})
	require.NoError(t, err)
	trip, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev2", FlowID: "trip", Values: map[string]any{"city": "London", "days": 3}})
	require.NoError(t, err)
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, trip, "cto").ID, Approve: false, Comment: "please add the agenda"})
	require.NoError(t, err)

	tripZH, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "trip", Values: map[string]any{"city": "上海", "days": 7, "note": "客户现场"}})
	require.NoError(t, err)
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, tripZH, "cto").ID, Approve: false, Comment: "请附上行程"})
	require.NoError(t, err)

	summary := lastCard(t, b.say(t, "dev1", `/leave type=annual period=2026-12-01~2026-12-03 reason="家里有事"`))
	for i := range summary.Buttons {
		summary.Buttons[i].Value["conv"] = "TOKEN" // random per conversation
	}

	// The same request as one form card, in English, as it comes back
	// with a mistake (typed values kept, the error by its field).
	form := lastCard(t, b.say(t, "dev2", `/leave form type=annual`))
	formErr := b.click(t, "dev2", button(t, form, "form_submit"), map[string]string{"type": "annual", "period": "2026-12-03~2026-12-01", "reason": "family"}).Card
	for _, c := range []*bots.Card{form, formErr} {
		for i := range c.Buttons {
			c.Buttons[i].Value["conv"] = "TOKEN"
		}
	}

	b.clock.Add(5 * time.Hour)
	cases := []struct {
		name string
		v    any
	}{
		{"task_pending", b.bot.TaskCard(view(pending.Instance.ID), pt, users["cto"])},
		{"task_pending_en_readonly", b.bot.TaskCard(view(pending.Instance.ID), pt, users["dev2"])},
		{"task_approved", b.bot.TaskCard(view(approved.Instance.ID), findTaskByID(view(approved.Instance.ID), at.ID), users["cto"])},
		{"task_rejected", b.bot.TaskCard(view(rejected.Instance.ID), findTaskByID(view(rejected.Instance.ID), rt.ID), users["cto"])},
		{"request_pending", b.bot.RequestCard(view(pending.Instance.ID), users["dev1"])},
		{"request_approved", render(&flows.OutboxMessage{Kind: flows.MsgApproved, InstanceID: approved.Instance.ID}, "dev1").Card},
		{"request_rejected", render(&flows.OutboxMessage{Kind: flows.MsgRejected, InstanceID: rejected.Instance.ID, Data: raw(t, map[string]any{"by": "cto", "comment": "项目上线期间"})}, "dev1").Card},
		{"request_returned", render(&flows.OutboxMessage{Kind: flows.MsgReturned, InstanceID: tripZH.Instance.ID, Data: raw(t, map[string]any{"by": "cto", "comment": "请附上行程"})}, "dev1").Card},
		{"request_returned_en", render(&flows.OutboxMessage{Kind: flows.MsgReturned, InstanceID: trip.Instance.ID, Data: raw(t, map[string]any{"by": "cto", "comment": "please add the agenda"})}, "dev2").Card},
		{"summary", summary},
		{"form_en", form},
		{"form_en_error", formErr},
		{"reminder", render(&flows.OutboxMessage{Kind: flows.MsgReminder, InstanceID: pending.Instance.ID, TaskID: pt.ID}, "cto").Card},
		{"escalation", render(&flows.OutboxMessage{Kind: flows.MsgEscalation, InstanceID: pending.Instance.ID, TaskID: pt.ID, Data: raw(t, map[string]any{"assignee": "cto"})}, "ceo").Card},
		{"digest_text", render(&flows.OutboxMessage{Kind: flows.MsgText, Recipient: "cto", Data: raw(t, map[string]any{"text": map[string]any{
			"zh": "📊 每日摘要 11-26\n待审批 3 条（超时 1 条）\n昨日：同意 5，驳回 1\n最慢的步骤：人事审批（中位 6 小时）",
			"en": "📊 Daily digest 11-26\n3 pending (1 overdue)\nYesterday: 5 approved, 1 rejected\nSlowest step: HR (median 6 h)",
		}})}, "cto")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NotNil(t, c.v)
			golden(t, c.name, c.v)
		})
	}
}

func findTaskByID(v *flows.View, id int64) *flows.Task {
	for _, t := range v.Tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}
