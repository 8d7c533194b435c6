package botstest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// RunDeduper checks that the Deduper returned by newStore reports each key
// as first seen exactly once per TTL, also under concurrency. newStore is
// called once per subtest, with the subtest's t.
func RunDeduper(t *testing.T, newStore func(t *testing.T) bots.Deduper) {
	t.Helper()

	t.Run("FirstThenDuplicate", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		d := newStore(t)
		key := uniqueKey(t)
		want := []bool{true, false, false}
		for i, w := range want {
			got, err := d.FirstSeen(ctx, key, longTTL)
			require.NoError(t, err)
			require.Equalf(t, w, got, "call %d: got first=%v, want %v", i+1, got, w)
		}
		other, err := d.FirstSeen(ctx, uniqueKey(t, "other"), longTTL)
		require.NoError(t, err)
		require.True(t, other, "another key is first seen on its own")
	})

	t.Run("ForgetLetsARedeliveryThrough", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		d := newStore(t)
		f, ok := d.(bots.DedupeForgetter)
		if !ok {
			t.Skip("this Deduper does not implement bots.DedupeForgetter")
		}
		key := uniqueKey(t)
		first, err := d.FirstSeen(ctx, key, longTTL)
		require.NoError(t, err)
		require.True(t, first)
		require.NoError(t, f.Forget(ctx, key))
		first, err = d.FirstSeen(ctx, key, longTTL)
		require.NoError(t, err)
		require.True(t, first, "a forgotten key is first seen again")
		require.NoError(t, f.Forget(ctx, uniqueKey(t, "never-seen")), "forgetting an unknown key is fine")
	})

	t.Run("ConfirmExtendsTheHold", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		d := newStore(t)
		c, ok := d.(bots.DedupeConfirmer)
		if !ok {
			t.Skip("this Deduper does not implement bots.DedupeConfirmer")
		}
		held, confirmed := uniqueKey(t, "held"), uniqueKey(t, "confirmed")
		for _, k := range []string{held, confirmed} {
			first, err := d.FirstSeen(ctx, k, shortTTL)
			require.NoError(t, err)
			require.True(t, first)
		}
		done, err := c.Done(ctx, confirmed)
		require.NoError(t, err)
		require.False(t, done, "held, not done yet")
		require.NoError(t, c.Confirm(ctx, confirmed, longTTL))
		done, err = c.Done(ctx, confirmed)
		require.NoError(t, err)
		require.True(t, done, "confirmed is done")
		if f, ok := d.(bots.DedupeForgetter); ok {
			other := uniqueKey(t, "forgotten")
			_, err := d.FirstSeen(ctx, other, longTTL)
			require.NoError(t, err)
			require.NoError(t, c.Confirm(ctx, other, longTTL))
			require.NoError(t, f.Forget(ctx, other))
			done, err = c.Done(ctx, other)
			require.NoError(t, err)
			require.False(t, done, "a forgotten key is not done")
		}
		require.Eventually(t, func() bool {
			first, err := d.FirstSeen(ctx, held, shortTTL)
			return err == nil && first
		}, 10*shortTTL, 50*time.Millisecond, "an unconfirmed hold expires, so a redelivery is handled")
		first, err := d.FirstSeen(ctx, confirmed, longTTL)
		require.NoError(t, err)
		require.False(t, first, "a confirmed key stays seen past the short hold")
		require.Error(t, c.Confirm(ctx, "", longTTL), "an empty key is refused")
	})

	t.Run("RenewKeepsTheHold", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		d := newStore(t)
		r, ok := d.(bots.DedupeRenewer)
		if !ok {
			t.Skip("this Deduper does not implement bots.DedupeRenewer")
		}
		c := d.(bots.DedupeConfirmer)
		held, confirmed := uniqueKey(t, "held"), uniqueKey(t, "confirmed")
		for _, k := range []string{held, confirmed} {
			first, err := d.FirstSeen(ctx, k, shortTTL)
			require.NoError(t, err)
			require.True(t, first)
		}
		require.NoError(t, c.Confirm(ctx, confirmed, longTTL))
		// Renewed well past its first hold, the key stays held.
		end := time.Now().Add(3 * shortTTL)
		for time.Now().Before(end) {
			ok, err := r.Renew(ctx, held, shortTTL)
			require.NoError(t, err)
			require.True(t, ok, "renewing a live hold")
			first, err := d.FirstSeen(ctx, held, shortTTL)
			require.NoError(t, err)
			require.False(t, first, "a renewed hold is still held")
			time.Sleep(shortTTL / 4)
		}
		ok, err := r.Renew(ctx, confirmed, shortTTL)
		require.NoError(t, err)
		require.False(t, ok, "a done key is not renewed")
		first, err := d.FirstSeen(ctx, confirmed, longTTL)
		require.NoError(t, err)
		require.False(t, first, "renewing never shortens a done key's memory")
		ok, err = r.Renew(ctx, uniqueKey(t, "never-seen"), shortTTL)
		require.NoError(t, err)
		require.False(t, ok, "an unknown key is not held")
		_, err = r.Renew(ctx, "", shortTTL)
		require.Error(t, err, "an empty key is refused")
		require.Eventually(t, func() bool {
			first, err := d.FirstSeen(ctx, held, shortTTL)
			return err == nil && first
		}, 10*shortTTL, 50*time.Millisecond, "a hold no longer renewed expires, so a redelivery is handled")
		ok, err = r.Renew(ctx, held, shortTTL)
		require.NoError(t, err)
		require.True(t, ok, "the new hold is live")
	})

	t.Run("ConcurrentOneKey", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		d := newStore(t)
		key := uniqueKey(t)
		const n = 50
		var (
			firsts atomic.Int32
			wg     sync.WaitGroup
			start  = make(chan struct{})
			errs   = make(chan error, n)
		)
		for range n {
			wg.Go(func() {
				<-start
				first, err := d.FirstSeen(ctx, key, longTTL)
				if err != nil {
					errs <- err
					return
				}
				if first {
					firsts.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equalf(t, int32(1), firsts.Load(), "got %d first sightings of one key by %d goroutines, want 1", firsts.Load(), n)
	})

	t.Run("ExpiryLetsItBeSeenAgain", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		d := newStore(t)
		key := uniqueKey(t)
		start := time.Now()
		first, err := d.FirstSeen(ctx, key, shortTTL)
		require.NoError(t, err)
		require.True(t, first)
		again := pollUntil(t, "key seen as new after its ttl", func() bool {
			first, err := d.FirstSeen(ctx, key, shortTTL)
			require.NoError(t, err)
			return first
		})
		requireNotBefore(t, "key forgotten", start, again, shortTTL)
		dup, err := d.FirstSeen(ctx, key, shortTTL)
		require.NoError(t, err)
		require.False(t, dup, "seen again right after being recorded anew")
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		d := newStore(t)
		_, err := d.FirstSeen(ctx, "", longTTL)
		require.Error(t, err, "FirstSeen with an empty key")
		key := uniqueKey(t)
		_, err = d.FirstSeen(ctx, key, 0)
		require.Error(t, err, "FirstSeen with ttl 0")
		_, err = d.FirstSeen(ctx, key, -time.Second)
		require.Error(t, err, "FirstSeen with a negative ttl")
		// The refused calls recorded nothing.
		first, err := d.FirstSeen(ctx, key, longTTL)
		require.NoError(t, err)
		require.True(t, first, "a refused call recorded the key")
	})
}
