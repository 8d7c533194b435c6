package redis_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzStateRoundTrip: any key and any bytes come back unchanged, and an
// empty key is refused with an error, never a panic.
func FuzzStateRoundTrip(f *testing.F) {
	f.Add("conv:feishu:ou_1", []byte(`{"step":2}`))
	f.Add("", []byte("x"))
	f.Add("键 with spaces\x00and nul", []byte{0, 0xff, 0x80})
	f.Add("*?[glob]", []byte{})
	b := setup(f)
	f.Fuzz(func(t *testing.T, key string, val []byte) {
		ctx := t.Context()
		err := b.store.Set(ctx, key, val, time.Minute)
		if key == "" {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		got, ok, err := b.store.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, bytes.Equal(val, got), "got %q, want %q", got, val)
		require.NoError(t, b.store.Delete(ctx, key))
	})
}
