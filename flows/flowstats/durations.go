package flowstats

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"time"
)

// Durations holds the duration samples (whole seconds) of one cell in
// bounded memory: the samples themselves while they are few (or too spread
// for a histogram to be smaller), then a log histogram whose buckets are
// 1/32 of their lower bound wide (exact below 64 s). A bucket whose
// samples all have one value reads as that value, any other as its
// middle, so every quantile taken from Durations has the exact rank and a
// value within 1/64 (1.6%) of the true one, and is exact while the cells
// hold samples or buckets of one value: see docs/BENCHMARKS.md, "Process
// statistics in bounded memory".
type Durations struct {
	// exact are the samples in the order they came, while bins is empty.
	exact []int32
	// bins are the histogram's non-empty buckets, ascending, cnt their
	// counts and val the one value of all their samples (mixed: several).
	bins []uint16
	cnt  []uint32
	val  []int32
	n    int
}

// minSketch is how many samples a Durations keeps as they are before it
// considers a histogram; at each power of two from there it switches when
// the histogram is the smaller.
const minSketch = 64

// subBuckets is how many buckets split each power of two (2^subBits).
const subBits = 5

// exactBelow: values below it get a bucket each.
const exactBelow = 2 << subBits

// bucket returns the histogram bucket of v seconds.
func bucket(v int32) uint16 {
	if v < exactBelow {
		return uint16(max(v, 0))
	}
	e := bits.Len32(uint32(v)) - 1 // >= subBits+1
	s := (v >> (e - subBits)) & (1<<subBits - 1)
	return uint16(exactBelow + (e-subBits-1)<<subBits + int(s))
}

// bucketValue returns the middle of bucket b, the value it stands for.
func bucketValue(b uint16) int32 {
	if b < exactBelow {
		return int32(b)
	}
	i := int(b) - exactBelow
	e := i>>subBits + subBits + 1
	s := int64(i & (1<<subBits - 1))
	lo := (1<<subBits + s) << (e - subBits)
	w := int64(1) << (e - subBits)
	return int32(min(lo+w/2, math.MaxInt32))
}

// N returns the number of samples.
func (d *Durations) N() int { return d.n }

// mixed marks a bucket whose samples have several values.
const mixed = -1

// Add adds one sample of v seconds (a negative v counts as 0).
func (d *Durations) Add(v int32) {
	v = max(v, 0)
	d.n++
	if d.bins == nil {
		d.exact = append(d.exact, v)
		if n := len(d.exact); n >= minSketch && n&(n-1) == 0 {
			d.maybeSketch()
		}
		return
	}
	d.addBin(v)
}

// addBin adds a sample of v to its bucket.
func (d *Durations) addBin(v int32) {
	b := bucket(v)
	i, ok := slices.BinarySearch(d.bins, b)
	if ok {
		d.cnt[i]++
		if d.val[i] != v {
			d.val[i] = mixed
		}
		return
	}
	d.bins = slices.Insert(d.bins, i, b)
	d.cnt = slices.Insert(d.cnt, i, 1)
	d.val = slices.Insert(d.val, i, v)
}

// maybeSketch turns the samples into a histogram when it takes less
// memory (10 bytes a bucket against 4 a sample).
func (d *Durations) maybeSketch() {
	bs := make([]uint16, len(d.exact))
	for i, v := range d.exact {
		bs[i] = bucket(v)
	}
	slices.Sort(bs)
	bs = slices.Compact(bs)
	if 10*len(bs) > 4*len(d.exact) {
		return
	}
	d.bins = slices.Clip(bs)
	d.cnt = make([]uint32, len(bs))
	d.val = make([]int32, len(bs))
	for i := range d.val {
		d.val[i] = mixed - 1 // empty
	}
	for _, v := range d.exact {
		i, _ := slices.BinarySearch(d.bins, bucket(v))
		d.cnt[i]++
		switch d.val[i] {
		case mixed - 1:
			d.val[i] = v
		case v, mixed:
		default:
			d.val[i] = mixed
		}
	}
	d.exact = nil
}

// binValue is the value bucket i stands for: its samples' one value, or
// its middle.
func (d *Durations) binValue(i int) int32 {
	if v := d.val[i]; v != mixed {
		return v
	}
	return bucketValue(d.bins[i])
}

// Sketched reports whether d keeps a histogram rather than the samples.
func (d *Durations) Sketched() bool { return d.bins != nil }

// Bytes is the memory d's samples or buckets take (capacity included).
func (d *Durations) Bytes() int { return 4*cap(d.exact) + 2*cap(d.bins) + 4*cap(d.cnt) + 4*cap(d.val) }

// appendTail appends the last k samples of d (all when k >= N) to dst:
// while d holds samples, those that came last in their order; once it is
// a histogram, k values spread evenly over its distribution (ascending).
func (d *Durations) appendTail(dst []int32, k int) []int32 {
	if k >= d.n {
		k = d.n
	}
	if k <= 0 {
		return dst
	}
	if d.bins == nil {
		return append(dst, d.exact[len(d.exact)-k:]...)
	}
	// The value at rank (j+1/2)*n/k for j < k.
	i, below := 0, 0 // bucket i holds ranks [below, below+cnt[i])
	for j := range k {
		r := (2*j + 1) * d.n / (2 * k)
		for r >= below+int(d.cnt[i]) {
			below += int(d.cnt[i])
			i++
		}
		dst = append(dst, d.binValue(i))
	}
	return dst
}

// pair is a value and how many samples have it.
type pair struct {
	v int32
	n uint32
}

// dist is a distribution merged from cells' Durations: its quantiles
// have exact ranks. Add cells, then sort before reading it.
type dist struct {
	p []pair
	n int
	// sorted: p is in ascending order of value, equal values merged.
	sorted bool
}

func (s *dist) add(d *Durations) {
	s.n += d.n
	s.sorted = false
	for _, v := range d.exact {
		s.p = append(s.p, pair{v, 1})
	}
	for i := range d.bins {
		s.p = append(s.p, pair{d.binValue(i), d.cnt[i]})
	}
}

// sort orders the pairs by value and merges equal values.
func (s *dist) sort() {
	if s.sorted {
		return
	}
	s.sorted = true
	slices.SortFunc(s.p, func(x, y pair) int { return cmp.Compare(x.v, y.v) })
	out := s.p[:0]
	for _, q := range s.p {
		if l := len(out); l > 0 && out[l-1].v == q.v {
			out[l-1].n += q.n
			continue
		}
		out = append(out, q)
	}
	s.p = out
}

// above drops the samples of value <= v. s must be sorted.
func (s *dist) above(v int32) {
	if v == math.MaxInt32 {
		s.p, s.n = nil, 0
		return
	}
	i, _ := slices.BinarySearchFunc(s.p, v+1, func(q pair, v int32) int { return cmp.Compare(q.v, v) })
	for _, q := range s.p[:i] {
		s.n -= int(q.n)
	}
	s.p = s.p[i:]
}

// ranks returns the values at the ascending ranks rs (0-based, < n). s
// must be sorted.
func (s *dist) ranks(rs ...int) []int32 {
	out := make([]int32, len(rs))
	i, below := 0, 0
	for j, r := range rs {
		for r >= below+int(s.p[i].n) {
			below += int(s.p[i].n)
			i++
		}
		out[j] = s.p[i].v
	}
	return out
}

// timing returns the count, median and p90 (nearest rank) of s, as
// Summarize computes them over the samples.
func (s *dist) timing() Timing {
	if s.n == 0 {
		return Timing{}
	}
	s.sort()
	n := s.n
	v := s.ranks(n/2-(1-n%2), n/2, int(math.Ceil(0.9*float64(n)))-1)
	d := func(x int32) time.Duration { return time.Duration(x) * time.Second }
	med := d(v[1])
	if n%2 == 0 {
		med = d(v[0]) + (d(v[1])-d(v[0]))/2
	}
	return Timing{N: n, Median: med, P90: d(v[2])}
}

// sampler draws samples of a sorted dist uniformly: Draw(i) is the value
// of rank i, as indexing the sorted samples would give.
type sampler struct {
	cum []int // cum[i]: samples up to and including pair i
	v   []int32
}

func newSampler(s *dist) sampler {
	s.sort()
	sm := sampler{cum: make([]int, len(s.p)), v: make([]int32, len(s.p))}
	c := 0
	for i, q := range s.p {
		c += int(q.n)
		sm.cum[i], sm.v[i] = c, q.v
	}
	return sm
}

// Len is the number of samples.
func (sm sampler) Len() int {
	if len(sm.cum) == 0 {
		return 0
	}
	return sm.cum[len(sm.cum)-1]
}

// At returns the value of rank i.
func (sm sampler) At(i int) int32 {
	j, _ := slices.BinarySearch(sm.cum, i+1)
	return sm.v[j]
}
