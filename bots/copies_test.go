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
