package flowstats_test

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
)

// dense is a history as busy as the 1,000,000-request file of
// cmd/flowbot-scale: a request every 17 working seconds (1,000,000 over
// two years of working days), waits spread by Jitter.
var dense = genParams{
	Base:       planted.Base,
	SalesExtra: planted.SalesExtra,
	Spacing:    17 * time.Second,
	Jitter:     true,
}

// streamDense generates the dense history of n requests in chunks and
// hands each chunk's events to fold (ids, request and task ids renumbered
// to follow on), so that the events never all stay in memory. It returns
// the number of events.
func streamDense(n int, fold func([]*flows.Event)) int {
	const chunk = 2000
	cal := workcal.Default()
	at := origin
	var id, inst, task int64
	events := 0
	for done := 0; done < n; done += chunk {
		p := dense
		p.Requests = min(chunk, n-done)
		evs, _ := generate(p, at)
		var maxTask int64
		for _, e := range evs {
			id++
			e.ID = id
			e.InstanceID += inst
			if e.TaskID != 0 {
				maxTask = max(maxTask, e.TaskID)
				e.TaskID += task
			}
		}
		inst += int64(p.Requests)
		task += maxTask
		events += len(evs)
		fold(evs)
		at = addWork(cal, at, time.Duration(p.Requests)*p.Spacing)
	}
	return events
}

// liveHeap returns the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkAggregateMemoryDense folds the dense history of
// FLOWSTATS_REQUESTS requests (default 1,000,000: about 11 million
// events) into a new aggregate, and reports the heap the aggregate keeps
// after a collection (MB-live), the CPU time per event folded
// (wall ns/event, and cpu-ns/event: user+system of the process while
// folding, collections included; generation excluded) and the events
// folded. Run it with -benchtime=1x.
func BenchmarkAggregateMemoryDense(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("FLOWSTATS_REQUESTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	var live uint64
	var events int
	var fold, cpu time.Duration
	for range b.N {
		base := liveHeap()
		a := flowstats.NewAggregate(nil)
		_, tr := generate(genParams{Requests: 10, Base: planted.Base}, origin)
		a.SetDirectory(tr.users) // the generator's directory, the same for every chunk
		events = streamDense(n, func(evs []*flows.Event) {
			t, c := time.Now(), cpuTime()
			a.Apply(evs...)
			fold += time.Since(t)
			cpu += cpuTime() - c
		})
		live = liveHeap() - base
		s := a.Summary(flowstats.Filter{})
		if s.Total.Submitted != n {
			b.Fatalf("submitted %d, want %d", s.Total.Submitted, n)
		}
		runtime.KeepAlive(a)
	}
	b.ReportMetric(float64(live)/(1<<20), "MB-live")
	b.ReportMetric(float64(fold.Nanoseconds())/float64(events)/float64(b.N), "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(events)/float64(b.N), "cpu-ns/event")
	b.ReportMetric(float64(events), "events")
}
