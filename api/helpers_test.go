package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api"
	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

// testBundle is one API over a fresh SQLite store with the example
// company and flows.
type testBundle struct {
	store  *sqlite.DB
	engine *flows.Engine
	clock  *testkit.Clock
	srv    *api.Server
	h      http.Handler
	logs   *bytes.Buffer
}

const adminToken = "bootstrap-admin-secret"

func setup(tb testing.TB, opts ...func(*api.Config)) *testBundle {
	tb.Helper()
	ctx := context.Background()
	st := testkit.OpenSQLite(tb)
	clock := testkit.NewClock(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	eng := flows.New(flows.Config{Store: st, Clock: clock, Calendar: testkit.ExampleCalendar(tb), Logger: slog.New(slog.DiscardHandler)})
	testkit.LoadExampleOrg(tb, ctx, st)
	testkit.PublishExampleFlows(tb, ctx, eng)
	logs := &bytes.Buffer{}
	cfg := api.Config{
		Engine: eng, Queries: st, Tokens: st.Tokens(), Directory: st, AdminToken: adminToken,
		Stats: func(ctx context.Context, q flowstats.Query) (*flowstats.Report, error) {
			return flowstats.Compute(ctx, st, q)
		},
		RatePerSecond: 1000, Burst: 1000,
		Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv := api.New(cfg)
	return &testBundle{store: st, engine: eng, clock: clock, srv: srv, h: srv.Handler(), logs: logs}
}

// token stores a new token and returns its secret.
func (b *testBundle) token(tb testing.TB, user string, ttl time.Duration, scopes ...string) string {
	tb.Helper()
	t, secret, err := tokens.New(tokens.NewParams{Name: "test " + user, Scopes: scopes, User: user, TTL: ttl, Now: b.clock.Now()})
	require.NoError(tb, err)
	require.NoError(tb, b.store.Tokens().CreateToken(context.Background(), t))
	return secret
}

type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r resp) json(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// errCode returns the code of an error body, checking its shape.
func (r resp) errCode(tb testing.TB) string {
	tb.Helper()
	m := r.json(tb)
	e, ok := m["error"].(map[string]any)
	require.True(tb, ok, "want an error body, got %s", r.Body)
	require.NotEmpty(tb, e["message"], "error without message: %s", r.Body)
	require.NotEmpty(tb, e["request_id"], "error without request_id: %s", r.Body)
	require.Equal(tb, r.Header.Get("X-Request-Id"), e["request_id"])
	return e["code"].(string)
}

// do calls the API; body is JSON-encoded unless it is a string or []byte.
func (b *testBundle) do(tb testing.TB, method, path, secret string, body any, hdr ...string) resp {
	tb.Helper()
	var rd io.Reader
	switch x := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(x)
	case []byte:
		rd = bytes.NewReader(x)
	default:
		raw, err := json.Marshal(x)
		require.NoError(tb, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	return resp{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// leave is a valid leave form of n days starting 2026-12-07.
func leave(days int) map[string]any {
	end := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).AddDate(0, 0, days-1)
	return map[string]any{"type": "annual", "period": "2026-12-07 to " + end.Format("2006-01-02"), "reason": "rest"}
}

// counts is how many requests, tasks and events the store holds.
func (b *testBundle) counts(tb testing.TB) [3]int {
	tb.Helper()
	ctx := context.Background()
	ins, err := b.store.Instances(ctx, flows.InstanceFilter{Limit: 10000})
	require.NoError(tb, err)
	ts, err := b.store.Tasks(ctx, flows.TaskFilter{Limit: 10000})
	require.NoError(tb, err)
	evs, err := b.store.Events(ctx, flows.EventFilter{Limit: 100000})
	require.NoError(tb, err)
	var decided int
	for _, t := range ts {
		if !t.Open() {
			decided++
		}
	}
	return [3]int{len(ins), decided, len(evs)}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
