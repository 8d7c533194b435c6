package wecom_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/flows"
)

// BenchmarkClickToAnswer measures an approver's click from the fake's
// encrypted, signed callback through the adapter, the real bot and the
// engine on SQLite (the decision's transaction) to the callback's empty
// 200 (the clicked card's update follows in the background). Filing the
// request and sending the task card are not timed.
func BenchmarkClickToAnswer(b *testing.B) {
	big := wecomtest.Limits{PerMinute: 1 << 30, PerHour: 1 << 30, Minute: time.Minute, Hour: time.Hour}
	r := setupRealBot(b, setupOpts{rate: wecom.RateLimits{PerMinute: 1 << 30, PerHour: 1 << 30}, fakeOpts: []wecomtest.Option{wecomtest.WithLimits(big)}})
	lilei, err := r.engine.Store().User(r.ctx, "lilei")
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		out, err := r.engine.Submit(r.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
			"type": "annual", "period": map[string]any{"from": "2026-12-01", "to": "2026-12-02"}, "reason": "family",
		}})
		if err != nil {
			b.Fatal(err)
		}
		var task *flows.Task
		for _, x := range out.Tasks {
			if x.Status == flows.TaskPending && x.Assignee == "lilei" {
				task = x
			}
		}
		v, err := r.engine.View(r.ctx, out.Instance.ID)
		if err != nil || task == nil {
			b.Fatal("no task for lilei", err)
		}
		_, m := r.sendCard(b, "LiLei", *r.bot.TaskCard(v, task, lilei), "")
		key := keyOf(b, m.Card, buttonText(b, m.Card, "approve"))
		b.StartTimer()
		start := time.Now()
		resp, err := r.fake.Click(r.ctx, r.app.CorpID, r.app.AgentID, "LiLei", m.TaskID, key)
		lat = append(lat, time.Since(start))
		if err != nil || resp.Status != http.StatusOK {
			b.Fatalf("click failed: %v %d %s", err, resp.Status, resp.Body)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
