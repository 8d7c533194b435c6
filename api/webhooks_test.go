package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api"
	"github.com/flowbot/flowbot/store/sqlite"
	"github.com/flowbot/flowbot/webhooks"
)

// An admin finds a failed webhook delivery through the API and sends it
// again with its original id; every wrong call is refused and changes
// nothing.
func TestWebhookDeliveriesAndReplay(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *api.Config) { c.Webhooks = c.Queries.(*sqlite.DB).Webhooks() })
	ctx := context.Background()
	now := b.clock.Now()
	ws := b.store.Webhooks()
	d := &webhooks.Delivery{Subscription: "erp", EventID: 1, InstanceID: 1, Type: webhooks.RequestSubmitted, At: now,
		Request: json.RawMessage(`{}`), Status: webhooks.StatusPending, NextAt: now, CreatedAt: now}
	require.NoError(t, ws.AddDeliveries(ctx, "erp", 0, 1, []*webhooks.Delivery{d}))
	require.NotZero(t, d.ID)
	require.NoError(t, ws.RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: d.ID, At: now, StatusCode: 500, Response: "down"}, webhooks.StatusFailed, now, "HTTP 500"))

	admin := b.token(t, "wangzong", 0, "admin")
	list := func(query string) []any {
		r := b.do(t, "GET", "/api/v1/admin/webhooks/deliveries"+query, admin, nil)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		return r.json(t)["deliveries"].([]any)
	}
	require.Len(t, list("?status=failed&subscription=erp"), 1)
	require.Empty(t, list("?status=pending"))

	bad := []struct {
		name, method, path, token string
		code                      int
	}{
		{"no token", "POST", "/api/v1/admin/webhooks/deliveries/1/replay", "", http.StatusUnauthorized},
		{"write scope", "POST", "/api/v1/admin/webhooks/deliveries/1/replay", b.token(t, "", 0, "write"), http.StatusForbidden},
		{"admin scope, employee user", "POST", "/api/v1/admin/webhooks/deliveries/1/replay", b.token(t, "zhangwei", 0, "admin"), http.StatusForbidden},
		{"unknown delivery", "POST", "/api/v1/admin/webhooks/deliveries/999/replay", admin, http.StatusNotFound},
		{"bad id", "POST", "/api/v1/admin/webhooks/deliveries/x'1/replay", admin, http.StatusBadRequest},
		{"bad status", "GET", "/api/v1/admin/webhooks/deliveries?status=lost", admin, http.StatusBadRequest},
		{"bad request id", "GET", "/api/v1/admin/webhooks/deliveries?request=-1", admin, http.StatusBadRequest},
		{"sql in subscription", "GET", "/api/v1/admin/webhooks/deliveries?subscription=erp'%20OR%201=1--", admin, http.StatusBadRequest},
		{"unknown parameter", "GET", "/api/v1/admin/webhooks/deliveries?all=1", admin, http.StatusBadRequest},
	}
	for _, tc := range bad {
		r := b.do(t, tc.method, tc.path, tc.token, nil)
		require.Equal(t, tc.code, r.Code, "%s: %s", tc.name, r.Body)
		r.errCode(t)
	}
	require.Len(t, list("?status=failed"), 1, "refused calls changed nothing")

	r := b.do(t, "POST", "/api/v1/admin/webhooks/deliveries/"+strconv.FormatInt(d.ID, 10)+"/replay", admin, nil)
	require.Equal(t, http.StatusAccepted, r.Code, "%s", r.Body)
	got, err := ws.Delivery(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, webhooks.StatusPending, got.Status, "pending again, same id")
	require.False(t, got.NextAt.After(b.clock.Now().Add(time.Second)), "due now")
	require.Empty(t, list("?status=failed"))
}

// Without webhooks configured the endpoints say so.
func TestWebhookEndpointsWithoutWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "GET", "/api/v1/admin/webhooks/deliveries", adminToken, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	require.Equal(t, "not_found", r.errCode(t))
}
