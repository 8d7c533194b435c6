package bots_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Item 5 of issue 10: when the applicant gets a new copy of a request
// card (a /status answer), the older copies lose their buttons without
// waiting for the request to change: only the newest copy keeps Urge and
// Withdraw, and the older ones say where to act, in the user's language.
func TestNewCopyTakesTheButtonsFromOlderOnes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ user, note string }{
		{"dev1", "这张卡片已有更新的一份，请在最新的卡片上操作。"},
		{"dev2", "There is a newer copy of this card; act on the newest one."},
	} {
		t.Run(tc.user, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out := b.submit(t, tc.user, 2)
			wb, drain := webNotifier(t, b, b.bot, 1)
			drain()
			var refs []string
			for range 3 {
				b.clock.Add(time.Minute)
				rep := b.say(t, tc.user, "/status "+out.Instance.Number)
				require.Equal(t, []string{"urge", "withdraw"}, actions(lastCard(t, rep)), "the new copy is live")
				drain()
				refs = append(refs, wb.ref(rep.Messages[len(rep.Messages)-1].Key))
				require.NotEmpty(t, refs[len(refs)-1])
			}
			b.clock.Add(10 * time.Second) // the update of the older copies is due
			drain()
			for i, ref := range refs[:2] {
				c := wb.last(ref)
				require.NotNil(t, c, "copy %d was updated", i)
				require.Empty(t, c.Buttons, "copy %d is older: read-only", i)
				require.Equal(t, tc.note, c.Note)
				require.Contains(t, cardText(c), out.Instance.Number, "and still shows the request")
			}
			if c := wb.last(refs[2]); c != nil {
				require.Equal(t, []string{"urge", "withdraw"}, actions(c), "the newest copy keeps its buttons")
			}
			v := mustView(t, b, out)
			require.Equal(t, flows.StatusPending, v.Instance.Status, "nothing else changed")
		})
	}
}

// A notice's copy keeps its headline when the request's cards are updated
// later: the rejection notice still says who rejected the request and
// why, in the applicant's language, above the request as it is now; a
// plain copy (a /status answer) is updated as the plain card.
func TestNoticeCopyKeepsItsHeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ user, headline string }{
		{"dev1", "❌ 你的申请"},
		{"dev2", "❌ Your request"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			reachEveryoneOnWeb(t, b)
			out := b.submit(t, tc.user, 2)
			wb, drain := webNotifier(t, b, b.bot, 1)
			drain()
			var task *flows.Task
			for _, tk := range out.Tasks {
				if tk.Status == flows.TaskPending {
					task = tk
				}
			}
			require.NotNil(t, task)
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: task.Assignee, TaskID: task.ID, Approve: false, Comment: "不行"})
			require.NoError(t, err)
			drain()
			rep := b.say(t, tc.user, "/status "+out.Instance.Number)
			drain()
			plain := wb.ref(rep.Messages[len(rep.Messages)-1].Key)
			require.NotEmpty(t, plain)
			delivered, err := b.db.Outbox(b.ctx, flows.OutboxDelivered, 100)
			require.NoError(t, err)
			notice := ""
			for _, m := range delivered {
				if m.Kind == flows.MsgRejected && m.InstanceID == out.Instance.ID {
					notice = wb.ref(fmt.Sprintf("outbox-%d-web", m.ID))
				}
			}
			require.NotEmpty(t, notice, "the rejection notice was sent")

			// A notice whose data cannot be read any more is updated as
			// the plain card rather than not at all.
			require.NoError(t, b.db.SaveMessageRef(b.ctx, &flows.MessageRef{InstanceID: out.Instance.ID, Recipient: tc.user, Platform: "web",
				Ref: "unreadable", CreatedAt: b.clock.Now(), Kind: flows.MsgRejected, Data: json.RawMessage(`{"by":`)}))

			// A later change of the request updates every copy.
			b.clock.Add(time.Minute)
			enqueueCardUpdate(t, b, out.Instance.ID, task.ID)
			drain()
			c := wb.last(notice)
			require.NotNil(t, c, "the notice's copy was updated")
			require.Contains(t, cardText(c), tc.headline, "and keeps its headline")
			require.Contains(t, cardText(c), out.Instance.Number)
			p := wb.last(plain)
			require.NotNil(t, p, "the plain copy was updated")
			require.NotContains(t, cardText(p), tc.headline, "a plain copy gets no headline")
			require.Contains(t, cardText(p), out.Instance.Number)
			u := wb.last("unreadable")
			require.NotNil(t, u, "the unreadable notice was updated")
			require.Contains(t, cardText(u), out.Instance.Number, "as the plain card")
		})
	}
}
