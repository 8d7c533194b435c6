package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/webhooks"
)

// An admin subscribes a URL through the API: the secret is shown once, the
// subscription starts at the current end of the event log (or from the
// start when asked), can be changed (secret rotated) and removed.
func TestWebhookSubscriptions(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *api.Config) { c.Subscriptions = b0(c) })
	ctx := context.Background()
	_, err := b.engine.Submit(ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "expense", Values: map[string]any{"amount": 100, "category": "travel", "description": "taxi"}})
	require.NoError(t, err)
	admin := b.token(t, "wangzong", 0, "admin")

	r := b.do(t, "POST", "/api/v1/admin/webhooks/subscriptions", admin, map[string]any{
		"name": "erp", "url": "https://erp.example.com/hook", "events": []string{"request.approved"}, "flows": []string{"expense"}})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	secret, _ := r.json(t)["secret"].(string)
	require.True(t, strings.HasPrefix(secret, "whsec_"), "the secret is shown once: %s", r.Body)
	cur, err := b.store.Webhooks().Cursor(ctx, "erp")
	require.NoError(t, err)
	require.Positive(t, cur, "starts at the end of the log: no history")

	r = b.do(t, "POST", "/api/v1/admin/webhooks/subscriptions", admin, map[string]any{"name": "crm", "url": "https://crm.example.com/hook", "from_start": true})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	cur, err = b.store.Webhooks().Cursor(ctx, "crm")
	require.NoError(t, err)
	require.Zero(t, cur, "from the start: the whole history")

	r = b.do(t, "GET", "/api/v1/admin/webhooks/subscriptions", admin, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.NotContains(t, string(r.Body), "whsec_", "secrets are never listed")
	require.Contains(t, string(r.Body), `"name":"erp"`)

	r = b.do(t, "PATCH", "/api/v1/admin/webhooks/subscriptions/erp", admin, map[string]any{"url": "https://erp2.example.com/hook"})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	require.NotContains(t, string(r.Body), "whsec_")
	subs, err := b.store.Subscriptions().Subscriptions(ctx)
	require.NoError(t, err)
	require.Equal(t, "https://erp2.example.com/hook", subs[1].URL)
	require.Equal(t, secret, subs[1].Secret, "the secret stays")
	require.Equal(t, []string{"request.approved"}, subs[1].Events, "fields not given stay")

	r = b.do(t, "PATCH", "/api/v1/admin/webhooks/subscriptions/erp", admin, map[string]any{"rotate_secret": true})
	require.Equal(t, http.StatusOK, r.Code)
	rotated, _ := r.json(t)["secret"].(string)
	require.True(t, strings.HasPrefix(rotated, "whsec_"))
	require.NotEqual(t, secret, rotated)

	r = b.do(t, "DELETE", "/api/v1/admin/webhooks/subscriptions/erp", admin, nil)
	require.Equal(t, http.StatusNoContent, r.Code)
	r = b.do(t, "DELETE", "/api/v1/admin/webhooks/subscriptions/erp", admin, nil)
	require.Equal(t, http.StatusNotFound, r.Code, "removing twice")
	subs, _ = b.store.Subscriptions().Subscriptions(ctx)
	require.Len(t, subs, 1)
}

// b0 wires the bundle's own store (setup's option runs before the bundle
// exists, so it reaches the store through the config).
func b0(c *api.Config) webhooks.SubscriptionStore {
	return c.Queries.(interface {
		Subscriptions() webhooks.SubscriptionStore
	}).Subscriptions()
}

// Wrong callers and bad subscriptions are refused and change nothing.
func TestWebhookSubscriptionsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *api.Config) { c.Subscriptions = b0(c) })
	admin := b.token(t, "wangzong", 0, "admin")
	ok := map[string]any{"name": "erp", "url": "https://erp.example.com/hook"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{"name": "erp", "url": "https://erp.example.com/hook"}
		m[k] = v
		return m
	}
	require.Equal(t, http.StatusCreated, b.do(t, "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("name", "taken")).Code)
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"no token", "POST", "/api/v1/admin/webhooks/subscriptions", "", ok, http.StatusUnauthorized},
		{"write scope", "POST", "/api/v1/admin/webhooks/subscriptions", b.token(t, "", 0, "write"), ok, http.StatusForbidden},
		{"admin scope, employee user", "POST", "/api/v1/admin/webhooks/subscriptions", b.token(t, "zhangwei", 0, "admin"), ok, http.StatusForbidden},
		{"employee lists", "GET", "/api/v1/admin/webhooks/subscriptions", b.token(t, "zhangwei", 0, "read"), nil, http.StatusForbidden},
		{"name taken", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("name", "taken"), http.StatusConflict},
		{"sql in name", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("name", "erp' OR 1=1--"), http.StatusBadRequest},
		{"huge name", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("name", strings.Repeat("a", 5000)), http.StatusBadRequest},
		{"not a URL", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("url", "ftp://erp.example.com"), http.StatusBadRequest},
		{"loopback target", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("url", "http://127.0.0.1:8080/x"), http.StatusBadRequest},
		{"private target", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("url", "http://10.0.0.5/x"), http.StatusBadRequest},
		{"metadata target", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("url", "http://169.254.169.254/latest"), http.StatusBadRequest},
		{"localhost target", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("url", "http://localhost/x"), http.StatusBadRequest},
		{"unknown event", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("events", []string{"request.exploded"}), http.StatusBadRequest},
		{"bad flow id", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("flows", []string{"a b"}), http.StatusBadRequest},
		{"wrong type", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("events", "all"), http.StatusBadRequest},
		{"unknown field", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("secret", "mine"), http.StatusBadRequest},
		{"malformed body", "POST", "/api/v1/admin/webhooks/subscriptions", admin, `{"name":`, http.StatusBadRequest},
		{"rotate on create", "POST", "/api/v1/admin/webhooks/subscriptions", admin, with("rotate_secret", true), http.StatusBadRequest},
		{"update unknown", "PATCH", "/api/v1/admin/webhooks/subscriptions/nope", admin, map[string]any{"url": "https://x.example.com/"}, http.StatusNotFound},
		{"update rename", "PATCH", "/api/v1/admin/webhooks/subscriptions/taken", admin, map[string]any{"name": "other"}, http.StatusBadRequest},
		{"update to private", "PATCH", "/api/v1/admin/webhooks/subscriptions/taken", admin, map[string]any{"url": "http://192.168.1.1/"}, http.StatusBadRequest},
		{"delete bad name", "DELETE", "/api/v1/admin/webhooks/subscriptions/a'b", admin, nil, http.StatusBadRequest},
		{"delete unknown", "DELETE", "/api/v1/admin/webhooks/subscriptions/nope", admin, nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		r := b.do(t, tt.method, tt.path, tt.token, tt.body)
		require.Equal(t, tt.want, r.Code, "%s: %s", tt.name, r.Body)
		r.errCode(t)
	}
	subs, err := b.store.Subscriptions().Subscriptions(context.Background())
	require.NoError(t, err)
	require.Len(t, subs, 1, "nothing was made")
	require.Equal(t, "https://erp.example.com/hook", subs[0].URL, "nothing was changed")

	off := setup(t)
	r := off.do(t, "GET", "/api/v1/admin/webhooks/subscriptions", adminToken, nil)
	require.Equal(t, http.StatusNotFound, r.Code, "without a store that keeps them")
}
