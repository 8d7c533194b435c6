package bots_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
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
			wb := &recordingMessenger{updates: map[string][]bots.Message{}, byKey: map[string]string{}}
			n := notify.New(notify.Config{Store: b.db, Renderer: b.bot, Clock: b.clock.Now, Workers: 1,
				Messengers: map[string]bots.Messenger{"web": wb}})
			drain := func() {
				for range 10 {
					got, err := n.DrainOnce(b.ctx)
					require.NoError(t, err)
					if got == 0 {
						return
					}
				}
			}
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
