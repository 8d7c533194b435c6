package bots_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// updatesOf lists the card updates among pending outbox messages of a request.
func updatesOf(t *testing.T, b *bundle, instID int64) []*flows.OutboxMessage {
	t.Helper()
	ms, err := b.db.Outbox(b.ctx, flows.OutboxPending, 500)
	require.NoError(t, err)
	var out []*flows.OutboxMessage
	for _, m := range ms {
		if m.Kind == flows.MsgCardUpdate && m.InstanceID == instID {
			out = append(out, m)
		}
	}
	return out
}

// Defect 16: an urge and an escalation update every copy of the request's
// cards (the applicant's too), and the updated card shows them.
func TestUrgeAndEscalationUpdateEveryCopy(t *testing.T) {
	t.Parallel()
	escalating := strings.Replace(leaveYAML, "fields:", "deadline:\n  escalate_after: 24h\ncalendar: calendar\nfields:", 1)
	for _, tc := range []struct {
		name string
		act  func(t *testing.T, b *bundle, in *flows.Instance)
		line string
	}{
		{"urge", func(t *testing.T, b *bundle, in *flows.Instance) {
			_, err := b.engine.Urge(b.ctx, "dev1", in.ID)
			require.NoError(t, err)
		}, "催办"},
		{"escalation", func(t *testing.T, b *bundle, in *flows.Instance) {
			_, err := b.engine.Tick(b.ctx, b.clock.Add(25*time.Hour))
			require.NoError(t, err)
		}, "升级"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, _, err := b.engine.PublishFlow(b.ctx, "leave.yaml", []byte(escalating))
			require.NoError(t, err)
			out := b.submit(t, "dev1", 2)
			before := len(updatesOf(t, b, out.Instance.ID))
			tc.act(t, b, out.Instance)
			ups := updatesOf(t, b, out.Instance.ID)
			require.Greater(t, len(ups), before, "a card update for the copies")
			// The applicant's copy, rendered for that update, shows it.
			dev1, err := b.db.User(b.ctx, "dev1")
			require.NoError(t, err)
			up := *ups[0]
			up.TaskID = 0 // the request card's copy
			msg, err := b.bot.Render(b.ctx, &up, dev1)
			require.NoError(t, err)
			require.Contains(t, cardText(msg.Card), tc.line)
		})
	}
}

// Defect 16: /status N shows the whole timeline, a page at a time; the
// card shows the latest events and says how many more there are.
func TestStatusShowsTheWholeTimelinePaged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	for i := range 25 {
		_, err := b.engine.Comment(b.ctx, "dev1", out.Instance.ID, "note "+strings.Repeat("x", i%3)+string(rune('A'+i)))
		require.NoError(t, err)
	}
	n := out.Instance.Number
	for _, tc := range []struct {
		say        string
		has, hasNt []string
	}{
		{"/status " + n, []string{"第 1/2 页，共 26 条", "提交了申请", "/status " + n + " 2"}, []string{"note Y"}},
		{"/status " + n + " 2", []string{"第 2/2 页", "note Y"}, []string{"提交了申请", "下一页"}},
		{"/status " + n + " 9", []string{"第 2/2 页"}, nil},
		{"/status " + n + " x", []string{"第 1/2 页"}, nil},
	} {
		got := text(b.say(t, "dev1", tc.say))
		for _, w := range tc.has {
			require.Contains(t, got, w, "%s: %q", tc.say, got)
		}
		for _, w := range tc.hasNt {
			require.NotContains(t, got, w, "%s: %q", tc.say, got)
		}
	}
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Contains(t, cardText(b.bot.RequestCard(v, nil)), "还有更早的 21 条动态")
}

// Defect 9: after an add-signer before him, 李雷's earlier copies of his
// card are updated when it is his turn again (no "queued" forever).
func TestTurnAgainUpdatesEarlierCopies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	added, err := b.engine.AddSigner(b.ctx, "cto", task.ID, "fin1", flows.SignBefore, "财务先看")
	require.NoError(t, err)
	signer := pendingTask(t, added, "fin1")
	done, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "fin1", TaskID: signer.ID, Approve: true})
	require.NoError(t, err)
	updated := false
	for _, m := range done.Outbox {
		updated = updated || (m.Kind == flows.MsgCardUpdate && m.TaskID == task.ID)
	}
	require.True(t, updated, "李雷's copies of task %d are updated", task.ID)
	v := mustView(t, b, out)
	cto, err := b.db.User(b.ctx, "cto")
	require.NoError(t, err)
	require.Contains(t, actions(b.bot.TaskCard(v, findTaskIn(v, task.ID), cto)), "approve", "his turn: live buttons")
}
