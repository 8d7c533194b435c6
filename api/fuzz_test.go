package api_test

import (
	"github.com/flowbot/flowbot/api"
	"net/http"
	"net/url"
	"testing"
)

// FuzzListFilters throws arbitrary filter values and cursors at the
// request listing: the answer is 200 or a 400 error body, never a panic or
// a 500.
func FuzzListFilters(f *testing.F) {
	b := setup(f, func(c *api.Config) { c.RatePerSecond, c.Burst = 1e9, 1e9 }) // the fuzzer outruns any sane limit
	svc := b.token(f, "", 0, "read")
	f.Add("leave", "pending", "2026-12-01T00:00:00Z", "10", "djEuMTc2NDg0MTYwMDAwMC4xMg")
	f.Add("' OR 1=1 --", "pending,approved", "x", "-1", "%%%")
	f.Add("", "", "", "", "djEuLTEuLTE")
	f.Fuzz(func(t *testing.T, flow, status, since, limit, cursor string) {
		q := url.Values{}
		for k, v := range map[string]string{"flow": flow, "status": status, "since": since, "limit": limit, "cursor": cursor} {
			if v != "" {
				q.Set(k, v)
			}
		}
		r := b.do(t, "GET", "/api/v1/requests?"+q.Encode(), svc, nil)
		switch r.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			if r.errCode(t) != "invalid" {
				t.Fatalf("400 with code %s", r.errCode(t))
			}
		default:
			t.Fatalf("status %d: %s", r.Code, r.Body)
		}
	})
}
