package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/postgres"
)

// openAs opens a store on schema whose claims are tagged with owner.
func openAs(tb testing.TB, schema string, owner postgres.Owner) *postgres.DB {
	tb.Helper()
	db, err := postgres.OpenConfig(context.Background(), poolConfig(tb, schema), nil, postgres.WithOwner(owner))
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// TestReleaseDeadClaims: replica A is killed holding claims; its next run
// releases them at start, so they are due at once. A retry keeps its wait,
// replica B's claim waits for its lease, and the new run's own claims stay.
func TestReleaseDeadClaims(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := newSchema(t)
	a1 := openAs(t, schema, postgres.Owner{Instance: "host-a:8080", Run: "run-1"})
	b := openAs(t, schema, postgres.Owner{Instance: "host-b:8080", Run: "run-1"})
	var ids []int64
	require.NoError(t, a1.Update(ctx, func(tx flows.Tx) error {
		for i := range 5 {
			m := &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "u1", InstanceID: int64(i + 1), NextAt: t0, CreatedAt: t0}
			if err := tx.Enqueue(m); err != nil {
				return err
			}
			ids = append(ids, m.ID)
		}
		return nil
	}))
	got, err := a1.ClaimOutbox(ctx, t0, 3, time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 3, "run 1 of A claims messages 1-3")
	require.NoError(t, a1.MarkRetry(ctx, ids[2], t0.Add(time.Hour), "platform said 500"))
	got, err = b.ClaimOutbox(ctx, t0, 1, time.Minute)
	require.NoError(t, err)
	require.Equal(t, ids[3], got[0].ID, "B claims message 4")
	// A's run 1 is killed here; run 2 of the same instance starts.
	require.NoError(t, a1.Close())
	a2 := openAs(t, schema, postgres.Owner{Instance: "host-a:8080", Run: "run-2"})
	now := t0.Add(time.Second)
	n, err := a2.ReleaseDeadClaims(ctx, now)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the two messages run 1 claimed and never tried")
	got, err = a2.ClaimOutbox(ctx, now, 10, time.Minute)
	require.NoError(t, err)
	require.ElementsMatch(t, []int64{ids[0], ids[1], ids[4]}, testkit.OutboxIDs(got),
		"released claims are due at once; the retry waits an hour and B's claim its lease")

	// Releasing again frees nothing: run 2's own claims are alive.
	n, err = a2.ReleaseDeadClaims(ctx, now)
	require.NoError(t, err)
	require.Zero(t, n, "a run never releases its own claims")
	// Another instance starting releases nothing of A's or B's.
	c := openAs(t, schema, postgres.Owner{Instance: "host-c:8080", Run: "run-9"})
	n, err = c.ReleaseDeadClaims(ctx, now)
	require.NoError(t, err)
	require.Zero(t, n, "claims of other instances wait for their lease")
	got, err = c.ClaimOutbox(ctx, t0.Add(time.Minute), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []int64{ids[3]}, testkit.OutboxIDs(got), "B's claim is taken over once its lease ran out, run 2's are still alive")

	// A delivered message is no longer anyone's claim.
	require.NoError(t, a2.MarkDelivered(ctx, ids[0], now))
	a3 := openAs(t, schema, postgres.Owner{Instance: "host-a:8080", Run: "run-3"})
	n, err = a3.ReleaseDeadClaims(ctx, now)
	require.NoError(t, err)
	require.Equal(t, 2, n, "of run 2's claims the undelivered ones (messages 2 and 5)")
}

// TestReleaseDeadClaimsNeedsOwner: a store opened without an owner cannot
// tell its claims from a replica's, and refuses.
func TestReleaseDeadClaimsNeedsOwner(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	_, err := db.ReleaseDeadClaims(t.Context(), t0)
	require.ErrorContains(t, err, "no owner")
}
