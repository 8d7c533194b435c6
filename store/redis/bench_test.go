package redis_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkDedupe measures FirstSeen with distinct keys (every call is a
// first sighting), serially and from parallel goroutines.
func BenchmarkDedupe(b *testing.B) {
	bundle := setup(b)
	ctx := b.Context()
	b.Run("Serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			first, err := bundle.store.FirstSeen(ctx, "s"+strconv.Itoa(i), time.Minute)
			if err != nil || !first {
				require.NoError(b, err)
				require.True(b, first)
			}
		}
	})
	// The benchmark function runs several times (growing b.N): one counter
	// across all runs keeps every key distinct.
	var n atomic.Int64
	b.Run("Parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				first, err := bundle.store.FirstSeen(ctx, "p"+strconv.FormatInt(n.Add(1), 10), time.Minute)
				if err != nil || !first {
					b.Errorf("FirstSeen: got first=%v err=%v, want true, nil", first, err)
					return
				}
			}
		})
	})
}
