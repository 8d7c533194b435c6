package chaos

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"
)

// Stats collects latencies per operation.
type Stats struct {
	mu    sync.Mutex
	start time.Time
	last  time.Time // the last Add: rates are over start..last
	ops   map[string][]time.Duration
}

// NewStats starts the clock of the throughput.
func NewStats() *Stats { return &Stats{start: time.Now(), ops: map[string][]time.Duration{}} }

// Add records one latency of op.
func (s *Stats) Add(op string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[op] = append(s.ops[op], d)
	s.last = time.Now()
}

// Elapsed is the time from the start to the last Add.
func (s *Stats) Elapsed() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Sub(s.start)
}

// Merged returns the p-th percentiles (0..100) of the latencies of all ops
// together, and their count.
func (s *Stats) Merged(p float64, ops ...string) (time.Duration, int) {
	s.mu.Lock()
	var ds []time.Duration
	for _, op := range ops {
		ds = append(ds, s.ops[op]...)
	}
	s.mu.Unlock()
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return pct(ds, p), len(ds)
}

// Percentile returns the p-th percentile (0..100) of op, and its count.
func (s *Stats) Percentile(op string, p float64) (time.Duration, int) {
	s.mu.Lock()
	ds := slices.Clone(s.ops[op])
	s.mu.Unlock()
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return pct(ds, p), len(ds)
}

func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// Print writes one line per operation: count, rate over the run (its
// start to the last latency recorded), p50, p90, p99 and max, the form
// docs/BENCHMARKS.md records.
func (s *Stats) Print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.last.Sub(s.start).Seconds()
	if el <= 0 {
		el = time.Since(s.start).Seconds()
	}
	names := make([]string, 0, len(s.ops))
	for n := range s.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "%-22s %7s %8s %9s %9s %9s %9s\n", "operation", "count", "per s", "p50", "p90", "p99", "max")
	for _, n := range names {
		ds := slices.Clone(s.ops[n])
		slices.Sort(ds)
		fmt.Fprintf(w, "%-22s %7d %8.1f %9s %9s %9s %9s\n", n, len(ds), float64(len(ds))/el,
			round(pct(ds, 50)), round(pct(ds, 90)), round(pct(ds, 99)), round(ds[len(ds)-1]))
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
