package feishu_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// BenchmarkClickToResponse measures an approver's click from the fake's
// signed, encrypted webhook request through the adapter, the real bot and
// the engine on SQLite (the decision's transaction) back to the click's
// answer with the re-rendered card. Filing the request and sending the
// task card are not timed.
func BenchmarkClickToResponse(b *testing.B) {
	r := setupRealBot(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		msgID := r.taskCard(b)
		m, _ := r.fake.Message(msgID)
		value := buttonByAction(b, m.Card(), "approve")
		b.StartTimer()
		start := time.Now()
		c := r.fake.ClickWith(b, feishutest.Click{App: r.app.ID, OpenID: openIDLiLei, MessageID: msgID, Value: value})
		lat = append(lat, time.Since(start))
		if c.Status != http.StatusOK || c.Card == nil || c.Toast == nil || c.Toast.Type != "info" {
			b.Fatalf("click failed: %d %s", c.Status, c.Body)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
