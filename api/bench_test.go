package api_test

import (
	"fmt"
	"github.com/flowbot/flowbot/api"
	"net/http"
	"testing"
)

// BenchmarkCreateDecide files a leave request through the API and has the
// manager approve it: two authenticated calls, two engine transactions.
func BenchmarkCreateDecide(b *testing.B) {
	tb := setup(b, func(c *api.Config) { c.RatePerSecond, c.Burst = 1e9, 1e9 })
	svc := tb.token(b, "", 0, "write")
	lilei := tb.token(b, "lilei", 0, "write")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := tb.do(b, "POST", "/api/v1/requests", svc, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(1)}, "Idempotency-Key", fmt.Sprint("bench-", i))
		if r.Code != http.StatusCreated {
			b.Fatalf("create: %d %s", r.Code, r.Body)
		}
		tasks := r.json(b)["tasks"].([]any)
		var id float64
		for _, t := range tasks {
			if t.(map[string]any)["assignee"] == "lilei" && t.(map[string]any)["status"] == "pending" {
				id = t.(map[string]any)["id"].(float64)
			}
		}
		r = tb.do(b, "POST", fmt.Sprintf("/api/v1/tasks/%d/decide", int64(id)), lilei, map[string]any{"decision": "approve"})
		if r.Code != http.StatusOK {
			b.Fatalf("decide: %d %s", r.Code, r.Body)
		}
	}
}
