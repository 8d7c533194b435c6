package api_test

import (
	"github.com/flowbot/flowbot/api"
	"net/http"
	"net/url"
	"strconv"
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

// FuzzTaskDecisions throws arbitrary decide and send-back bodies at a
// pending task: the answer is a success or a clear 4xx error body, never
// a panic or a 500.
func FuzzTaskDecisions(f *testing.F) {
	b := setup(f, func(c *api.Config) { c.RatePerSecond, c.Burst = 1e9, 1e9 })
	svc := b.token(f, "", 0, "write", "read")
	r := b.do(f, "POST", "/api/v1/requests", svc, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(2)})
	if r.Code != http.StatusCreated {
		f.Fatalf("file request: %d %s", r.Code, r.Body)
	}
	r = b.do(f, "GET", "/api/v1/tasks?assignee=lilei", svc, nil)
	ts, _ := r.json(f)["tasks"].([]any)
	if len(ts) != 1 {
		f.Fatalf("want one task, got %s", r.Body)
	}
	id := int64(ts[0].(map[string]any)["id"].(float64))
	f.Add("send-back", `{"to_step":"manager","reason":"x"}`)
	f.Add("decide", `{"decision":"send_back","to_step":"manager","comment":"x"}`)
	f.Add("decide", `{"decision":"return","comment":"x"}`)
	f.Add("send-back", `{"to_step":"' OR 1=1 --","reason":""}`)
	f.Add("send-back", `{"to_step":["a"]}`)
	f.Fuzz(func(t *testing.T, action, body string) {
		if action != "decide" {
			action = "send-back"
		}
		r := b.do(t, "POST", "/api/v1/tasks/"+strconv.FormatInt(id, 10)+"/"+action, svc, body, "X-On-Behalf-Of", "lilei")
		switch r.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", r.Code, r.Body)
		}
	})
}
