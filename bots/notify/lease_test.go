package notify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// gate is a platform whose sends block until the test opens it (or the
// send is cancelled), like a platform that is slow or rate-limits us.
type gate struct {
	*platform
	open    chan struct{}
	entered chan string // the key of each send that started waiting
	cut     atomic.Int32
}

func newGate(p *platform) *gate {
	return &gate{platform: p, open: make(chan struct{}), entered: make(chan string, 16)}
}

func (g *gate) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	g.entered <- key
	select {
	case <-g.open:
	case <-ctx.Done():
		g.cut.Add(1)
		return "", ctx.Err()
	}
	return g.platform.Send(ctx, to, msg, key)
}

// A claim is renewed while its send is slow: no other claimer gets the
// message though its lease ran out many times over, and it is shown once.
func TestClaimRenewedWhileSending(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slow := newGate(b.web)
	lease := 1500 * time.Millisecond // renewed every 500 ms: room for a loaded machine
	n := notify.New(notify.Config{Store: b.db, Renderer: b.render, Workers: 1, Lease: lease,
		Messengers: map[string]bots.Messenger{"web": slow}})
	ids := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10})
	done := make(chan error, 1)
	go func() { _, err := n.DrainOnce(b.ctx); done <- err }()
	<-slow.entered
	require.Never(t, func() bool {
		got, err := b.db.ClaimOutbox(b.ctx, time.Now(), 10, lease)
		require.NoError(t, err)
		return len(got) > 0
	}, 3*lease, 20*time.Millisecond, "another replica claimed a message still being sent")
	close(slow.open)
	require.NoError(t, <-done)
	require.Contains(t, b.outbox(t, flows.OutboxDelivered), ids[0])
	require.Equal(t, []string{fmt.Sprintf("outbox-%d-web", ids[0])}, b.web.shownKeys(), "shown once")
}

// When another claimer took the message (this one froze past its lease),
// the send is cut off and nothing is recorded: the new claimer owns it.
func TestLostClaimCutsTheSendOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slow := newGate(b.web)
	n := notify.New(notify.Config{Store: b.db, Renderer: b.render, Clock: b.clock.Now, Workers: 1, Lease: 300 * time.Millisecond,
		Messengers: map[string]bots.Messenger{"web": slow}})
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10})[0]
	done := make(chan error, 1)
	go func() { _, err := n.DrainOnce(b.ctx); done <- err }()
	<-slow.entered
	// A replica whose clock says an hour later takes it over.
	theirs, err := b.db.ClaimOutbox(b.ctx, b.clock.Now().Add(time.Hour), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, theirs, 1)
	require.NoError(t, <-done)
	require.Equal(t, int32(1), slow.cut.Load(), "the send was cut off")
	m := b.outbox(t, flows.OutboxPending)[id]
	require.NotNil(t, m, "still pending for its new claimer")
	require.Zero(t, m.Attempts, "the cut-off send is not counted as a failed attempt")
	require.Equal(t, theirs[0].NextAt, m.NextAt, "the new claim is untouched")
	require.Empty(t, b.web.shownKeys())
}

// Run has no batch barrier: while one send is stuck, the messages enqueued
// after it are claimed and delivered by the other workers.
func TestRunHasNoBatchBarrier(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slow := newGate(b.web) // bob is on web only
	n := notify.New(notify.Config{Store: b.db, Renderer: b.render, Clock: b.clock.Now, Workers: 2, Poll: time.Hour,
		Messengers: map[string]bots.Messenger{"web": slow, "feishu": b.feishu}}) // dave is on feishu:cli_b
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	stuck := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10})[0]
	n.Kick()
	<-slow.entered
	for i := range 5 {
		id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "dave", InstanceID: 2, TaskID: int64(20 + i)})[0]
		n.Kick()
		require.Eventually(t, func() bool { return b.outbox(t, flows.OutboxDelivered)[id] != nil }, 10*time.Second, 5*time.Millisecond,
			"message %d enqueued after the stuck one was not delivered", i)
	}
	require.NotContains(t, b.outbox(t, flows.OutboxDelivered), stuck)
	close(slow.open)
	require.Eventually(t, func() bool { return b.outbox(t, flows.OutboxDelivered)[stuck] != nil }, 10*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.Len(t, b.feishu.shownKeys(), 5)
}

// Stopping Run cuts off the sends in flight and gives their claims back:
// the next process sends them at once instead of after the lease.
func TestRunGivesClaimsBackWhenStopped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slow := newGate(b.web)
	n := notify.New(notify.Config{Store: b.db, Renderer: b.render, Clock: b.clock.Now, Workers: 2, Lease: time.Hour,
		Messengers: map[string]bots.Messenger{"web": slow}})
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	ids := b.enqueue(t,
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10},
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 11})
	n.Kick()
	<-slow.entered
	<-slow.entered
	cancel()
	require.NoError(t, <-done)
	got, err := b.db.ClaimOutbox(b.ctx, b.clock.Now(), 10, time.Minute)
	require.NoError(t, err)
	require.ElementsMatch(t, ids, testkit.OutboxIDs(got), "both claims given back")
}
