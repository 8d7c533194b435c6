package dingtalk_test

import (
	"slices"
	"testing"
	"time"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/flows"
)

// BenchmarkClickToAnswer measures an approver's click from the fake's
// Stream frame through the adapter, the real bot and the engine on SQLite
// (the decision's transaction) back to the frame's ack carrying the
// updated card. Filing the request and delivering the task card are not
// timed.
func BenchmarkClickToAnswer(b *testing.B) {
	r := setupRealBot(b, "")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		_, err := r.engine.Submit(r.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "expense", Values: map[string]any{
			"amount": "300", "category": "office", "description": "bench",
		}})
		if err != nil {
			b.Fatal(err)
		}
		r.drain(b)
		c := r.cardOf(b, staffLiLei)
		slot := buttonSlot(b, c, "approve")
		b.StartTimer()
		start := time.Now()
		ack, ans, err := r.fake.ClickStream(r.app.Key, dingtalktest.Click{OutTrackID: c.OutTrackID, UserID: staffLiLei, Button: slot})
		lat = append(lat, time.Since(start))
		if err != nil || ack.Code != 200 || ans.CardData.CardParamMap["color"] != "green" {
			b.Fatalf("click failed: %v %+v %v", err, ack, ans.CardData.CardParamMap["toast"])
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
