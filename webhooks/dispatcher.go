package webhooks

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// Outcomes of an attempt, as counted by Config.OnOutcome.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
)

// Config sets up a Dispatcher. Store, Events and Subscriptions are needed.
type Config struct {
	Store         Store
	Events        EventSource
	Subscriptions []Subscription
	// Stored, when set, adds the subscriptions made at run time (API,
	// CLI), read again at each pass; a stored one named like one of
	// Subscriptions is skipped.
	Stored SubscriptionStore
	// Client sends the deliveries (default NewClient(ClientConfig{})).
	Client *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxAge: a delivery still failing this long after it was made is
	// marked failed (default 24h).
	MaxAge time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts, doubled
	// each time with jitter (defaults 5s and 1h).
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often Run looks for new events and due deliveries
	// (default 1s).
	Poll time.Duration
	// Owner names this process for the leases (default a random id);
	// LeaseTTL is how long a lease lasts without renewal (default 1m). It
	// is renewed before each attempt and must outlast one attempt (the
	// client's timeout).
	Owner    string
	LeaseTTL time.Duration
	// Batch is how many events or deliveries one pass handles per
	// subscription (default 200).
	Batch int
	// ResponseCap bounds the response bytes read and kept (default 2 KiB).
	ResponseCap int
	// GapWait is how long a hole in the event ids is waited for before it
	// is taken for a rolled-back transaction (default 5s). On PostgreSQL a
	// transaction that took id 10 may commit after the one that took 11:
	// the cursor must not pass 10 while it may still appear.
	GapWait time.Duration
	Log     *slog.Logger
	// OnOutcome, if set, is called after each attempt (metrics).
	OnOutcome func(sub, outcome string)
}

// Dispatcher turns new events into deliveries and sends them.
type Dispatcher struct {
	cfg Config

	mu   sync.Mutex
	gaps map[string]gap // by subscription: the hole the cursor waits at
}

// gap is a hole in the event ids after the cursor, first seen at since.
type gap struct {
	after int64
	since time.Time
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil || cfg.Events == nil {
		return nil, errors.New("webhooks: Store and Events are required")
	}
	seen := map[string]bool{}
	for i, s := range cfg.Subscriptions {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("webhooks: subscription %d: %w", i, err)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("webhooks: subscription name %q used twice", s.Name)
		}
		seen[s.Name] = true
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(ClientConfig{})
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.MaxAge = cmp.Or(cfg.MaxAge, 24*time.Hour)
	cfg.MinBackoff = cmp.Or(cfg.MinBackoff, 5*time.Second)
	cfg.MaxBackoff = max(cmp.Or(cfg.MaxBackoff, time.Hour), cfg.MinBackoff)
	cfg.Poll = cmp.Or(cfg.Poll, time.Second)
	cfg.LeaseTTL = cmp.Or(cfg.LeaseTTL, time.Minute)
	if cfg.Client.Timeout <= 0 || cfg.LeaseTTL <= cfg.Client.Timeout {
		return nil, fmt.Errorf("webhooks: the lease (%s) must outlast one attempt: set a client timeout shorter than it", cfg.LeaseTTL)
	}
	cfg.Batch = cmp.Or(cfg.Batch, 200)
	cfg.ResponseCap = cmp.Or(cfg.ResponseCap, 2048)
	cfg.GapWait = cmp.Or(cfg.GapWait, 5*time.Second)
	if cfg.Owner == "" {
		cfg.Owner = "dispatcher-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Dispatcher{cfg: cfg, gaps: map[string]gap{}}, nil
}

// Validate checks a subscription's fields.
func (s *Subscription) Validate() error {
	if s.Name == "" {
		return errors.New("name is empty")
	}
	if s.Secret == "" {
		return fmt.Errorf("%s: secret is empty", s.Name)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL, nil)
	if err != nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return fmt.Errorf("%s: url %q is not an http(s) URL", s.Name, s.URL)
	}
	for _, e := range s.Events {
		if e != "*" && !contains(AllTypes, e) {
			return fmt.Errorf("%s: unknown event type %q", s.Name, e)
		}
	}
	return nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Run works every subscription each Poll until ctx ends. Errors of one
// pass are logged and the next pass tries again.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		if err := d.Step(ctx); err != nil && ctx.Err() == nil {
			d.cfg.Log.Warn("webhooks: pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Step is one pass: for each subscription whose lease this dispatcher
// holds, turn new events into deliveries, then send the due ones.
func (d *Dispatcher) Step(ctx context.Context) error {
	var errs []error
	subs := d.cfg.Subscriptions
	if d.cfg.Stored != nil {
		stored, err := d.cfg.Stored.Subscriptions(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("list stored subscriptions: %w", err))
		}
		subs = slices.Clone(subs)
		for _, s := range stored {
			if !slices.ContainsFunc(d.cfg.Subscriptions, func(c Subscription) bool { return c.Name == s.Name }) {
				subs = append(subs, s)
			}
		}
	}
	for i := range subs {
		s := &subs[i]
		if err := d.work(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("subscription %s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (d *Dispatcher) work(ctx context.Context, s *Subscription) error {
	ok, err := d.cfg.Store.AcquireLease(ctx, s.Name, d.cfg.Owner, d.cfg.Now(), d.cfg.LeaseTTL)
	if err != nil || !ok {
		return err
	}
	if err := d.pump(ctx, s); err != nil {
		return err
	}
	return d.send(ctx, s)
}

// pump turns the events after s's cursor into deliveries.
func (d *Dispatcher) pump(ctx context.Context, s *Subscription) error {
	for {
		cur, err := d.cfg.Store.Cursor(ctx, s.Name)
		if err != nil {
			return fmt.Errorf("read cursor: %w", err)
		}
		evs, err := d.cfg.Events.Events(ctx, flows.EventFilter{AfterID: cur, Limit: d.cfg.Batch})
		if err != nil {
			return fmt.Errorf("read events after %d: %w", cur, err)
		}
		evs = d.untilGap(s.Name, cur, evs)
		if len(evs) == 0 {
			return nil
		}
		var ds []*Delivery
		now := d.cfg.Now()
		for _, e := range evs {
			typ := TypeOf(e)
			if !s.Wants(typ, e.FlowID) {
				continue
			}
			dl, err := d.build(ctx, s, e, typ, now)
			if err != nil {
				return err
			}
			ds = append(ds, dl)
		}
		err = d.cfg.Store.AddDeliveries(ctx, s.Name, cur, evs[len(evs)-1].ID, ds)
		if errors.Is(err, ErrCursorMoved) {
			return nil // another dispatcher took over; its lease says so
		}
		if err != nil {
			return fmt.Errorf("add deliveries: %w", err)
		}
		if len(evs) < d.cfg.Batch {
			return nil
		}
	}
}

// untilGap cuts evs (the events after cur, by id) at the first hole in the
// ids, unless that hole has been there for GapWait already.
func (d *Dispatcher) untilGap(sub string, cur int64, evs []*flows.Event) []*flows.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := cur
	for i, e := range evs {
		if e.ID != prev+1 && prev != 0 {
			g, ok := d.gaps[sub]
			now := d.cfg.Now()
			if !ok || g.after != prev {
				d.gaps[sub] = gap{after: prev, since: now}
				return evs[:i]
			}
			if now.Sub(g.since) < d.cfg.GapWait {
				return evs[:i]
			}
			delete(d.gaps, sub) // waited long enough: a rolled-back id
		}
		prev = e.ID
	}
	return evs
}

func (d *Dispatcher) build(ctx context.Context, s *Subscription, e *flows.Event, typ string, now time.Time) (*Delivery, error) {
	dl := &Delivery{
		Subscription: s.Name, EventID: e.ID, InstanceID: e.InstanceID, Type: typ, At: e.At,
		Status: StatusPending, NextAt: now, CreatedAt: now,
	}
	err := d.cfg.Events.View(ctx, func(tx flows.Tx) error {
		in, err := tx.Instance(e.InstanceID)
		if err != nil {
			return fmt.Errorf("read request %d: %w", e.InstanceID, err)
		}
		if dl.Request, err = json.Marshal(in); err != nil {
			return err
		}
		if e.TaskID != 0 {
			t, err := tx.Task(e.TaskID)
			if err != nil {
				return fmt.Errorf("read task %d: %w", e.TaskID, err)
			}
			if dl.Task, err = json.Marshal(t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build delivery of event %d: %w", e.ID, err)
	}
	return dl, nil
}

// Payload is the JSON body of a delivery.
type Payload struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	At      time.Time       `json:"at"`
	Request json.RawMessage `json:"request"`
	Task    json.RawMessage `json:"task,omitempty"`
}

// Body returns the JSON body of dl; the same bytes every time.
func Body(dl *Delivery) ([]byte, error) {
	b, err := json.Marshal(Payload{
		ID: strconv.FormatInt(dl.ID, 10), Type: dl.Type, At: dl.At.UTC(),
		Request: dl.Request, Task: dl.Task,
	})
	if err != nil {
		return nil, fmt.Errorf("encode delivery %d: %w", dl.ID, err)
	}
	return b, nil
}

// send sends the due deliveries of s, again and again while some get
// through (each success may make the next delivery of its request due).
func (d *Dispatcher) send(ctx context.Context, s *Subscription) error {
	for range 100 {
		due, err := d.cfg.Store.DueDeliveries(ctx, s.Name, d.cfg.Now(), d.cfg.Batch)
		if err != nil {
			return fmt.Errorf("list due deliveries: %w", err)
		}
		progress := false
		for _, dl := range due {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Renew the lease before each attempt, so that no other
			// replica sends while this one does (a pass may outlast a
			// lease; one attempt, bounded by the client's timeout, must not).
			held, err := d.cfg.Store.AcquireLease(ctx, s.Name, d.cfg.Owner, d.cfg.Now(), d.cfg.LeaseTTL)
			if err != nil {
				return err
			}
			if !held {
				return nil
			}
			ok, err := d.attempt(ctx, s, dl)
			if err != nil {
				return err
			}
			progress = progress || ok
		}
		if !progress {
			return nil
		}
	}
	return nil
}

// attempt sends dl once and records the attempt.
func (d *Dispatcher) attempt(ctx context.Context, s *Subscription, dl *Delivery) (bool, error) {
	body, err := Body(dl)
	if err != nil {
		return false, err
	}
	start := d.cfg.Now()
	code, excerpt := d.post(ctx, s, dl, body, start)
	if ctx.Err() != nil {
		return false, ctx.Err() // stopping: the delivery stays pending, sent again later
	}
	end := d.cfg.Now()
	a := &Attempt{DeliveryID: dl.ID, At: start, StatusCode: code, Response: excerpt, Duration: end.Sub(start)}
	status, next, lastErr, outcome := StatusDelivered, end, "", OutcomeDelivered
	if code < 200 || code > 299 {
		lastErr = excerpt
		if code != 0 {
			lastErr = fmt.Sprintf("HTTP %d: %s", code, excerpt)
		}
		if end.Sub(dl.CreatedAt) >= d.cfg.MaxAge {
			status, outcome = StatusFailed, OutcomeFailed
		} else {
			status, next, outcome = StatusPending, end.Add(d.backoff(dl.Attempts+1)), OutcomeRetry
		}
	}
	if err := d.cfg.Store.RecordAttempt(ctx, a, status, next, lastErr); err != nil {
		return false, fmt.Errorf("record attempt of delivery %d: %w", dl.ID, err)
	}
	if d.cfg.OnOutcome != nil {
		d.cfg.OnOutcome(s.Name, outcome)
	}
	if outcome != OutcomeDelivered {
		d.cfg.Log.Info("webhooks: delivery not accepted", "subscription", s.Name, "delivery", dl.ID, "attempt", dl.Attempts+1, "outcome", outcome, "err", lastErr)
	}
	return outcome == OutcomeDelivered, nil
}

// post sends one attempt and returns the status code (0: no response) and
// a capped excerpt of the response or the error.
func (d *Dispatcher) post(ctx context.Context, s *Subscription, dl *Delivery, body []byte, at time.Time) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return 0, capText(err.Error(), d.cfg.ResponseCap)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "flowbot-webhooks/1")
	req.Header.Set(HeaderEvent, dl.Type)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(dl.ID, 10))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(s.Secret, ts, body))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return 0, capText(err.Error(), d.cfg.ResponseCap)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, int64(d.cfg.ResponseCap)))
	return resp.StatusCode, capText(string(b), d.cfg.ResponseCap)
}

// capText keeps at most n bytes of s, as valid UTF-8 (a text column of
// PostgreSQL refuses anything else): a rune cut by the cap is dropped.
func capText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// backoff is the wait before attempt n+1: MinBackoff doubled n-1 times,
// capped at MaxBackoff, then a random point in its upper half (jitter).
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.cfg.MinBackoff
	for i := 1; i < n && w < d.cfg.MaxBackoff; i++ {
		w *= 2
	}
	w = min(w, d.cfg.MaxBackoff)
	return w/2 + rand.N(w/2+1)
}

// Replay makes a delivery pending again, to be sent at the next pass with
// its original id (for the CLI and the REST API).
func Replay(ctx context.Context, st Store, id int64, now time.Time) error {
	if err := st.Replay(ctx, id, now); err != nil {
		return fmt.Errorf("replay delivery %d: %w", id, err)
	}
	return nil
}
