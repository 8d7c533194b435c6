package api_test

import (
	"encoding/json"
	"fmt"
	"github.com/flowbot/flowbot/api"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A whole request through the API: filed for an applicant by a service
// token with an idempotency key, listed, decided by the manager with their
// own token, read back with its audit trail, exported.
func TestRequestLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.token(t, "", 0, "write")
	lilei := b.token(t, "lilei", 720*time.Hour, "write")

	r := b.do(t, "POST", "/api/v1/requests", svc, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(2)}, "Idempotency-Key", "erp-1")
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	req := r.json(t)
	id := int64(req["id"].(float64))
	require.Equal(t, "pending", req["status"])
	require.Equal(t, "hanmeimei", req["applicant"])

	// The same key again files nothing.
	r = b.do(t, "POST", "/api/v1/requests", svc, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(2)}, "Idempotency-Key", "erp-1")
	require.Equal(t, http.StatusConflict, r.Code, "%s", r.Body)
	require.Equal(t, "conflict", r.errCode(t))

	r = b.do(t, "GET", "/api/v1/requests?flow=leave&status=pending", svc, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	require.Len(t, r.json(t)["requests"], 1)

	r = b.do(t, "GET", "/api/v1/tasks", lilei, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	tasks := r.json(t)["tasks"].([]any)
	require.Len(t, tasks, 1)
	taskID := int64(tasks[0].(map[string]any)["id"].(float64))

	r = b.do(t, "POST", fmt.Sprintf("/api/v1/tasks/%d/decide", taskID), lilei, map[string]any{"decision": "approve", "comment": "ok"})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	require.Equal(t, "approved", r.json(t)["request"].(map[string]any)["status"])

	// A second click: refused, nothing changes.
	before := b.counts(t)
	r = b.do(t, "POST", fmt.Sprintf("/api/v1/tasks/%d/decide", taskID), lilei, map[string]any{"decision": "reject", "comment": "no"})
	require.Equal(t, http.StatusConflict, r.Code, "%s", r.Body)
	require.Equal(t, before, b.counts(t))

	r = b.do(t, "GET", fmt.Sprintf("/api/v1/requests/%d", id), lilei, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	var types []string
	for _, e := range r.json(t)["events"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	require.Contains(t, types, "submitted")
	require.Contains(t, types, "approved")
	require.Contains(t, types, "completed")

	r = b.do(t, "GET", "/api/v1/export/requests?format=csv", svc, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], "id,number,flow_id"))
	require.Contains(t, lines[1], ",hanmeimei,approved,")

	r = b.do(t, "GET", fmt.Sprintf("/api/v1/export/events?format=jsonl&request=%d", id), svc, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(r.Body)), "\n") {
		var ev map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &ev), "line %q", l)
		require.EqualValues(t, id, ev["instance_id"])
		n++
	}
	require.Equal(t, len(types), n)
}

func TestPagination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.token(t, "", 0, "write")
	for i := range 5 {
		r := b.do(t, "POST", "/api/v1/requests", svc, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(1)}, "Idempotency-Key", fmt.Sprint("k", i))
		require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
		if i == 2 {
			b.clock.Add(time.Minute)
		}
	}
	seen := map[float64]bool{}
	path := "/api/v1/requests?limit=2"
	pages := 0
	for {
		r := b.do(t, "GET", path, svc, nil)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		m := r.json(t)
		for _, x := range m["requests"].([]any) {
			id := x.(map[string]any)["id"].(float64)
			require.False(t, seen[id], "request %v on two pages", id)
			seen[id] = true
		}
		pages++
		cur, ok := m["next_cursor"].(string)
		if !ok {
			break
		}
		path = "/api/v1/requests?limit=2&cursor=" + cur
		require.Less(t, pages, 10)
	}
	require.Len(t, seen, 5)
	require.Equal(t, 3, pages)
}

// Request ids: taken from the caller when sane, made up otherwise, sent
// back and written in the request's log lines.
func TestRequestID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.token(t, "", 0, "read")
	r := b.do(t, "GET", "/api/v1/flows", svc, nil, "X-Request-Id", "abc-123")
	require.Equal(t, "abc-123", r.Header.Get("X-Request-Id"))
	require.Contains(t, b.logs.String(), `"request_id":"abc-123"`)
	r = b.do(t, "GET", "/api/v1/flows", svc, nil, "X-Request-Id", "bad id\" with quotes")
	require.Regexp(t, `^[0-9a-f]{16}$`, r.Header.Get("X-Request-Id"))
	r = b.do(t, "GET", "/api/v1/nowhere", svc, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	require.Equal(t, "not_found", r.errCode(t))
}

func TestMessagesInChinese(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "GET", "/api/v1/requests", "", nil, "Accept-Language", "zh-CN,zh;q=0.9")
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Contains(t, r.json(t)["error"].(map[string]any)["message"], "令牌")
	r = b.do(t, "GET", "/api/v1/requests", "", nil)
	require.Contains(t, r.json(t)["error"].(map[string]any)["message"], "token")
}

func TestRateLimitPerToken(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *api.Config) { c.RatePerSecond, c.Burst = 0.001, 2 })
	a := b.token(t, "", 0, "read")
	other := b.token(t, "", 0, "read")
	for range 2 {
		require.Equal(t, http.StatusOK, b.do(t, "GET", "/api/v1/flows", a, nil).Code)
	}
	r := b.do(t, "GET", "/api/v1/flows", a, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Code)
	require.Equal(t, "rate_limited", r.errCode(t))
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/api/v1/flows", other, nil).Code, "another token has its own limit")
}

func TestStaticAdminTokenIsBootstrap(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "GET", "/api/v1/admin/outbox?status=pending", adminToken, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	reader := b.token(t, "", 0, "read")
	r = b.do(t, "GET", "/api/v1/admin/outbox", reader, nil)
	require.Equal(t, http.StatusForbidden, r.Code)
	require.Equal(t, "forbidden", r.errCode(t))
}
