package postgres_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/webhooks"
	"github.com/flowbot/flowbot/webhooks/webhookstest"
)

func TestWebhookStore(t *testing.T) {
	webhookstest.Run(t, func(t *testing.T) webhooks.Store { return mustOpen(t).Webhooks() })
}

// TestWebhooksOnPostgres: requests decided concurrently on PostgreSQL (so
// event ids commit out of order and engine retries leave holes), two
// dispatchers, a receiver failing at first: every event arrives once, in
// order per request.
func TestWebhooksOnPostgres(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	testkit.LoadExampleOrg(t, ctx, db)
	engine := flows.New(flows.Config{Store: db, Clock: testkit.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))})
	testkit.PublishExampleFlows(t, ctx, engine)

	type got struct {
		id, req  int64
		typ      string
		accepted bool
	}
	var mu sync.Mutex
	var seen []got
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhooks.Verify("k", r.Header.Get(webhooks.HeaderTimestamp), r.Header.Get(webhooks.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("verify: %v", err)
		}
		var p struct {
			ID      string `json:"id"`
			Type    string `json:"type"`
			Request struct {
				ID int64 `json:"id"`
			} `json:"request"`
		}
		require.NoError(t, json.Unmarshal(body, &p))
		id, _ := strconv.ParseInt(p.ID, 10, 64)
		mu.Lock()
		ok := len(seen) >= 3
		seen = append(seen, got{id, p.Request.ID, p.Type, ok})
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, owner := range []string{"a", "b"} {
		d, err := webhooks.New(webhooks.Config{
			Store: db.Webhooks(), Events: db, Owner: owner, LeaseTTL: time.Second, Poll: 5 * time.Millisecond,
			MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, GapWait: 200 * time.Millisecond,
			Subscriptions: []webhooks.Subscription{{Name: "erp", URL: srv.URL, Secret: "k"}},
			Client:        webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true, Timeout: 500 * time.Millisecond}),
			Log:           slog.New(slog.DiscardHandler),
		})
		require.NoError(t, err)
		wg.Go(func() { _ = d.Run(runCtx) })
	}
	var sub sync.WaitGroup
	for i := range 6 {
		sub.Go(func() {
			out, err := engine.Submit(ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
				"type": "annual", "period": map[string]any{"from": "2026-12-07", "to": "2026-12-08"},
			}})
			if !assertNoError(t, err) {
				return
			}
			for _, tk := range out.Tasks {
				if tk.Open() {
					_, err := engine.Decide(ctx, flows.DecideRequest{Actor: tk.Assignee, TaskID: tk.ID, Approve: i%2 == 0, Comment: "reason"})
					assertNoError(t, err)
				}
			}
		})
	}
	sub.Wait()

	evs, err := db.Events(ctx, flows.EventFilter{})
	require.NoError(t, err)
	want, n := map[int64][]string{}, 0
	for _, e := range evs {
		if typ := webhooks.TypeOf(e); typ != "" {
			want[e.InstanceID] = append(want[e.InstanceID], typ)
			n++
		}
	}
	require.Eventually(t, func() bool {
		ds, err := db.Webhooks().Deliveries(ctx, webhooks.DeliveryFilter{Status: webhooks.StatusDelivered, Limit: 1000})
		require.NoError(t, err)
		return len(ds) == n
	}, 30*time.Second, 20*time.Millisecond)
	cancel()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	accepted := map[int64]bool{}
	last := map[int64]int64{}
	per := map[int64][]string{}
	for _, g := range seen {
		if !g.accepted {
			continue
		}
		require.False(t, accepted[g.id], "delivery %d accepted twice", g.id)
		accepted[g.id] = true
		require.Greater(t, g.id, last[g.req])
		last[g.req] = g.id
		per[g.req] = append(per[g.req], g.typ)
	}
	require.Equal(t, want, per)
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}
