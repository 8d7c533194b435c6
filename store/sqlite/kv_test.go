package sqlite_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/botstest"
)

// eventually polls cond every few ms until it holds or 5s pass.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 2*time.Millisecond, msg)
}

func TestStateStore(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	s, ctx := db.StateStore(), t.Context()

	_, ok, err := s.Get(ctx, "missing")
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, s.Set(ctx, "k", []byte("v1"), time.Hour))
	require.NoError(t, s.Set(ctx, "k", []byte("v2 新"), time.Hour))
	v, ok, err := s.Get(ctx, "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v2 新", string(v), "Set overwrites")

	require.NoError(t, s.Set(ctx, "empty", nil, time.Hour))
	v, ok, err = s.Get(ctx, "empty")
	require.NoError(t, err)
	require.True(t, ok, "an empty value is still present")
	require.Empty(t, v)

	require.NoError(t, s.Delete(ctx, "k"))
	require.NoError(t, s.Delete(ctx, "k"), "deleting an absent key is fine")
	_, ok, err = s.Get(ctx, "k")
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, s.Set(ctx, "short", []byte("x"), 20*time.Millisecond))
	eventually(t, func() bool {
		_, ok, err := s.Get(ctx, "short")
		return err == nil && !ok
	}, "a value expires after its ttl")
}

func TestDeduper(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	d, ctx := db.Deduper(), t.Context()

	first, err := d.FirstSeen(ctx, "evt-1", time.Hour)
	require.NoError(t, err)
	require.True(t, first)
	first, err = d.FirstSeen(ctx, "evt-1", time.Hour)
	require.NoError(t, err)
	require.False(t, first, "the second delivery is a duplicate")
	first, err = d.FirstSeen(ctx, "evt-2", time.Hour)
	require.NoError(t, err)
	require.True(t, first)

	first, err = d.FirstSeen(ctx, "evt-short", 20*time.Millisecond)
	require.NoError(t, err)
	require.True(t, first)
	eventually(t, func() bool {
		first, err := d.FirstSeen(ctx, "evt-short", 20*time.Millisecond)
		return err == nil && first
	}, "after its ttl a key is new again")

	// Concurrent deliveries of one event: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 10 {
		wg.Go(func() {
			ok, err := d.FirstSeen(ctx, "evt-race", time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, wins)
}

func TestDeduperPurgesExpired(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	d, ctx := db.Deduper(), t.Context()
	// Many short-lived keys; after they expire, further writes purge them,
	// and the keys count as new (whether purged or overwritten).
	for i := range 300 {
		_, err := d.FirstSeen(ctx, fmt.Sprintf("old-%d", i), time.Millisecond)
		require.NoError(t, err)
	}
	// probe is recorded last: once it is new again, every old-* expired.
	_, err := d.FirstSeen(ctx, "probe", time.Millisecond)
	require.NoError(t, err)
	eventually(t, func() bool {
		first, err := d.FirstSeen(ctx, "probe", time.Hour)
		return err == nil && first
	}, "expired keys are new again")
	for i := range 300 {
		first, err := d.FirstSeen(ctx, fmt.Sprintf("old-%d", i), time.Hour)
		require.NoError(t, err)
		require.True(t, first, "old-%d expired", i)
	}
}

func TestLocker(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	l, ctx := db.Locker(), t.Context()

	ok, err := l.TryLock(ctx, "tick", "replica-a", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = l.TryLock(ctx, "tick", "replica-b", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "a held lock is not given to another owner")
	ok, err = l.TryLock(ctx, "tick", "replica-a", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "the holder renews")
	ok, err = l.TryLock(ctx, "digest", "replica-b", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "locks are independent by name")

	require.NoError(t, l.Unlock(ctx, "tick", "replica-b"), "unlocking a lock one does not hold is a no-op")
	ok, err = l.TryLock(ctx, "tick", "replica-b", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "a stranger's Unlock must not release the lock")
	require.NoError(t, l.Unlock(ctx, "tick", "replica-a"))
	ok, err = l.TryLock(ctx, "tick", "replica-b", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "after Unlock another owner can take it")

	ok, err = l.TryLock(ctx, "lease", "replica-a", 20*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	eventually(t, func() bool {
		ok, err := l.TryLock(ctx, "lease", "replica-b", time.Hour)
		return err == nil && ok
	}, "a lease not renewed can be taken after its ttl")
	ok, err = l.TryLock(ctx, "lease", "replica-a", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "the old holder lost it")
}

func TestKVBadInput(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	s, d, l, ctx := db.StateStore(), db.Deduper(), db.Locker(), t.Context()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"GetEmptyKey", func() error { _, _, err := s.Get(ctx, ""); return err }, "empty key"},
		{"SetEmptyKey", func() error { return s.Set(ctx, "", []byte("x"), time.Hour) }, "empty key"},
		{"SetZeroTTL", func() error { return s.Set(ctx, "k", []byte("x"), 0) }, "ttl must be positive"},
		{"SetNegativeTTL", func() error { return s.Set(ctx, "k", []byte("x"), -time.Second) }, "ttl must be positive"},
		{"DeleteEmptyKey", func() error { return s.Delete(ctx, "") }, "empty key"},
		{"DedupeEmptyKey", func() error { _, err := d.FirstSeen(ctx, "", time.Hour); return err }, "empty key"},
		{"DedupeZeroTTL", func() error { _, err := d.FirstSeen(ctx, "e", 0); return err }, "ttl must be positive"},
		{"LockEmptyName", func() error { _, err := l.TryLock(ctx, "", "a", time.Hour); return err }, "empty key"},
		{"LockEmptyOwner", func() error { _, err := l.TryLock(ctx, "tick", "", time.Hour); return err }, "empty owner"},
		{"LockZeroTTL", func() error { _, err := l.TryLock(ctx, "tick", "a", 0); return err }, "ttl must be positive"},
		{"UnlockEmptyName", func() error { return l.Unlock(ctx, "", "a") }, "empty key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.call(), tc.want)
		})
	}
	_, ok, err := s.Get(ctx, "k")
	require.NoError(t, err)
	require.False(t, ok, "bad calls wrote nothing")
	first, err := d.FirstSeen(ctx, "e", time.Hour)
	require.NoError(t, err)
	require.True(t, first, "bad calls wrote nothing")
	held, err := l.TryLock(ctx, "tick", "b", time.Hour)
	require.NoError(t, err)
	require.True(t, held, "bad calls took no lock")
}

func TestBotsConformance(t *testing.T) {
	t.Parallel()
	t.Run("StateStore", func(t *testing.T) {
		t.Parallel()
		botstest.RunStateStore(t, func(t *testing.T) bots.StateStore {
			db, _ := MustOpen(t)
			return db.StateStore()
		})
	})
	t.Run("Deduper", func(t *testing.T) {
		t.Parallel()
		botstest.RunDeduper(t, func(t *testing.T) bots.Deduper {
			db, _ := MustOpen(t)
			return db.Deduper()
		})
	})
	t.Run("EventDeduper", func(t *testing.T) {
		t.Parallel()
		botstest.RunDeduper(t, func(t *testing.T) bots.Deduper {
			db, _ := MustOpen(t)
			return db.EventDeduper()
		})
	})
	t.Run("Locker", func(t *testing.T) {
		t.Parallel()
		botstest.RunLocker(t, func(t *testing.T) bots.Locker {
			db, _ := MustOpen(t)
			return db.Locker()
		})
	})
	t.Run("Inbox", func(t *testing.T) {
		t.Parallel()
		botstest.RunInbox(t, func(t *testing.T) bots.Inbox {
			db, _ := MustOpen(t)
			return db.Inbox()
		})
	})
}
