package botstest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// RunLocker checks that the Locker returned by newStore gives exclusive,
// renewable, expiring leases. newStore is called once per subtest, with
// the subtest's t.
func RunLocker(t *testing.T, newStore func(t *testing.T) bots.Locker) {
	t.Helper()

	t.Run("Exclusive", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		l := newStore(t)
		name := uniqueKey(t)
		steps := []struct {
			owner string
			want  bool
		}{
			{"a", true},
			{"b", false},
			{"a", true}, // renew by the holder
			{"b", false},
			{"c", false},
		}
		for i, s := range steps {
			got, err := l.TryLock(ctx, name, s.owner, longTTL)
			require.NoError(t, err)
			require.Equalf(t, s.want, got, "step %d: TryLock by %q: got %v, want %v", i+1, s.owner, got, s.want)
		}
		other, err := l.TryLock(ctx, uniqueKey(t, "other"), "b", longTTL)
		require.NoError(t, err)
		require.True(t, other, "another lock name is free")
	})

	t.Run("UnlockByHolderFrees", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		l := newStore(t)
		name := uniqueKey(t)
		mustLock(t, l, name, "a", longTTL, true)
		require.NoError(t, l.Unlock(ctx, name, "a"))
		mustLock(t, l, name, "b", longTTL, true)
		mustLock(t, l, name, "a", longTTL, false)
		// Unlocking a lock nobody holds, or twice, is not an error.
		require.NoError(t, l.Unlock(ctx, uniqueKey(t, "free"), "a"))
		require.NoError(t, l.Unlock(ctx, name, "b"))
		require.NoError(t, l.Unlock(ctx, name, "b"))
	})

	t.Run("UnlockByNonHolderDoesNothing", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		l := newStore(t)
		name := uniqueKey(t)
		mustLock(t, l, name, "a", longTTL, true)
		require.NoError(t, l.Unlock(ctx, name, "b"))
		mustLock(t, l, name, "b", longTTL, false)
		mustLock(t, l, name, "a", longTTL, true)
	})

	t.Run("RenewExtends", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		l := newStore(t)
		name := uniqueKey(t)
		start := time.Now()
		mustLock(t, l, name, "a", shortTTL, true)
		mustLock(t, l, name, "a", 3*shortTTL, true) // renew for longer
		// Until well past the first TTL, b never gets the lease.
		until := start.Add(shortTTL + 3*early)
		for time.Now().Before(until) {
			got, err := l.TryLock(ctx, name, "b", shortTTL)
			require.NoError(t, err)
			require.Falsef(t, got, "b took a renewed lease %s after it was first taken", time.Since(start))
			waitPast(t, time.Now().Add(pollStep))
		}
		mustLock(t, l, name, "a", shortTTL, true)
	})

	t.Run("TakenOverAfterExpiry", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		l := newStore(t)
		name := uniqueKey(t)
		start := time.Now()
		mustLock(t, l, name, "a", shortTTL, true)
		took := pollUntil(t, "b takes the expired lease", func() bool {
			got, err := l.TryLock(ctx, name, "b", longTTL)
			require.NoError(t, err)
			return got
		})
		requireNotBefore(t, "lease taken over", start, took, shortTTL)
		// The stale holder can neither renew nor release b's lease.
		mustLock(t, l, name, "a", longTTL, false)
		require.NoError(t, l.Unlock(ctx, name, "a"))
		mustLock(t, l, name, "c", longTTL, false)
		mustLock(t, l, name, "b", longTTL, true)
	})

	t.Run("ConcurrentOneHolder", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		l := newStore(t)
		name := uniqueKey(t)
		const n = 20
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			holders []string
			errs    []error
			start   = make(chan struct{})
		)
		for i := range n {
			owner := fmt.Sprintf("owner-%d", i)
			wg.Go(func() {
				<-start
				got, err := l.TryLock(ctx, name, owner, longTTL)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				if got {
					holders = append(holders, owner)
				}
			})
		}
		close(start)
		wg.Wait()
		require.Empty(t, errs)
		require.Lenf(t, holders, 1, "got holders %v of one lock among %d owners, want exactly one", holders, n)
		mustLock(t, l, name, holders[0], longTTL, true)
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		l := newStore(t)
		name := uniqueKey(t)
		cases := []struct {
			what        string
			name, owner string
			ttl         time.Duration
		}{
			{"empty name", "", "a", longTTL},
			{"empty owner", name, "", longTTL},
			{"zero ttl", name, "a", 0},
			{"negative ttl", name, "a", -time.Second},
		}
		for _, tc := range cases {
			_, err := l.TryLock(ctx, tc.name, tc.owner, tc.ttl)
			require.Errorf(t, err, "TryLock with %s", tc.what)
		}
		require.Error(t, l.Unlock(ctx, "", "a"), "Unlock with an empty name")
		// The refused calls took nothing.
		mustLock(t, l, name, "b", longTTL, true)
		// An empty owner (refused or not) never releases b's lease.
		_ = l.Unlock(ctx, name, "")
		mustLock(t, l, name, "c", longTTL, false)
	})
}

// mustLock calls TryLock and fails unless it reports want.
func mustLock(t *testing.T, l bots.Locker, name, owner string, ttl time.Duration, want bool) {
	t.Helper()
	got, err := l.TryLock(t.Context(), name, owner, ttl)
	require.NoError(t, err)
	require.Equalf(t, want, got, "TryLock(%q, %q, %s): got %v, want %v", name, owner, ttl, got, want)
}
