package sqlite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// TestReleaseDeadClaims restarts after a kill: the claims and holds of the
// dead run are released at once; retries keep their backoff and finished
// events stay duplicates.
func TestReleaseDeadClaims(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	var ids []int64
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		for range 3 {
			m := &flows.OutboxMessage{Kind: flows.MsgText, Recipient: "u1", Data: []byte(`{"text":"hi"}`), Status: flows.OutboxPending, NextAt: now, CreatedAt: now}
			if err := tx.Enqueue(m); err != nil {
				return err
			}
			ids = append(ids, m.ID)
		}
		return nil
	}))
	claimed, err := db.ClaimOutbox(ctx, now, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, claimed, 3)
	// One of them was tried and waits for its retry.
	require.NoError(t, db.MarkRetry(ctx, ids[2], now.Add(time.Hour), "timeout"))
	d := db.Deduper()
	c := d.(bots.DedupeConfirmer)
	for _, k := range []string{"feishu:held", "feishu:done"} {
		first, err := d.FirstSeen(ctx, k, time.Minute)
		require.NoError(t, err)
		require.True(t, first)
	}
	require.NoError(t, c.Confirm(ctx, "feishu:done", time.Hour))

	// The process is killed here and starts again.
	claims, holds, err := db.ReleaseDeadClaims(ctx, now)
	require.NoError(t, err)
	require.Equal(t, 2, claims, "the two claimed, untried messages")
	require.Equal(t, 1, holds, "the event that was never finished")
	again, err := db.ClaimOutbox(ctx, now, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, again, 2, "released claims are due at once; the retry keeps its wait")
	first, err := d.FirstSeen(ctx, "feishu:held", time.Minute)
	require.NoError(t, err)
	require.True(t, first, "the unfinished event is handled when redelivered")
	first, err = d.FirstSeen(ctx, "feishu:done", time.Minute)
	require.NoError(t, err)
	require.False(t, first, "a finished event stays a duplicate")
}

// TestReleaseDeadClaimsKeepsSentMarks: the scheduler claims a digest or
// report for 48 h with FirstSeen and never confirms it (it is no event
// hold). A restart must not take those marks for a dead run's holds and
// delete them: the next tick would claim, render and try the digest again.
func TestReleaseDeadClaimsKeepsSentMarks(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	ctx := t.Context()
	d := db.Deduper()
	marks := []string{"digest:u1:2026-12-06", "report:u2:2026-12-06"}
	for _, k := range marks {
		first, err := d.FirstSeen(ctx, k, 48*time.Hour)
		require.NoError(t, err)
		require.True(t, first)
	}
	first, err := d.FirstSeen(ctx, "feishu:ev-held", 6*time.Second)
	require.NoError(t, err)
	require.True(t, first)

	// The process is killed here and starts again.
	_, holds, err := db.ReleaseDeadClaims(ctx, time.Now())
	require.NoError(t, err)
	require.Equal(t, 1, holds, "only the event hold of the dead run")
	for _, k := range marks {
		first, err := d.FirstSeen(ctx, k, 48*time.Hour)
		require.NoError(t, err)
		require.False(t, first, "%s is still marked sent after the restart", k)
	}
	first, err = d.FirstSeen(ctx, "feishu:ev-held", 6*time.Second)
	require.NoError(t, err)
	require.True(t, first, "the dead run's event hold is released")
}
