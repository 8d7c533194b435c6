package webhooks_test

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
	"github.com/flowbot/flowbot/store/sqlite"
	"github.com/flowbot/flowbot/webhooks"
)

const secret = "s3cr3t-for-tests"

// received is one delivery as the receiver saw it.
type received struct {
	id       int64
	typ      string
	instance int64
	accepted bool
}

// receiver is a local webhook receiver that checks every delivery with the
// docs' verifyFlowbot, and answers 500 to the first failFirst deliveries.
type receiver struct {
	t         *testing.T
	mu        sync.Mutex
	failFirst int
	hold      chan struct{} // when set, the first request waits on it (or the client gives up)
	got       []received
	srv       *httptest.Server
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{t: t, failFirst: failFirst}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := verifyFlowbot(req.Header, body, secret, time.Now()); err != nil {
		r.t.Errorf("delivery failed verification: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var p struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Request struct {
			ID int64 `json:"id"`
		} `json:"request"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("delivery body: %v", err)
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	if p.ID != req.Header.Get(webhooks.HeaderDelivery) || p.Type != req.Header.Get(webhooks.HeaderEvent) {
		r.t.Errorf("headers %v disagree with body id %s type %s", req.Header, p.ID, p.Type)
	}
	id, _ := strconv.ParseInt(p.ID, 10, 64)
	r.mu.Lock()
	n := len(r.got)
	hold := r.hold
	r.hold = nil
	accept := n >= r.failFirst && hold == nil
	r.got = append(r.got, received{id: id, typ: p.Type, instance: p.Request.ID, accepted: accept})
	r.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-req.Context().Done():
		}
		http.Error(w, "cut off", http.StatusServiceUnavailable)
		return
	}
	if !accept {
		http.Error(w, "receiver down for a while", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type bundle struct {
	ctx    context.Context
	db     *sqlite.DB
	engine *flows.Engine
	clock  *testkit.Clock
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	testkit.LoadExampleOrg(t, ctx, db)
	b := &bundle{ctx: ctx, db: db, clock: testkit.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))}
	b.engine = flows.New(flows.Config{Store: db, Clock: b.clock})
	testkit.PublishExampleFlows(t, ctx, b.engine)
	return b
}

func (b *bundle) submitLeave(t *testing.T) *flows.Outcome {
	t.Helper()
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": "2026-12-07", "to": "2026-12-08"}, "reason": "family",
	}})
	require.NoError(t, err)
	return out
}

func (b *bundle) decide(t *testing.T, out *flows.Outcome, approve bool) {
	t.Helper()
	for _, tk := range out.Tasks {
		if tk.Open() {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: tk.Assignee, TaskID: tk.ID, Approve: approve, Comment: "ok"})
			require.NoError(t, err)
			return
		}
	}
	t.Fatalf("request %d has no open task", out.Instance.ID)
}

func (b *bundle) dispatcher(t *testing.T, url, owner string) *webhooks.Dispatcher {
	t.Helper()
	d, err := webhooks.New(webhooks.Config{
		Store: b.db.Webhooks(), Events: b.db,
		Subscriptions: []webhooks.Subscription{{Name: "erp", URL: url, Secret: secret}},
		Client:        webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true, Timeout: 500 * time.Millisecond}),
		MinBackoff:    5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Poll: 5 * time.Millisecond, Owner: owner, LeaseTTL: time.Second,
		Log: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	return d
}

// expected returns, per request, the webhook types of its event log in order.
func (b *bundle) expected(t *testing.T) (map[int64][]string, int) {
	t.Helper()
	evs, err := b.db.Events(b.ctx, flows.EventFilter{})
	require.NoError(t, err)
	want, n := map[int64][]string{}, 0
	for _, e := range evs {
		if typ := webhooks.TypeOf(e); typ != "" {
			want[e.InstanceID] = append(want[e.InstanceID], typ)
			n++
		}
	}
	return want, n
}

// checkReceived: every expected event was accepted once, in order per
// request; anything seen twice is a retry of the same delivery id.
func checkReceived(t *testing.T, got []received, want map[int64][]string) {
	t.Helper()
	accepted := map[int64]bool{}
	per := map[int64][]string{}
	last := map[int64]int64{}
	seen := map[int64]received{}
	for _, r := range got {
		if prev, ok := seen[r.id]; ok {
			require.Equal(t, prev.typ, r.typ, "delivery %d resent with another type", r.id)
			require.Equal(t, prev.instance, r.instance, "delivery %d resent for another request", r.id)
		}
		seen[r.id] = r
		if !r.accepted {
			continue
		}
		require.False(t, accepted[r.id], "delivery %d accepted twice", r.id)
		accepted[r.id] = true
		require.Greater(t, r.id, last[r.instance], "request %d: delivery %d after %d", r.instance, r.id, last[r.instance])
		last[r.instance] = r.id
		per[r.instance] = append(per[r.instance], r.typ)
	}
	require.Equal(t, want, per)
}

func waitDelivered(t *testing.T, b *bundle, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		ds, err := b.db.Webhooks().Deliveries(b.ctx, webhooks.DeliveryFilter{Status: webhooks.StatusDelivered, Limit: 1000})
		require.NoError(t, err)
		return len(ds) == n
	}, 20*time.Second, 10*time.Millisecond)
}

func TestEndToEndEveryEventInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, 7)
	d := b.dispatcher(t, rcv.srv.URL, "one")
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	approved, rejected, withdrawn := b.submitLeave(t), b.submitLeave(t), b.submitLeave(t)
	b.decide(t, approved, true)
	b.decide(t, rejected, false)
	_, err := b.engine.Withdraw(b.ctx, "hanmeimei", withdrawn.Instance.ID, "plans changed")
	require.NoError(t, err)

	want, n := b.expected(t)
	require.Contains(t, want[approved.Instance.ID], webhooks.RequestApproved)
	require.Contains(t, want[rejected.Instance.ID], webhooks.RequestRejected)
	require.Contains(t, want[withdrawn.Instance.ID], webhooks.RequestWithdrawn)
	waitDelivered(t, b, n)
	cancel()
	require.NoError(t, <-done)

	got := rcv.all()
	require.Greater(t, len(got), n, "the receiver's 500s caused retries")
	checkReceived(t, got, want)

	// The failures are recorded: attempts with status and excerpt.
	first := got[0]
	at, err := b.db.Webhooks().Attempts(b.ctx, first.id)
	require.NoError(t, err)
	require.Greater(t, len(at), 1)
	require.Equal(t, http.StatusInternalServerError, at[0].StatusCode)
	require.Contains(t, at[0].Response, "receiver down")
	require.Equal(t, http.StatusNoContent, at[len(at)-1].StatusCode)
}

func TestCrashMidFlightLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, 0)
	hold := make(chan struct{})
	defer close(hold)
	rcv.hold = hold
	out := b.submitLeave(t)
	b.decide(t, out, true)

	// Dispatcher one sends the first delivery and "dies" before recording it.
	d1 := b.dispatcher(t, rcv.srv.URL, "one")
	ctx1, kill := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- d1.Run(ctx1) }()
	require.Eventually(t, func() bool { return len(rcv.all()) == 1 }, 10*time.Second, 5*time.Millisecond)
	kill()
	require.NoError(t, <-done)
	cut := rcv.all()[0]
	got, err := b.db.Webhooks().Delivery(b.ctx, cut.id)
	require.NoError(t, err)
	require.Equal(t, webhooks.StatusPending, got.Status)
	require.Zero(t, got.Attempts, "the cut-off attempt was never recorded")

	// A new process takes over once the lease runs out and sends it again
	// under the same id, then everything else.
	d2 := b.dispatcher(t, rcv.srv.URL, "two")
	ctx2, stop := context.WithCancel(b.ctx)
	go func() { done <- d2.Run(ctx2) }()
	want, n := b.expected(t)
	waitDelivered(t, b, n)
	stop()
	require.NoError(t, <-done)
	all := rcv.all()
	require.Equal(t, cut.id, all[1].id, "the first delivery is sent again with the same id")
	checkReceived(t, all, want)
}

func TestOneRequestFailingHoldsOnlyItself(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.submitLeave(t)
	c := b.submitLeave(t)
	var mu sync.Mutex
	var okFor []int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Request struct {
				ID int64 `json:"id"`
			} `json:"request"`
		}
		body, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(body, &p))
		if p.Request.ID == a.Instance.ID {
			http.Error(w, "A is broken", http.StatusBadGateway)
			return
		}
		mu.Lock()
		okFor = append(okFor, p.Request.ID)
		mu.Unlock()
	}))
	defer srv.Close()
	d := b.dispatcher(t, srv.URL, "one")
	for range 5 {
		require.NoError(t, d.Step(b.ctx))
	}
	want, _ := b.expected(t)
	mu.Lock()
	require.Len(t, okFor, len(want[c.Instance.ID]), "request C got all its events")
	mu.Unlock()
	pending, err := b.db.Webhooks().Deliveries(b.ctx, webhooks.DeliveryFilter{InstanceID: a.Instance.ID, Status: webhooks.StatusPending})
	require.NoError(t, err)
	require.Len(t, pending, len(want[a.Instance.ID]), "request A's later events wait behind its failing first")
	head, err := b.db.Webhooks().Attempts(b.ctx, pending[len(pending)-1].ID)
	require.NoError(t, err)
	require.NotEmpty(t, head)
	for _, p := range pending[:len(pending)-1] {
		at, err := b.db.Webhooks().Attempts(b.ctx, p.ID)
		require.NoError(t, err)
		require.Empty(t, at, "a later event of A was never tried")
	}
}

func TestTwoReplicasDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, 3)
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 2)
	for _, owner := range []string{"replica-a", "replica-b"} {
		d := b.dispatcher(t, rcv.srv.URL, owner)
		go func() { done <- d.Run(ctx) }()
	}
	for range 3 {
		out := b.submitLeave(t)
		b.decide(t, out, true)
	}
	want, n := b.expected(t)
	waitDelivered(t, b, n)
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	checkReceived(t, rcv.all(), want) // no delivery accepted twice, order kept
}
