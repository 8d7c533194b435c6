package feishu_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

type cardHandler struct{ card bots.Card }

func (h cardHandler) Handle(context.Context, bots.Event) (bots.Reply, error) {
	return bots.Reply{Toast: "已同意 Approved", Card: &h.card}, nil
}

// BenchmarkClickToResponse measures a signed, encrypted click from the fake
// to the adapter and back with a rendered card, over HTTP on loopback.
func BenchmarkClickToResponse(b *testing.B) {
	for _, mode := range []string{feishu.ModeHTTP, feishu.ModeWebSocket} {
		b.Run(mode, func(b *testing.B) {
			tb := setup(b, setupOpts{mode: mode, handler: cardHandler{card: samples()["approved"]}})
			value := map[string]any{"a": "approve", "v": map[string]any{"task": "42"}}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				r := tb.fake.Click(b, tb.app.ID, "ou_lilei", "om_1", value, nil)
				lat = append(lat, time.Since(start))
				if r.Status != http.StatusOK || r.Card == nil {
					b.Fatalf("click failed: %d %s", r.Status, r.Body)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
