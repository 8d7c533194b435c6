package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/webhooks"
)

func TestWebhooksCLI(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "flowbot.db")
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(`database:
  driver: sqlite
  sqlite: `+dbPath+`
webhooks:
  subscriptions:
    - name: erp
      url: https://erp.example.com/hook
      secret: x
      events: [request.approved]
`), 0o600))
	ctx := context.Background()
	db := testkit.OpenSQLiteFile(t, dbPath)
	t0 := time.Now().UTC()
	d := &webhooks.Delivery{EventID: 9, InstanceID: 7, Type: webhooks.RequestApproved, At: t0, Request: json.RawMessage(`{"id":7}`), NextAt: t0, CreatedAt: t0}
	require.NoError(t, db.Webhooks().AddDeliveries(ctx, "erp", 0, 9, []*webhooks.Delivery{d}))
	require.NoError(t, db.Webhooks().RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: d.ID, At: t0, StatusCode: 500}, webhooks.StatusFailed, t0, "HTTP 500: down"))
	id := strconv.FormatInt(d.ID, 10)

	out, _, err := runCLI(t, "webhooks", "list", "--config", cfgPath)
	require.NoError(t, err)
	require.Regexp(t, `erp\s+config\s+https://erp.example.com/hook\s+\[request.approved\]\s+\*\s+0\s+1`, out)

	out, _, err = runCLI(t, "webhooks", "deliveries", "--config", cfgPath, "-status", "failed")
	require.NoError(t, err)
	require.Regexp(t, id+`\s+erp\s+request.approved\s+7\s+failed\s+1\s+HTTP 500: down`, out)

	out, _, err = runCLI(t, "webhooks", "replay", id, "--config", cfgPath)
	require.NoError(t, err)
	require.Contains(t, out, "delivery "+id+" will be sent again")
	got, err := db.Webhooks().Delivery(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, webhooks.StatusPending, got.Status)

	// Bad input: clear errors, nothing changed.
	_, _, err = runCLI(t, "webhooks", "replay", "999999", "--config", cfgPath)
	require.ErrorIs(t, err, webhooks.ErrNotFound)
	_, _, err = runCLI(t, "webhooks", "replay", "abc", "--config", cfgPath)
	require.ErrorIs(t, err, errUsage)
	_, _, err = runCLI(t, "webhooks", "replay", "--config", cfgPath)
	require.ErrorIs(t, err, errUsage)
	_, _, err = runCLI(t, "webhooks", "deliveries", "--config", cfgPath, "-status", "lost")
	require.ErrorContains(t, err, "unknown status")
	_, _, err = runCLI(t, "webhooks", "purge", "--config", cfgPath)
	require.ErrorIs(t, err, errUsage)
}

func TestServeSendsWebhooks(t *testing.T) {
	got := make(chan http.Header, 16)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer rcv.Close()
	cfg := DefaultConfig()
	cfg.Database.SQLite = filepath.Join(t.TempDir(), "flowbot.db")
	cfg.Webhooks = WebhooksConfig{AllowPrivate: true, Subscriptions: []webhooks.Subscription{{Name: "erp", URL: rcv.URL, Secret: "x", Events: []string{webhooks.RequestSubmitted}}}}
	a, err := newApp(context.Background(), cfg, &syncBuffer{})
	require.NoError(t, err)
	defer a.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, start := range a.starters {
		require.NoError(t, start(ctx))
	}
	// Leave dates may not be in the past: a Monday at least a week ahead.
	monday := time.Now().AddDate(0, 0, 7)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	_, err = a.engine.Submit(ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": monday.Format(time.DateOnly), "to": monday.AddDate(0, 0, 1).Format(time.DateOnly)}, "reason": "family",
	}})
	require.NoError(t, err)
	select {
	case h := <-got:
		require.Equal(t, webhooks.RequestSubmitted, h.Get(webhooks.HeaderEvent))
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook received")
	}

	// Bad config: a subscription without secret stops the start.
	cfg.Webhooks.Subscriptions[0].Secret = ""
	cfg.Database.SQLite = filepath.Join(t.TempDir(), "other.db")
	_, err = newApp(context.Background(), cfg, &syncBuffer{})
	require.ErrorContains(t, err, "secret is empty")
}

func TestWebhooksConfigMistakes(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown event", "webhooks:\n  subscriptions:\n    - {name: erp, url: 'https://e.example/h', secret: x, events: [request.lost]}\n", `unknown event type "request.lost"`},
		{"no secret", "webhooks:\n  subscriptions:\n    - {name: erp, url: 'https://e.example/h'}\n", "secret is empty"},
		{"not http", "webhooks:\n  subscriptions:\n    - {name: erp, url: 'file:///etc/passwd', secret: x}\n", "is not an http(s) URL"},
		{"no name", "webhooks:\n  subscriptions:\n    - {url: 'https://e.example/h', secret: x}\n", "name is empty"},
		{"twice", "webhooks:\n  subscriptions:\n    - {name: a, url: 'https://e.example/h', secret: x}\n    - {name: a, url: 'https://e.example/i', secret: y}\n", `"a" is used twice`},
		{"negative max_age", "webhooks:\n  max_age: -1h\n", "webhooks.max_age"},
		{"wrong type", "webhooks:\n  subscriptions: yes\n", "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfigString(t, tt.yaml)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
