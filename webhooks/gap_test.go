package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/webhooks"
)

// lateSource hides one event id, as PostgreSQL shows a transaction's event
// only once it commits, possibly after events with higher ids.
type lateSource struct {
	webhooks.EventSource
	mu     sync.Mutex
	hidden int64
}

func (l *lateSource) Events(ctx context.Context, f flows.EventFilter) ([]*flows.Event, error) {
	evs, err := l.EventSource.Events(ctx, f)
	l.mu.Lock()
	defer l.mu.Unlock()
	out := evs[:0]
	for _, e := range evs {
		if e.ID != l.hidden {
			out = append(out, e)
		}
	}
	return out, err
}

func (l *lateSource) show() { l.mu.Lock(); l.hidden = 0; l.mu.Unlock() }

func TestLateCommittedEventIsNotSkipped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.submitLeave(t)
	evs, err := b.db.Events(b.ctx, flows.EventFilter{Types: []flows.EventType{flows.EvTaskCreated}})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	src := &lateSource{EventSource: b.db, hidden: evs[0].ID}

	var mu sync.Mutex
	var types []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		types = append(types, r.Header.Get(webhooks.HeaderEvent))
		mu.Unlock()
	}))
	defer srv.Close()
	clock := testkit.NewClock(time.Now())
	d, err := webhooks.New(webhooks.Config{
		Store: b.db.Webhooks(), Events: src, Now: clock.Now, GapWait: time.Minute,
		Subscriptions: []webhooks.Subscription{{Name: "erp", URL: srv.URL, Secret: secret}},
		Client:        webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true}),
	})
	require.NoError(t, err)
	require.NoError(t, d.Step(b.ctx))
	require.NoError(t, d.Step(b.ctx))
	mu.Lock()
	require.Equal(t, []string{webhooks.RequestSubmitted}, types, "the cursor waits at the hole")
	mu.Unlock()

	src.show() // the late transaction commits
	require.NoError(t, d.Step(b.ctx))
	mu.Lock()
	require.Equal(t, []string{webhooks.RequestSubmitted, webhooks.TaskCreated}, types)
	mu.Unlock()
}

func TestRolledBackIDIsSkippedAfterGapWait(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.submitLeave(t)
	evs, err := b.db.Events(b.ctx, flows.EventFilter{Types: []flows.EventType{flows.EvTaskCreated}})
	require.NoError(t, err)
	b.submitLeave(t)                                         // events after the hole
	src := &lateSource{EventSource: b.db, hidden: evs[0].ID} // never shows up
	clock := testkit.NewClock(time.Now())
	d, err := webhooks.New(webhooks.Config{
		Store: b.db.Webhooks(), Events: src, Now: clock.Now, GapWait: time.Minute,
		Subscriptions: []webhooks.Subscription{{Name: "erp", URL: "https://10.0.0.1/hook", Secret: secret, Events: []string{webhooks.TaskCreated}}},
	})
	require.NoError(t, err)
	require.NoError(t, d.Step(b.ctx))
	cur, err := b.db.Webhooks().Cursor(b.ctx, "erp")
	require.NoError(t, err)
	require.Equal(t, evs[0].ID-1, cur)
	clock.Add(2 * time.Minute)
	require.NoError(t, d.Step(b.ctx))
	cur, err = b.db.Webhooks().Cursor(b.ctx, "erp")
	require.NoError(t, err)
	require.Greater(t, cur, evs[0].ID, "the cursor moves past a hole that never filled")
}

func TestLeaseMustOutlastAnAttempt(t *testing.T) {
	t.Parallel()
	db := testkit.OpenSQLite(t)
	_, err := webhooks.New(webhooks.Config{Store: db.Webhooks(), Events: db, LeaseTTL: time.Second,
		Client: webhooks.NewClient(webhooks.ClientConfig{Timeout: 5 * time.Second})})
	require.ErrorContains(t, err, "must outlast one attempt")
}
