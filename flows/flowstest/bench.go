package flowstest

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// benchFlow is a one-step flow: the applicant's manager approves.
const benchFlow = `
id: bench
name: {zh: 报销, en: Expense}
fields:
  - id: amount
    type: money
    label: {zh: 金额, en: Amount}
    required: true
steps:
  - id: manager
    name: {zh: 上级, en: Manager}
    approvers: [{manager: 1}]
`

// BenchCycles measures submit + approve cycles of a one-step flow on s with
// callers goroutines calling the engine at once. Each cycle is a Submit
// (its own transaction) then the manager's Decide (another), and checks
// the request ended approved. It reports cycles/s and the p50 and p99
// latency of one whole cycle. s must be empty and migrated.
func BenchCycles(b *testing.B, s flows.Store, callers int) {
	ctx := context.Background()
	users := []*flows.User{{ID: "boss", Name: "Boss", Dept: "d"}}
	for i := range callers {
		id := "emp" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		users = append(users, &flows.User{ID: id, Name: id, Dept: "d", Manager: "boss"})
	}
	if err := s.ReplaceDirectory(ctx, users, []*flows.Department{{ID: "d", Name: "D", Head: "boss"}}); err != nil {
		b.Fatal(err)
	}
	e := flows.New(flows.Config{Store: s})
	if _, _, err := e.PublishFlow(ctx, "bench.yaml", []byte(benchFlow)); err != nil {
		b.Fatal(err)
	}
	cycle := func(actor string) error {
		out, err := e.Submit(ctx, flows.SubmitRequest{Actor: actor, FlowID: "bench", Values: map[string]any{"amount": "120.50"}})
		if err != nil {
			return err
		}
		var task *flows.Task
		for _, t := range out.Tasks {
			if t.Status == flows.TaskPending {
				task = t
			}
		}
		if task == nil {
			b.Errorf("request %s has no pending task", out.Instance.Number)
			return nil
		}
		out, err = e.Decide(ctx, flows.DecideRequest{Actor: task.Assignee, TaskID: task.ID, Approve: true})
		if err != nil {
			return err
		}
		if out.Instance.Status != flows.StatusApproved {
			b.Errorf("request %s is %s, want approved", out.Instance.Number, out.Instance.Status)
		}
		return nil
	}
	// Warm up caches and connections outside the timing.
	for _, u := range users[1:] {
		if err := cycle(u.ID); err != nil {
			b.Fatal(err)
		}
	}

	var next atomic.Int64
	lat := make([][]time.Duration, callers)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for i := range callers {
		actor := users[1+i].ID
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := cycle(actor); err != nil {
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "cycles/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
