package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

func TestAdminOutboxEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Database.SQLite = filepath.Join(t.TempDir(), "flowbot.db")
	cfg.API.AdminToken = "s3cret"
	a, err := newApp(ctx, cfg, &syncBuffer{})
	require.NoError(t, err)
	defer a.close()
	// One failed delivery, as the notifier leaves it after its last retry.
	now := time.Now()
	require.NoError(t, a.store.Update(ctx, func(tx flows.Tx) error {
		return tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgText, Recipient: "nobody", Status: flows.OutboxPending, NextAt: now, CreatedAt: now})
	}))
	msgs, err := a.store.ClaimOutbox(ctx, now.Add(time.Second), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.NoError(t, a.store.MarkFailed(ctx, msgs[0].ID, "recipient unreachable"))

	call := func(auth, query string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/admin/outbox"+query, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		a.mux.ServeHTTP(rec, req)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	code, _ := call("", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = call("Bearer wrong", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = call("Bearer s3cret", "?status=bogus")
	require.Equal(t, http.StatusBadRequest, code)
	code, body := call("Bearer s3cret", "?status=failed")
	require.Equal(t, http.StatusOK, code)
	list := body["messages"].([]any)
	require.Len(t, list, 1)
	require.Equal(t, "recipient unreachable", list[0].(map[string]any)["last_error"])
}

// Without api.admin_token the admin endpoints need an API token with the
// admin scope (401 without one); api.disabled turns the whole API off.
func TestAdminEndpointsClosedWithoutToken(t *testing.T) {
	t.Parallel()
	for _, disabled := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.Database.SQLite = filepath.Join(t.TempDir(), "flowbot.db")
		cfg.API.Disabled = disabled
		a, err := newApp(context.Background(), cfg, &syncBuffer{})
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		a.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/admin/outbox", nil))
		want := http.StatusUnauthorized
		if disabled {
			want = http.StatusNotFound
		}
		require.Equal(t, want, rec.Code, "api.disabled=%v", disabled)
		a.close()
	}
}
