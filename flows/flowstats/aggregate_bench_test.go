package flowstats_test

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"testing"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// million returns about 1,000,000 generated events (and the truth).
func million(b *testing.B) ([]*flows.Event, truth) {
	b.Helper()
	p := planted
	p.Requests = 76000
	evs, tr := generate(p, origin)
	if len(evs) < 1_000_000 {
		b.Fatalf("generated %d events, want 1,000,000", len(evs))
	}
	return evs[:1_000_000], tr
}

// BenchmarkAggregateRebuild folds 1,000,000 events into a new aggregate.
func BenchmarkAggregateRebuild(b *testing.B) {
	evs, tr := million(b)
	b.ReportAllocs()
	for b.Loop() {
		a := flowstats.NewAggregate(nil)
		a.SetDirectory(tr.users)
		a.Apply(evs...)
	}
	b.ReportMetric(float64(len(evs)), "events/op")
}

// BenchmarkAggregateIncremental folds 1,000 new events into an aggregate
// that holds 1,000,000.
func BenchmarkAggregateIncremental(b *testing.B) {
	evs, tr := million(b)
	a := flowstats.NewAggregate(nil)
	a.SetDirectory(tr.users)
	a.Apply(evs[:len(evs)-1000*200]...)
	tail := evs[len(evs)-1000*200:]
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % 200
		if k == 0 && i > 0 { // the tail is folded: fold it again under new ids
			b.StopTimer()
			shift := a.Cursor() - tail[0].ID + 1
			for _, e := range tail {
				e.ID += shift
			}
			b.StartTimer()
		}
		a.Apply(tail[k*1000 : (k+1)*1000]...)
	}
}

// BenchmarkAggregateSummary is one dashboard query (everything, then one
// flow and department) over an aggregate of 1,000,000 events.
func BenchmarkAggregateSummary(b *testing.B) {
	evs, tr := million(b)
	a := flowstats.NewAggregate(nil)
	a.SetDirectory(tr.users)
	a.Apply(evs...)
	b.ResetTimer()
	for b.Loop() {
		a.Summary(flowstats.Filter{})
		a.Summary(flowstats.Filter{FlowID: "purchase", Dept: "sales"})
	}
}

// BenchmarkAggregateAccuracy measures the forecasts of the last 200
// approved requests (what the dashboard shows per flow) over an aggregate
// of 1,000,000 events.
func BenchmarkAggregateAccuracy(b *testing.B) {
	evs, tr := million(b)
	a := flowstats.NewAggregate(nil)
	a.SetDirectory(tr.users)
	a.Apply(evs...)
	b.ResetTimer()
	for b.Loop() {
		if a.Accuracy("purchase", 0) == nil {
			b.Fatal("nothing measured")
		}
	}
}

// BenchmarkAggregatePredict is one forecast (a /status) over an aggregate
// of 1,000,000 events.
func BenchmarkAggregatePredict(b *testing.B) {
	evs, tr := million(b)
	a := flowstats.NewAggregate(nil)
	a.SetDirectory(tr.users)
	a.Apply(evs...)
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Predict("purchase", purchaseRoute, origin); err != nil {
			b.Fatal(err)
		}
	}
}

// sliceSource is an event log in memory, read in pages as from a store;
// it counts the directory's reads.
type sliceSource struct {
	evs       []*flows.Event
	users     []*flows.User
	userReads int
}

func (s *sliceSource) Events(_ context.Context, f flows.EventFilter) ([]*flows.Event, error) {
	i, _ := slices.BinarySearchFunc(s.evs, f.AfterID+1, func(e *flows.Event, id int64) int { return cmp.Compare(e.ID, id) })
	return s.evs[i:min(i+f.Limit, len(s.evs))], nil
}

func (s *sliceSource) Users(context.Context) ([]*flows.User, error) {
	s.userReads++
	return s.users, nil
}

// BenchmarkColdStart1M is a server's start over 1,000,000 events: Warm
// in the background, reading the log in pages, until done; it reports the
// heap the aggregate holds afterwards (beyond the events in memory).
func BenchmarkColdStart1M(b *testing.B) {
	evs, tr := million(b)
	src := &sliceSource{evs: evs, users: tr.users}
	var heap, base uint64
	heapNow := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base = heapNow() // the events themselves
	b.ResetTimer()
	b.ReportAllocs()
	for b.Loop() {
		a := flowstats.NewAggregate(nil)
		if err := <-a.Warm(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		heap = heapNow() - base
		runtime.KeepAlive(a)
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/(1<<20), "MB-heap-after")
}
