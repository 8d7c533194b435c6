package flowstats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// within is the stated error of a value read from Durations: 1/64 of it,
// and a second.
func within(t *testing.T, want, got time.Duration, msg ...any) {
	t.Helper()
	require.InDelta(t, float64(want), float64(got), float64(want)/64+float64(time.Second), msg...)
}

func TestBucketsCoverEverySecondInOrder(t *testing.T) {
	t.Parallel()
	prev := uint16(0)
	for _, v := range []int32{0, 1, 63, 64, 65, 127, 128, 129, 1000, 14400, 57600, 1 << 20, math.MaxInt32 - 1, math.MaxInt32} {
		b := bucket(v)
		require.GreaterOrEqual(t, b, prev, "buckets ascend with the value")
		prev = b
		mid := bucketValue(b)
		require.InDelta(t, float64(v), float64(mid), float64(v)/64+1, "value %d reads as %d", v, mid)
		require.Equal(t, b, bucket(mid), "a bucket's middle lies in it")
	}
	require.Equal(t, uint16(63), bucket(63), "exact below 64 s")
	require.Equal(t, uint16(0), bucket(-5), "a negative value counts as 0")
}

// TestDurationsQuantilesWithinError merges cells of generated durations
// (as Summary does) and compares count, median and p90, and the values
// drawn by rank, with the exact computation over the samples.
func TestDurationsQuantilesWithinError(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	tests := []struct {
		name  string
		cells int
		per   int
		draw  func() int32
	}{
		{"few samples stay exact", 3, 20, func() int32 { return rng.Int32N(100000) }},
		{"log-normal waits", 40, 3000, func() int32 { return int32(math.Exp(8 + 2*rng.NormFloat64())) }},
		{"uniform up to a week", 10, 5000, func() int32 { return rng.Int32N(7 * 86400) }},
		{"few distinct values read exact", 5, 4000, func() int32 { return int32(1800 * (1 + rng.IntN(5))) }},
		{"seconds", 4, 1000, func() int32 { return rng.Int32N(90) }},
		{"huge", 2, 500, func() int32 { return math.MaxInt32 - rng.Int32N(1000) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var all []time.Duration
			var ints []int32
			var s dist
			sketched, bytes := 0, 0
			for range tt.cells {
				var d Durations
				for range tt.per {
					v := tt.draw()
					d.Add(v)
					all = append(all, time.Duration(v)*time.Second)
					ints = append(ints, v)
				}
				require.Equal(t, tt.per, d.N())
				if d.Sketched() {
					sketched++
				}
				bytes += d.Bytes()
				s.add(&d)
			}
			want, got := Summarize(all), s.timing()
			t.Logf("%d of %d cells sketched, %d bytes for %d samples; median %s ~ %s, p90 %s ~ %s",
				sketched, tt.cells, bytes, len(all), want.Median, got.Median, want.P90, got.P90)
			require.Equal(t, want.N, got.N)
			if tt.per <= minSketch || tt.name == "few distinct values read exact" || tt.name == "seconds" {
				require.Equal(t, want, got)
			} else {
				require.Positive(t, sketched, "many spread samples make a histogram")
				require.Less(t, bytes, 4*len(all), "the histogram is smaller than the samples")
				within(t, want.Median, got.Median, "median")
				within(t, want.P90, got.P90, "p90")
			}
			slices.Sort(ints)
			sm := newSampler(&s)
			require.Equal(t, len(ints), sm.Len())
			for i := 0; i < len(ints); i += max(1, len(ints)/97) {
				within(t, time.Duration(ints[i])*time.Second, time.Duration(sm.At(i))*time.Second, "rank %d", i)
			}
		})
	}
}

func TestDurationsTail(t *testing.T) {
	t.Parallel()
	var d Durations
	for v := range int32(10) {
		d.Add(v * 1000)
	}
	require.Equal(t, []int32{7000, 8000, 9000}, d.appendTail(nil, 3), "the last samples while few")
	require.Len(t, d.appendTail(nil, 99), 10)
	require.Empty(t, d.appendTail(nil, 0))
	var h Durations
	for i := range 100000 {
		h.Add(int32(i))
	}
	require.True(t, h.Sketched())
	tail := h.appendTail(nil, 10)
	require.Len(t, tail, 10)
	for j, v := range tail { // an even spread: ranks 5000, 15000, ...
		require.InDelta(t, float64(10000*j+5000), float64(v), float64(10000*j+5000)/64+1)
	}
}

func TestDistAbove(t *testing.T) {
	t.Parallel()
	var d Durations
	for _, v := range []int32{5, 10, 10, 20, 30} {
		d.Add(v)
	}
	var s dist
	s.add(&d)
	s.sort()
	s.above(10)
	require.Equal(t, 2, s.n)
	require.Equal(t, []int32{20, 30}, s.ranks(0, 1))
	s.above(math.MaxInt32)
	require.Zero(t, s.n)
}
