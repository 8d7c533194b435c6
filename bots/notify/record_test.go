package notify_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
)

// plainStore hides the store's optional interfaces (a store without
// MarkDeliveredWithRefs or ExtendClaim): the notifier writes each card ref
// and the delivery one by one.
type plainStore struct{ flows.Store }

// TestDeliveryRecordedWithItsRefs checks a delivery and its card refs are
// written whether the store records them in one write (SQLite) or not:
// the message is delivered, both copies' refs are kept, in either case.
func TestDeliveryRecordedWithItsRefs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plain bool
	}{{"one write", false}, {"one by one", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var store flows.Store = b.db
			if tc.plain {
				store = plainStore{b.db}
			} else {
				_, ok := store.(notify.DeliveryRecorder)
				require.True(t, ok, "store/sqlite records a delivery with its refs")
			}
			n := b.notifier(notify.Config{Store: store})
			id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 7, TaskID: 70})[0]
			got, err := n.DrainOnce(b.ctx)
			require.NoError(t, err)
			require.Equal(t, 1, got)
			require.Contains(t, b.outbox(t, flows.OutboxDelivered), id)
			refs, err := b.db.MessageRefs(b.ctx, 7, 70)
			require.NoError(t, err)
			var platforms []string
			for _, r := range refs {
				platforms = append(platforms, r.Platform)
				require.Equal(t, "alice", r.Recipient)
			}
			require.ElementsMatch(t, []string{"feishu", "web"}, platforms)
		})
	}
}

// TestSentCopyRefKeptWhenAnotherPlatformFails checks that when a task card
// reached Feishu but the web send failed, the Feishu copy's ref is kept
// at once (a later card update reaches it) while the message waits for
// its retry; the retry sends the web copy, and Feishu is not sent twice.
func TestSentCopyRefKeptWhenAnotherPlatformFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{Backoff: []time.Duration{time.Second}})
	b.web.setFail(1)
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 8, TaskID: 80})[0]
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	pending := b.outbox(t, flows.OutboxPending)
	require.Contains(t, pending, id, "retried later")
	require.Equal(t, 1, pending[id].Attempts)
	refs, err := b.db.MessageRefs(b.ctx, 8, 80)
	require.NoError(t, err)
	require.Len(t, refs, 1)
	require.Equal(t, "feishu", refs[0].Platform)

	b.clock.Add(2 * time.Second)
	got, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, got)
	require.Contains(t, b.outbox(t, flows.OutboxDelivered), id)
	refs, err = b.db.MessageRefs(b.ctx, 8, 80)
	require.NoError(t, err)
	require.Len(t, refs, 2, "the web copy's ref joins; the Feishu ref saved again is no second row")
	require.Equal(t, []string{fmt.Sprintf("outbox-%d-feishu", id)}, b.feishu.shownKeys())
	require.Equal(t, []string{fmt.Sprintf("outbox-%d-web", id)}, b.web.shownKeys())
}
