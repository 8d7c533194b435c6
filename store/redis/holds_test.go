package redis_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/store/redis"
)

// TestReleaseDeadHolds: replica A is killed while handling two events;
// its next run releases their holds at start, so the platform's
// redeliveries are handled at once. A finished event stays a duplicate,
// replica B's hold waits for its expiry, the new run's own hold stays, and
// a long record (the scheduler's) is never released.
func TestReleaseDeadHolds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	const hold = time.Minute
	as := func(instance, run string) *redis.Store {
		s, err := b.store.WithOwner(redis.Owner{Instance: instance, Run: run, MaxHold: hold})
		require.NoError(t, err)
		return s
	}
	a1, other := as("host-a:8080", "run-1"), as("host-b:8080", "run-1")
	for _, k := range []string{"feishu:held1", "feishu:held2", "feishu:done"} {
		first, err := a1.FirstSeen(ctx, k, hold)
		require.NoError(t, err)
		require.True(t, first)
	}
	ok, err := a1.Renew(ctx, "feishu:held2", hold)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, a1.Confirm(ctx, "feishu:done", time.Hour))
	first, err := a1.FirstSeen(ctx, "digest:u1:2026-12-05", 48*time.Hour)
	require.NoError(t, err)
	require.True(t, first)
	first, err = other.FirstSeen(ctx, "feishu:b-held", hold)
	require.NoError(t, err)
	require.True(t, first)

	// A's run 1 is killed here; run 2 starts and takes one event itself.
	a2 := as("host-a:8080", "run-2")
	first, err = a2.FirstSeen(ctx, "feishu:a2-held", hold)
	require.NoError(t, err)
	require.True(t, first)
	n, err := a2.ReleaseDeadHolds(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the two events run 1 was handling")

	for _, c := range []struct {
		key   string
		first bool
		why   string
	}{
		{"feishu:held1", true, "a dead run's event is handled when redelivered"},
		{"feishu:held2", true, "renewed or not"},
		{"feishu:done", false, "a finished event stays a duplicate"},
		{"feishu:b-held", false, "another instance's hold waits for its expiry"},
		{"feishu:a2-held", false, "this run's own hold stays"},
		{"digest:u1:2026-12-05", false, "a record longer than a hold is never released"},
	} {
		first, err := a2.FirstSeen(ctx, c.key, hold)
		require.NoError(t, err)
		require.Equalf(t, c.first, first, "%s: %s", c.key, c.why)
	}
	d, err := a2.Done(ctx, "feishu:held1")
	require.NoError(t, err)
	require.False(t, d, "released and taken again: not done")

	// Another instance starting releases nothing of A's.
	n, err = as("host-c:8080", "run-1").ReleaseDeadHolds(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = as("host-a:8080", "run-2").ReleaseDeadHolds(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a run never releases its own holds")
}

// TestOwnerRefusesBadInput: a half-named owner, a line break in a name or
// no hold bound is refused; a store without owner cannot release.
func TestOwnerRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, o := range []redis.Owner{
		{Instance: "a", MaxHold: time.Second},
		{Run: "r", MaxHold: time.Second},
		{Instance: "a\nb", Run: "r", MaxHold: time.Second},
		{Instance: "a", Run: "r"},
	} {
		_, err := b.store.WithOwner(o)
		require.Errorf(t, err, "owner %+v", o)
		_, err = redis.Open(redis.Config{Addrs: []string{"127.0.0.1:1"}, Owner: o})
		require.Errorf(t, err, "config owner %+v", o)
	}
	_, err := b.store.ReleaseDeadHolds(t.Context())
	require.ErrorContains(t, err, "no owner")
	var _ bots.Deduper = b.store
}
