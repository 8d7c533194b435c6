package botstest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// RunStateStore checks that the StateStore returned by newStore keeps
// values with a TTL as bots.StateStore documents. newStore is called once
// per subtest, with the subtest's t (register cleanups on it).
func RunStateStore(t *testing.T, newStore func(t *testing.T) bots.StateStore) {
	t.Helper()

	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		val, ok, err := s.Get(t.Context(), uniqueKey(t))
		require.NoError(t, err)
		require.False(t, ok, "got ok for a key never set")
		require.Empty(t, val)
	})

	t.Run("SetGetOverwriteDelete", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newStore(t)
		key := uniqueKey(t)

		require.NoError(t, s.Set(ctx, key, []byte("first"), longTTL))
		requireValue(ctx, t, s, key, []byte("first"))

		require.NoError(t, s.Set(ctx, key, []byte("second, longer value"), longTTL))
		requireValue(ctx, t, s, key, []byte("second, longer value"))

		require.NoError(t, s.Set(ctx, key, []byte("3"), longTTL))
		requireValue(ctx, t, s, key, []byte("3"))

		require.NoError(t, s.Delete(ctx, key))
		_, ok, err := s.Get(ctx, key)
		require.NoError(t, err)
		require.False(t, ok, "got ok after Delete")

		// Deleting again, or a key never set, is not an error.
		require.NoError(t, s.Delete(ctx, key))
		require.NoError(t, s.Delete(ctx, uniqueKey(t, "never")))
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newStore(t)
		a, b := uniqueKey(t, "a"), uniqueKey(t, "b")
		require.NoError(t, s.Set(ctx, a, []byte("A"), longTTL))
		require.NoError(t, s.Set(ctx, b, []byte("B"), longTTL))
		require.NoError(t, s.Delete(ctx, a))
		requireValue(ctx, t, s, b, []byte("B"))
		_, ok, err := s.Get(ctx, a)
		require.NoError(t, err)
		require.False(t, ok)
	})

	t.Run("BytesUnchanged", func(t *testing.T) {
		t.Parallel()
		big := bytes.Repeat([]byte{0, 1, 2, 0xfe, 0xff}, 64<<10/5)
		allBytes := make([]byte, 256)
		for i := range allBytes {
			allBytes[i] = byte(i)
		}
		cases := []struct {
			name string
			val  []byte
		}{
			{"empty", []byte{}},
			{"nul and high bytes", []byte{0, 0xff, 0, 0x80, '\n', '\r'}},
			{"all byte values", allBytes},
			{"invalid utf8", []byte{0xc3, 0x28, 0xa0, 0xa1}},
			{"utf8 chinese", []byte(`{"step":"请假","days":3}`)},
			{"64 KiB", big},
		}
		s := newStore(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				key := uniqueKey(t)
				in := bytes.Clone(tc.val)
				require.NoError(t, s.Set(ctx, key, in, longTTL))
				// The store must not keep the caller's slice.
				for i := range in {
					in[i] ^= 0x55
				}
				requireValue(ctx, t, s, key, tc.val)
			})
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newStore(t)
		short, long := uniqueKey(t, "short"), uniqueKey(t, "long")
		start := time.Now()
		require.NoError(t, s.Set(ctx, short, []byte("v"), shortTTL))
		require.NoError(t, s.Set(ctx, long, []byte("w"), longTTL))
		gone := pollUntil(t, "short-lived value expires", func() bool {
			_, ok, err := s.Get(ctx, short)
			require.NoError(t, err)
			return !ok
		})
		requireNotBefore(t, "value expired", start, gone, shortTTL)
		requireValue(ctx, t, s, long, []byte("w"))
	})

	t.Run("SetRenewsTTL", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newStore(t)
		key := uniqueKey(t)
		require.NoError(t, s.Set(ctx, key, []byte("old"), shortTTL))
		require.NoError(t, s.Set(ctx, key, []byte("new"), longTTL))
		// Past the first TTL the value set last is still there.
		waitPast(t, time.Now().Add(shortTTL+early))
		requireValue(ctx, t, s, key, []byte("new"))
	})

	t.Run("Swap", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newStore(t)
		key := uniqueKey(t)
		swap := func(old, val string, want bool) {
			t.Helper()
			var o []byte
			if old != "\x00" {
				o = []byte(old)
			}
			ok, err := s.Swap(ctx, key, o, []byte(val), longTTL)
			require.NoError(t, err)
			require.Equal(t, want, ok, "swap %q for %q", old, val)
		}
		absent := "\x00"
		swap(absent, "first", true) // absent: created
		requireValue(ctx, t, s, key, []byte("first"))
		swap(absent, "again", false) // present: not created twice
		swap("other", "second", false)
		requireValue(ctx, t, s, key, []byte("first"))
		swap("first", "second", true)
		requireValue(ctx, t, s, key, []byte("second"))
		swap("first", "third", false) // a stale reader changes nothing
		requireValue(ctx, t, s, key, []byte("second"))

		short := uniqueKey(t, "short")
		require.NoError(t, s.Set(ctx, short, []byte("old"), shortTTL))
		pollUntil(t, "value expires", func() bool {
			_, ok, err := s.Get(ctx, short)
			require.NoError(t, err)
			return !ok
		})
		ok, err := s.Swap(ctx, short, []byte("old"), []byte("x"), longTTL)
		require.NoError(t, err)
		require.False(t, ok, "an expired value is no longer what was read")
		ok, err = s.Swap(ctx, short, nil, []byte("new"), longTTL)
		require.NoError(t, err)
		require.True(t, ok, "an expired key counts as absent")
		requireValue(ctx, t, s, short, []byte("new"))

		_, err = s.Swap(ctx, "", nil, []byte("v"), longTTL)
		require.Error(t, err, "empty key")
		_, err = s.Swap(ctx, key, nil, []byte("v"), 0)
		require.Error(t, err, "no ttl")
	})

	t.Run("ExpiredKeyCanBeSetAgain", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newStore(t)
		key := uniqueKey(t)
		require.NoError(t, s.Set(ctx, key, []byte("old"), shortTTL))
		pollUntil(t, "value expires", func() bool {
			_, ok, err := s.Get(ctx, key)
			require.NoError(t, err)
			return !ok
		})
		require.NoError(t, s.Set(ctx, key, []byte("again"), longTTL))
		requireValue(ctx, t, s, key, []byte("again"))
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := newStore(t)
		key := uniqueKey(t)
		require.NoError(t, s.Set(ctx, key, []byte("kept"), longTTL))

		_, _, err := s.Get(ctx, "")
		require.Error(t, err, "Get with an empty key")
		require.Error(t, s.Set(ctx, "", []byte("x"), longTTL), "Set with an empty key")
		require.Error(t, s.Delete(ctx, ""), "Delete with an empty key")
		require.Error(t, s.Set(ctx, key, []byte("zero"), 0), "Set with ttl 0")
		require.Error(t, s.Set(ctx, key, []byte("neg"), -time.Second), "Set with a negative ttl")

		// The refused calls changed nothing.
		requireValue(ctx, t, s, key, []byte("kept"))
	})
}

// requireValue fails unless key holds exactly want.
func requireValue(ctx context.Context, t *testing.T, s bots.StateStore, key string, want []byte) {
	t.Helper()
	got, ok, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.Truef(t, ok, "key %q: got absent, want %d bytes", key, len(want))
	require.Truef(t, bytes.Equal(want, got), "key %q: got %d bytes %.40q, want %d bytes %.40q", key, len(got), got, len(want), want)
}

// waitPast blocks until the wall clock is past at (or the test ends).
func waitPast(t *testing.T, at time.Time) {
	t.Helper()
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.Context().Done():
		t.Fatal("test ended while waiting")
	}
}
