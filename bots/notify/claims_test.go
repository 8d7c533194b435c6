package notify_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/sqlite"
)

// countingStore is the SQLite store, counting the outbox claims made.
type countingStore struct {
	*sqlite.DB
	claims atomic.Int32
}

func (s *countingStore) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*flows.OutboxMessage, error) {
	s.claims.Add(1)
	return s.DB.ClaimOutbox(ctx, now, limit, lease)
}

// A worker finishing does not claim again when the last claim found less
// than it asked for: nothing is due until a Kick (or Poll), and every claim
// is a write transaction. Each message is still delivered at its Kick.
func TestFinishedWorkerDoesNotClaimAnEmptyOutbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := &countingStore{DB: b.db}
	n := notify.New(notify.Config{Store: st, Renderer: b.render, Clock: b.clock.Now, Workers: 4, Poll: time.Hour,
		Messengers: map[string]bots.Messenger{"web": b.web, "feishu": b.feishu}})
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	require.Eventually(t, func() bool { return st.claims.Load() == 1 }, 10*time.Second, time.Millisecond, "the claim at the start")
	const messages = 5
	for i := range messages {
		id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: int64(10 + i)})[0]
		n.Kick()
		require.Eventually(t, func() bool { return b.outbox(t, flows.OutboxDelivered)[id] != nil }, 10*time.Second, time.Millisecond,
			"message %d delivered after its Kick", i)
	}
	time.Sleep(50 * time.Millisecond) // let a (wrong) claim after the last delivery happen
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, int32(1+messages), st.claims.Load(), "one claim at the start and one per Kick, none after a delivery")
}
