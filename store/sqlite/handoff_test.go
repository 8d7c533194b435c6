package sqlite_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// taker takes messages due by now, holding them for lease, and records
// what it was handed and given back.
type taker struct {
	now   time.Time
	lease time.Duration
	room  int // reservations it still accepts

	mu       sync.Mutex
	reserved int
	taken    []*flows.OutboxMessage
	untaken  int
}

func (k *taker) Take(due time.Time) (time.Time, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if due.After(k.now) || k.room == 0 {
		return time.Time{}, false
	}
	k.room--
	k.reserved++
	return k.now.Add(k.lease), true
}

func (k *taker) Taken(ms []*flows.OutboxMessage) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reserved -= len(ms)
	k.taken = append(k.taken, ms...)
}

func (k *taker) Untake(n int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reserved -= n
	k.untaken += n
}

func takenIDs(k *taker) []int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var ids []int64
	for _, m := range k.taken {
		ids = append(ids, m.ID)
	}
	return ids
}

// A message written due while a Taker has room is written claimed until
// the Taker's lease ends and handed to it after the COMMIT: another
// claimer finds it only once that lease is over, and the ReleaseDeadClaims
// of the next start makes it due at once (its taker was killed). A
// message due later, or one the Taker has no room for, is written due as
// asked.
func TestTakerGetsMessagesAsWritten(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	k := &taker{now: now, lease: time.Minute, room: 1}
	db.SetTaker(k)
	msg := func(at time.Time) *flows.OutboxMessage {
		return &flows.OutboxMessage{Kind: flows.MsgText, Recipient: "u1", Data: []byte(`{"text":"hi"}`), NextAt: at, CreatedAt: now}
	}
	taken, later, noRoom := msg(now), msg(now.Add(time.Hour)), msg(now)
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		for _, m := range []*flows.OutboxMessage{taken, later, noRoom} {
			if err := tx.Enqueue(m); err != nil {
				return err
			}
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		assert.Empty(t, k.taken, "nothing is handed over before the COMMIT")
		return nil
	}))
	require.Equal(t, []int64{taken.ID}, takenIDs(k))
	require.Equal(t, now.Add(time.Minute), k.taken[0].NextAt, "handed over due at its lease's end")
	require.Equal(t, `{"text":"hi"}`, string(k.taken[0].Data))
	require.Equal(t, now, taken.NextAt, "the caller's message is left as it asked")
	require.Zero(t, k.reserved)

	got, err := db.ClaimOutbox(ctx, now, 10, time.Hour)
	require.NoError(t, err)
	require.Equal(t, []int64{noRoom.ID}, testkit.OutboxIDs(got), "only the message the taker had no room for is due")
	got, err = db.ClaimOutbox(ctx, now.Add(time.Minute), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []int64{taken.ID}, testkit.OutboxIDs(got), "the taken message once its lease is over")

	// A taker killed after the COMMIT: the next start sends at once.
	db.SetTaker(&taker{now: now, lease: time.Minute, room: 1})
	again := msg(now)
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error { return tx.Enqueue(again) }))
	claims, _, err := db.ReleaseDeadClaims(ctx, now)
	require.NoError(t, err)
	require.Positive(t, claims)
	got, err = db.ClaimOutbox(ctx, now, 10, time.Minute)
	require.NoError(t, err)
	require.Contains(t, testkit.OutboxIDs(got), again.ID, "released at the next start")
}

// A write that fails or panics after taking messages gives them back, in
// a batch shared with writes that commit theirs: each committed message is
// handed over once, none of a failed write is.
func TestTakerGetsOnlyCommittedMessages(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	ctx := t.Context()
	k := &taker{now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), lease: time.Minute, room: 1000}
	db.SetTaker(k)
	const n = 120
	errs, panicked := writeManyAtOnce(ctx, db, "T", n, func(tx flows.Tx) {
		_ = tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "b", NextAt: k.now, CreatedAt: k.now})
	}, "boom after an enqueue")
	require.Equal(t, "boom after an enqueue", panicked)
	committed := 0
	for i := range n {
		if i%3 != 0 {
			require.NoError(t, errs[i])
			committed++
		}
	}
	pending, err := db.Outbox(ctx, flows.OutboxPending, 1000)
	require.NoError(t, err)
	require.ElementsMatch(t, testkit.OutboxIDs(pending), takenIDs(k), "every committed message handed over, and only those")
	require.Len(t, pending, committed)
	require.Equal(t, n-committed+1, k.untaken, "the failed writes' and the panicking write's messages given back")
	require.Zero(t, k.reserved)
}
