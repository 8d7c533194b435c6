package notify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// runTaking runs n over st with the store handing its messages to n, and
// waits for Run's first claim. The returned stop ends Run.
func runTaking(t *testing.T, b *bundle, st *countingStore, n *notify.Notifier) (stop func()) {
	t.Helper()
	b.db.SetTaker(n)
	t.Cleanup(func() { b.db.SetTaker(nil) })
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	require.Eventually(t, func() bool { return st.claims.Load() == 1 }, 10*time.Second, time.Millisecond, "the claim at the start")
	return func() {
		cancel()
		require.NoError(t, <-done)
	}
}

// Messages written while the notifier runs are written claimed for it
// and handed over after their commit: another claimer finds nothing due,
// Nudge delivers them, and the notifier writes no claim for them.
func TestMessagesTakenAsWrittenNeedNoClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := &countingStore{DB: b.db}
	n := notify.New(notify.Config{Store: st, Renderer: b.render, Clock: b.clock.Now, Workers: 2, Poll: time.Hour, Lease: time.Minute,
		Messengers: b.messengers()})
	stop := runTaking(t, b, st, n)
	var all []int64
	for i, batch := range [][]*flows.OutboxMessage{
		{{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10}},
		{{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 2, TaskID: 20}, {Kind: flows.MsgTask, Recipient: "bob", InstanceID: 2, TaskID: 21}},
		{{Kind: flows.MsgTask, Recipient: "dave", InstanceID: 3, TaskID: 30}},
	} {
		ids := b.enqueue(t, batch...)
		all = append(all, ids...)
		other, err := b.db.ClaimOutbox(b.ctx, b.clock.Now(), 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, other, "write %d: its messages are claimed by the notifier as written", i)
		n.Nudge()
		require.Eventually(t, func() bool {
			got := b.outbox(t, flows.OutboxDelivered)
			for _, id := range ids {
				if got[id] == nil {
					return false
				}
			}
			return true
		}, 10*time.Second, time.Millisecond, "write %d delivered after its Nudge", i)
	}
	time.Sleep(50 * time.Millisecond) // let a (wrong) claim happen
	stop()
	require.Equal(t, int32(1), st.claims.Load(), "no claim but the one at the start")
	require.Len(t, b.outbox(t, flows.OutboxDelivered), len(all))
	require.Len(t, b.web.shownKeys(), 3, "bob twice and alice once on web, each once")
	require.Len(t, b.feishu.shownKeys(), 2, "alice and dave on feishu")
}

// With every worker busy, written messages wait in a queue of Batch
// places, which the busy worker works through; one that finds the queue
// full is written due, as without a taker, and claimed once a worker is
// free. Each is shown once.
func TestTakeLeavesDueWhatItHasNoRoomFor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := &countingStore{DB: b.db}
	slow := newGate(b.web)
	n := notify.New(notify.Config{Store: st, Renderer: b.render, Clock: b.clock.Now, Workers: 1, Batch: 1, Poll: time.Hour, Lease: time.Minute,
		Messengers: map[string]bots.Messenger{"web": slow}})
	stop := runTaking(t, b, st, n)
	first := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10})[0]
	n.Nudge()
	<-slow.entered // the only worker is busy
	queued := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 11})[0]
	left := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 12})[0]
	pending := b.outbox(t, flows.OutboxPending)
	require.True(t, pending[queued].NextAt.After(b.clock.Now()), "the queued message is written claimed")
	require.True(t, pending[left].NextAt.Equal(b.clock.Now()), "the message with no room is written due")
	n.Nudge()
	close(slow.open)
	require.Eventually(t, func() bool {
		got := b.outbox(t, flows.OutboxDelivered)
		return got[first] != nil && got[queued] != nil && got[left] != nil
	}, 10*time.Second, time.Millisecond, "all three delivered")
	stop()
	// The claim at the start, one for the message left due and, as that
	// claim got all it asked for, perhaps one more that looked again.
	require.GreaterOrEqual(t, st.claims.Load(), int32(2))
	require.LessOrEqual(t, st.claims.Load(), int32(3))
	require.Len(t, b.web.shownKeys(), 3, "each shown once")
}

// Take reserves nothing while Run is not running or for a message due
// later (a Poll claims it once due); a write that rolls back gives its
// reservation back, so the queue's place is free for the next.
func TestTakeRefusalsAndRollback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := &countingStore{DB: b.db}
	n := notify.New(notify.Config{Store: st, Renderer: b.render, Clock: b.clock.Now, Workers: 1, Batch: 1, Poll: time.Hour, Lease: time.Minute,
		Messengers: b.messengers()})
	_, ok := n.Take(b.clock.Now())
	require.False(t, ok, "not running: nothing reserved")
	stop := runTaking(t, b, st, n)
	defer stop()
	_, ok = n.Take(b.clock.Now().Add(time.Minute))
	require.False(t, ok, "due later: left to the claim of a Poll")

	boom := errors.New("boom")
	err := b.db.Update(b.ctx, func(tx flows.Tx) error {
		m := &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10,
			Status: flows.OutboxPending, NextAt: b.clock.Now(), CreatedAt: b.clock.Now()}
		if err := tx.Enqueue(m); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Empty(t, b.outbox(t, flows.OutboxPending), "the rolled back message is not written")
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 11})[0]
	require.True(t, b.outbox(t, flows.OutboxPending)[id].NextAt.After(b.clock.Now()),
		"the only place in the queue was given back by the rollback: the next message is taken")
	n.Nudge()
	require.Eventually(t, func() bool { return b.outbox(t, flows.OutboxDelivered)[id] != nil }, 10*time.Second, time.Millisecond)
	require.Equal(t, int32(1), st.claims.Load(), "no claim but the one at the start")
}

// Stopping Run gives back the claims of messages handed over and not yet
// started, with those cut off: the next process sends them at once.
func TestStopGivesHandedMessagesBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := &countingStore{DB: b.db}
	slow := newGate(b.web)
	n := notify.New(notify.Config{Store: st, Renderer: b.render, Clock: b.clock.Now, Workers: 1, Poll: time.Hour, Lease: time.Hour,
		Messengers: map[string]bots.Messenger{"web": slow}})
	stop := runTaking(t, b, st, n)
	first := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10})[0]
	n.Nudge()
	<-slow.entered
	queued := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 11})[0]
	stop()
	got, err := b.db.ClaimOutbox(b.ctx, b.clock.Now(), 10, time.Minute)
	require.NoError(t, err)
	require.ElementsMatch(t, []int64{first, queued}, testkit.OutboxIDs(got), "both claims given back")
	require.Empty(t, b.web.shownKeys())
}

// stepper is a platform whose sends each wait for a step from the test,
// and which records the order the sends started in.
type stepper struct {
	*platform
	step    chan struct{}
	entered chan string
}

func (s *stepper) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	s.entered <- key
	select {
	case <-s.step:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return s.platform.Send(ctx, to, msg, key)
}

// A message that is due (here written before the store handed messages
// over) is claimed before the messages handed over are started: a steady
// flow of handed messages does not keep it waiting.
func TestDueMessagesAreNotStarvedByHandedOnes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := &countingStore{DB: b.db}
	s := &stepper{platform: b.web, step: make(chan struct{}), entered: make(chan string, 16)}
	n := notify.New(notify.Config{Store: st, Renderer: b.render, Clock: b.clock.Now, Workers: 1, Poll: time.Hour, Lease: time.Minute,
		Messengers: map[string]bots.Messenger{"web": s}})
	stop := runTaking(t, b, st, n)
	defer stop()
	task := func(id int64) *flows.OutboxMessage {
		return &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: id}
	}
	first := b.enqueue(t, task(10))[0]
	n.Nudge()
	require.Equal(t, fmt.Sprintf("outbox-%d-web", first), <-s.entered)
	b.db.SetTaker(nil)
	due := b.enqueue(t, task(11))[0]
	b.db.SetTaker(n)
	n.Kick()
	var handed []int64
	for i := range 3 {
		handed = append(handed, b.enqueue(t, task(int64(20+i)))[0])
		n.Nudge()
	}
	s.step <- struct{}{} // the first is sent
	require.Equal(t, fmt.Sprintf("outbox-%d-web", due), <-s.entered, "the due message goes before the three handed over")
	for range handed {
		s.step <- struct{}{}
		<-s.entered
	}
	s.step <- struct{}{}
	require.Eventually(t, func() bool { return len(b.outbox(t, flows.OutboxDelivered)) == 5 }, 10*time.Second, time.Millisecond)
}

// The claim a message was written with is renewed like any claim while
// its send is slow: no claimer takes it over though its first lease ran
// out many times, and it is sent once, not cut off.
func TestHandedClaimRenewedWhileSending(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := &countingStore{DB: b.db}
	slow := newGate(b.web)
	lease := 150 * time.Millisecond
	n := notify.New(notify.Config{Store: st, Renderer: b.render, Workers: 1, Poll: time.Hour, Lease: lease,
		Messengers: map[string]bots.Messenger{"web": slow}}) // the wall clock: the lease runs out for real
	stop := runTaking(t, b, st, n)
	defer stop()
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10})[0]
	n.Nudge()
	<-slow.entered
	deadline := time.Now().Add(6 * lease)
	for time.Now().Before(deadline) {
		got, err := b.db.ClaimOutbox(b.ctx, time.Now(), 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, got, "the message is still claimed by its sender")
		time.Sleep(lease / 5)
	}
	close(slow.open)
	require.Eventually(t, func() bool { return b.outbox(t, flows.OutboxDelivered)[id] != nil }, 10*time.Second, time.Millisecond)
	require.Zero(t, slow.cut.Load(), "the send was not cut off")
	require.Len(t, b.web.shownKeys(), 1)
}
