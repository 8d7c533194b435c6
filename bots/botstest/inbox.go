package botstest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// RunInbox checks that the Inbox returned by newStore keeps an event once,
// hands a due entry to one claimer at a time, and forgets removed entries.
// newStore is called once per subtest, with the subtest's t; each store
// starts empty.
func RunInbox(t *testing.T, newStore func(t *testing.T) bots.Inbox) {
	t.Helper()
	base := time.Now().Truncate(time.Millisecond)

	t.Run("KeepClaimRemove", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		in := newStore(t)
		require.NoError(t, in.Keep(ctx, "feishu:e1", []byte(`{"a":1}`), base.Add(time.Minute)))
		got, err := in.Claim(ctx, base, base.Add(time.Hour), 10)
		require.NoError(t, err)
		require.Empty(t, got, "an entry is not claimed before it is due")
		got, err = in.Claim(ctx, base.Add(time.Minute), base.Add(2*time.Minute), 10)
		require.NoError(t, err)
		require.Equal(t, []bots.InboxEntry{{Key: "feishu:e1", Event: []byte(`{"a":1}`), Attempts: 1}}, got)
		got, err = in.Claim(ctx, base.Add(time.Minute), base.Add(3*time.Minute), 10)
		require.NoError(t, err)
		require.Empty(t, got, "a claimed entry is due again only at its new time")
		got, err = in.Claim(ctx, base.Add(2*time.Minute), base.Add(3*time.Minute), 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, 2, got[0].Attempts, "got attempts %d, want 2 at the second claim", got[0].Attempts)
		require.NoError(t, in.Remove(ctx, "feishu:e1"))
		require.NoError(t, in.Remove(ctx, "feishu:e1"), "removing twice is not an error")
		got, err = in.Claim(ctx, base.Add(time.Hour), base.Add(2*time.Hour), 10)
		require.NoError(t, err)
		require.Empty(t, got, "a removed entry is never claimed")
	})

	t.Run("KeepTwiceKeepsTheFirst", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		in := newStore(t)
		require.NoError(t, in.Keep(ctx, "k", []byte("first"), base))
		require.NoError(t, in.Keep(ctx, "k", []byte("second"), base.Add(time.Hour)))
		got, err := in.Claim(ctx, base, base.Add(time.Minute), 10)
		require.NoError(t, err)
		require.Len(t, got, 1, "one key is one entry")
		require.Equal(t, "first", string(got[0].Event))
	})

	t.Run("EmptyKeyRefused", func(t *testing.T) {
		t.Parallel()
		in := newStore(t)
		require.Error(t, in.Keep(t.Context(), "", []byte("x"), base))
	})

	t.Run("ClaimLimitOldestFirst", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		in := newStore(t)
		for i, k := range []string{"c", "a", "b"} {
			require.NoError(t, in.Keep(ctx, k, []byte(k), base.Add(time.Duration(i)*time.Second)))
		}
		got, err := in.Claim(ctx, base.Add(time.Minute), base.Add(time.Hour), 2)
		require.NoError(t, err)
		require.Len(t, got, 2)
		keys := []string{got[0].Key, got[1].Key}
		require.ElementsMatch(t, []string{"c", "a"}, keys, "got %v, want the two due first (c, a)", keys)
	})

	t.Run("ConcurrentClaimersShareNothing", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		in := newStore(t)
		const n = 40
		for i := range n {
			require.NoError(t, in.Keep(ctx, uniqueKey(t, string(rune('A'+i))), []byte("x"), base))
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := in.Claim(ctx, base, base.Add(time.Hour), 3)
					if err != nil {
						t.Errorf("claim: %v", err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, e := range got {
						seen[e.Key]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Len(t, seen, n, "every entry claimed")
		for k, c := range seen {
			require.Equalf(t, 1, c, "entry %s claimed %d times, want once", k, c)
		}
	})
}
