package flowstest

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var outboxTests = []test{
	{"EnqueueRoundTrip", testEnqueue},
	{"Claim", testClaim},
	{"ClaimLease", testClaimLease},
	{"ClaimConcurrent", testClaimConcurrent},
	{"ExtendClaim", testExtendClaim},
	{"ExtendClaimLost", testExtendClaimLost},
	{"Mark", testMark},
	{"MarkUnknown", testMarkUnknown},
	{"ListByStatus", testOutboxList},
	{"MessageRefs", testMessageRefs},
}

// enqueue writes messages with NextAt = T0 + each offset, in order.
func (b *bundle) enqueue(t *testing.T, offsets ...time.Duration) []*flows.OutboxMessage {
	t.Helper()
	var out []*flows.OutboxMessage
	b.update(t, func(tx flows.Tx) error {
		for i, d := range offsets {
			m := &flows.OutboxMessage{Kind: flows.MsgReminder, Recipient: "bob", InstanceID: int64(i + 1), TaskID: int64(100 + i),
				Data: json.RawMessage(`{"n":` + string(rune('0'+i%10)) + `}`), NextAt: at(d), CreatedAt: at(d)}
			require.NoError(t, tx.Enqueue(m))
			out = append(out, m)
		}
		return nil
	})
	return out
}

func testEnqueue(t *testing.T, b *bundle) {
	want := &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "韩梅梅", InstanceID: 3, TaskID: 9, StepID: "manager",
		Data: json.RawMessage(`{"text":"新的审批","ids":[1,2]}`), NextAt: T0, CreatedAt: at(-time.Second)}
	b.update(t, func(tx flows.Tx) error { return tx.Enqueue(want) })
	require.NotZero(t, want.ID, "Enqueue must set ID")
	got, err := b.s.Outbox(b.ctx, flows.OutboxPending, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	want.Status = flows.OutboxPending
	requireMessage(t, want, got[0])
}

func testClaim(t *testing.T, b *bundle) {
	ms := b.enqueue(t, -3*time.Minute, -2*time.Minute, time.Minute, -time.Minute, 0)
	now := T0
	got, err := b.s.ClaimOutbox(b.ctx, now, 2, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []int64{ms[0].ID, ms[1].ID}, messageIDs(got), "oldest due first, limit 2")
	for _, m := range got {
		requireTime(t, now.Add(time.Minute), m.NextAt, "claimed NextAt = now + lease")
		require.Equal(t, flows.OutboxPending, m.Status)
	}
	want := *ms[0]
	want.NextAt = now.Add(time.Minute)
	requireMessage(t, &want, got[0])

	got, err = b.s.ClaimOutbox(b.ctx, now, 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []int64{ms[3].ID, ms[4].ID}, messageIDs(got), "the rest due by now (inclusive); the future one stays")
	got, err = b.s.ClaimOutbox(b.ctx, now, 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, got, "claimed messages are hidden during their lease")
	depth, err := b.s.OutboxDepth(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 5, depth, "claimed messages are still pending")
}

func testClaimLease(t *testing.T, b *bundle) {
	ms := b.enqueue(t, 0)
	got, err := b.s.ClaimOutbox(b.ctx, T0, 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []int64{ms[0].ID}, messageIDs(got))
	got, err = b.s.ClaimOutbox(b.ctx, at(59*time.Second), 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, got, "still within the lease")
	got, err = b.s.ClaimOutbox(b.ctx, at(time.Minute), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []int64{ms[0].ID}, messageIDs(got), "a lease not ended by delivery ends: the message comes back")
	requireTime(t, at(2*time.Minute), got[0].NextAt, "NextAt of the second claim")
}

func testClaimConcurrent(t *testing.T, b *bundle) {
	const n, claimers = 60, 4
	offsets := make([]time.Duration, n)
	for i := range offsets {
		offsets[i] = -time.Duration(n-i) * time.Second
	}
	ms := b.enqueue(t, offsets...)
	var mu sync.Mutex
	var all []int64
	var wg sync.WaitGroup
	for range claimers {
		wg.Go(func() {
			for range n { // bounded: a store that never hides claims must fail, not hang
				got, err := b.s.ClaimOutbox(b.ctx, T0, 7, time.Hour)
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				all = append(all, messageIDs(got)...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	want := messageIDs(ms)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	require.Equal(t, want, all, "every message claimed exactly once")
}

func testMark(t *testing.T, b *bundle) {
	ms := b.enqueue(t, -time.Minute, -time.Minute, -time.Minute)
	del, retry, fail := ms[0], ms[1], ms[2]
	_, err := b.s.ClaimOutbox(b.ctx, T0, 10, time.Minute)
	require.NoError(t, err)

	require.NoError(t, b.s.MarkDelivered(b.ctx, del.ID, at(time.Second)))
	require.NoError(t, b.s.MarkRetry(b.ctx, retry.ID, at(5*time.Minute), "feishu: 429 too many requests"))
	require.NoError(t, b.s.MarkFailed(b.ctx, fail.ID, "wecom: user not found"))
	require.NoError(t, b.s.MarkRetry(b.ctx, retry.ID, at(10*time.Minute), "feishu: timeout"))

	got, err := b.s.Outbox(b.ctx, flows.OutboxDelivered, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{del.ID}, messageIDs(got))
	requireTimePtr(t, ptr(at(time.Second)), got[0].DeliveredAt, "DeliveredAt")

	got, err = b.s.Outbox(b.ctx, flows.OutboxPending, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{retry.ID}, messageIDs(got))
	require.Equal(t, 2, got[0].Attempts)
	require.Equal(t, "feishu: timeout", got[0].LastError)
	requireTime(t, at(10*time.Minute), got[0].NextAt, "NextAt after MarkRetry")

	got, err = b.s.Outbox(b.ctx, flows.OutboxFailed, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{fail.ID}, messageIDs(got))
	require.Equal(t, 1, got[0].Attempts)
	require.Equal(t, "wecom: user not found", got[0].LastError)

	depth, err := b.s.OutboxDepth(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, depth)

	claimed, err := b.s.ClaimOutbox(b.ctx, at(9*time.Minute), 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, claimed, "a retried message waits for NextAt; delivered and failed ones never come back")
	claimed, err = b.s.ClaimOutbox(b.ctx, at(10*time.Minute), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []int64{retry.ID}, messageIDs(claimed))
}

func testMarkUnknown(t *testing.T, b *bundle) {
	ms := b.enqueue(t, 0)
	ghost := ms[0].ID + 1000
	require.ErrorIs(t, b.s.MarkDelivered(b.ctx, ghost, T0), flows.ErrNotFound)
	require.ErrorIs(t, b.s.MarkRetry(b.ctx, ghost, T0, "x"), flows.ErrNotFound)
	require.ErrorIs(t, b.s.MarkFailed(b.ctx, ghost, "x"), flows.ErrNotFound)
	got, err := b.s.Outbox(b.ctx, flows.OutboxPending, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Zero(t, got[0].Attempts, "failed marks change nothing")
}

func testOutboxList(t *testing.T, b *bundle) {
	ms := b.enqueue(t, 0, time.Second, 2*time.Second, 3*time.Second)
	require.NoError(t, b.s.MarkDelivered(b.ctx, ms[1].ID, T0))
	tests := []struct {
		status flows.OutboxStatus
		limit  int
		want   []int64
	}{
		{flows.OutboxPending, 10, []int64{ms[3].ID, ms[2].ID, ms[0].ID}},
		{flows.OutboxPending, 2, []int64{ms[3].ID, ms[2].ID}},
		{flows.OutboxDelivered, 10, []int64{ms[1].ID}},
		{flows.OutboxFailed, 10, []int64{}},
	}
	for _, tc := range tests {
		got, err := b.s.Outbox(b.ctx, tc.status, tc.limit)
		require.NoError(t, err)
		require.Equal(t, tc.want, messageIDs(got), "Outbox(%s, %d): newest first", tc.status, tc.limit)
	}
	depth, err := b.s.OutboxDepth(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 3, depth)
}

func testMessageRefs(t *testing.T, b *bundle) {
	refs := []*flows.MessageRef{
		{InstanceID: 1, TaskID: 10, Recipient: "bob", Platform: "feishu", Ref: "om_1", CreatedAt: T0},
		{InstanceID: 1, TaskID: 10, Recipient: "bob", Platform: "wecom", Ref: "wx-1", CreatedAt: at(time.Second)},
		{InstanceID: 1, TaskID: 11, Recipient: "carol", Platform: "feishu", Ref: "om_2", CreatedAt: at(2 * time.Second)},
		{InstanceID: 1, Recipient: "alice", Platform: "web", Ref: "w-1", CreatedAt: at(3 * time.Second)},
		{InstanceID: 2, TaskID: 20, Recipient: "bob", Platform: "feishu", Ref: "om_3", CreatedAt: at(4 * time.Second)},
	}
	for _, r := range refs {
		require.NoError(t, b.s.SaveMessageRef(b.ctx, r))
	}
	tests := []struct {
		name       string
		inst, task int64
		want       []*flows.MessageRef
	}{
		{"Task", 1, 10, refs[:2]},
		{"OtherTask", 1, 11, refs[2:3]},
		{"WholeInstance", 1, 0, refs[:4]},
		{"OtherInstance", 2, 0, refs[4:]},
		{"None", 3, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.s.MessageRefs(b.ctx, tc.inst, tc.task)
			require.NoError(t, err)
			require.Len(t, got, len(tc.want))
			for i, w := range tc.want {
				requireTime(t, w.CreatedAt, got[i].CreatedAt, "CreatedAt")
				g, ww := *got[i], *w
				g.CreatedAt, ww.CreatedAt = time.Time{}, time.Time{}
				require.Equal(t, ww, g)
			}
		})
	}
}

// claimExtender is the optional method by which a claimer renews (or
// gives back) its claim while it works on a message.
type claimExtender interface {
	ExtendClaim(ctx context.Context, id int64, from, to time.Time) (bool, error)
}

func extender(t *testing.T, b *bundle) claimExtender {
	t.Helper()
	ext, ok := b.s.(claimExtender)
	require.True(t, ok, "the store must renew claims (ExtendClaim), or a replica killed mid-send holds its messages a whole lease")
	return ext
}

// A renewed claim hides the message past its first lease; a released one
// is due at once.
func testExtendClaim(t *testing.T, b *bundle) {
	ext := extender(t, b)
	ms := b.enqueue(t, 0, 0)
	got, err := b.s.ClaimOutbox(b.ctx, T0, 10, 3*time.Second)
	require.NoError(t, err)
	require.Len(t, got, 2)
	ok, err := ext.ExtendClaim(b.ctx, ms[0].ID, got[0].NextAt, at(5*time.Second))
	require.NoError(t, err)
	require.True(t, ok, "renewing a claim one holds")
	again, err := b.s.ClaimOutbox(b.ctx, at(4*time.Second), 10, 3*time.Second)
	require.NoError(t, err)
	require.Equal(t, []int64{ms[1].ID}, messageIDs(again), "the renewed claim is still held after its first lease; the other came back")

	ok, err = ext.ExtendClaim(b.ctx, ms[0].ID, at(5*time.Second), at(4*time.Second))
	require.NoError(t, err)
	require.True(t, ok, "releasing a claim one holds")
	again, err = b.s.ClaimOutbox(b.ctx, at(4*time.Second), 10, 3*time.Second)
	require.NoError(t, err)
	require.Equal(t, []int64{ms[0].ID}, messageIDs(again), "a released claim is due at once")
}

// A claim that is no longer the caller's is not renewed: claimed again by
// another, delivered, retried, or unknown.
func testExtendClaimLost(t *testing.T, b *bundle) {
	ext := extender(t, b)
	ms := b.enqueue(t, 0, 0, 0)
	first, err := b.s.ClaimOutbox(b.ctx, T0, 10, time.Second)
	require.NoError(t, err)
	require.Len(t, first, 3)
	second, err := b.s.ClaimOutbox(b.ctx, at(time.Second), 1, time.Second)
	require.NoError(t, err)
	require.Equal(t, []int64{ms[0].ID}, messageIDs(second), "lease over: claimed by another")
	ok, err := ext.ExtendClaim(b.ctx, ms[0].ID, first[0].NextAt, at(time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "the first claimer lost it")
	requireTime(t, at(2*time.Second), b.pending(t, ms[0].ID).NextAt, "the second claim is untouched")

	require.NoError(t, b.s.MarkDelivered(b.ctx, ms[1].ID, T0))
	ok, err = ext.ExtendClaim(b.ctx, ms[1].ID, first[1].NextAt, at(time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "a delivered message has no claim")

	require.NoError(t, b.s.MarkRetry(b.ctx, ms[2].ID, at(30*time.Second), "boom"))
	ok, err = ext.ExtendClaim(b.ctx, ms[2].ID, first[2].NextAt, at(time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "a message put back for retry has no claim")
	requireTime(t, at(30*time.Second), b.pending(t, ms[2].ID).NextAt, "the retry time is untouched")

	ok, err = ext.ExtendClaim(b.ctx, 987654, T0, at(time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "unknown message")
}

// pending is pending message id.
func (b *bundle) pending(t *testing.T, id int64) *flows.OutboxMessage {
	t.Helper()
	ms, err := b.s.Outbox(b.ctx, flows.OutboxPending, 1000)
	require.NoError(t, err)
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	require.Failf(t, "no such pending message", "message %d", id)
	return nil
}
