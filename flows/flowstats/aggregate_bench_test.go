package flowstats_test

import (
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
