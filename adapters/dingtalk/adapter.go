package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"

	"github.com/flowbot/flowbot/adapters/internal/apiclient"
	"github.com/flowbot/flowbot/adapters/internal/bg"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/dirsync"
)

// sdkLogOnce initialises the SDK's package-global logger once: its lazy
// initialisation in GetLogger is a data race when two connections open at
// once.
var sdkLogOnce sync.Once

// Platform is the bots.Event.Platform of this adapter.
const Platform = "dingtalk"

// Handler is what the adapter needs from the bot. A non-nil error is an
// internal failure: the frame is answered LATER so that DingTalk delivers
// it again.
type Handler interface {
	Handle(ctx context.Context, ev bots.Event) (bots.Reply, error)
}

// Metrics counts what the adapter does, per app. kind is one of
// "frame_in", "ack", "later", "reconnect", "send", "send_failure".
type Metrics interface {
	Inc(app, kind string)
}

type nopMetrics struct{}

func (nopMetrics) Inc(string, string) {}

// Option tunes New.
type Option func(*options)

type options struct {
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	metrics Metrics
	inbox   Inbox
	dir     Directory
}

// WithLogger sets the adapter's logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithHTTPClient sets the client of OpenAPI calls (default: apiclient.New,
// a 10s timeout and idle connections kept for the next sends).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithClock sets the adapter's clock (replay window, token expiry).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Inbox keeps events the adapter acknowledged before the bot finished
// them: Keep is called before the platform's answer, Done once the
// handler returned. What was kept and never marked done is replayed by
// the inbox's owner (bots.Bot with a store's inbox).
type Inbox interface {
	Keep(ctx context.Context, ev bots.Event) error
	Done(ctx context.Context, ev bots.Event) error
}

// WithInbox keeps every card callback answered before its handler
// finished in in, and marks it done once the handler returned, so that a
// callback cut off by a crash is replayed instead of lost (default: not
// kept).
func WithInbox(in Inbox) Option { return func(o *options) { o.inbox = in } }

// Directory takes the organisation changes an app reports (user_add_org,
// org_dept_modify...), decoded: dirsync.Syncer.ApplyEvent behind cmd's
// wiring, which knows the directory key of each app (app is its key).
// DingTalk names only ids: the events carry dirsync.Event.Lookup. It
// returns dirsync.ErrNoBaseline or dirsync.ErrNotSynced for a change it
// has no use for (acknowledged), any other error to have DingTalk deliver
// the event again.
type Directory interface {
	ApplyEvent(ctx context.Context, app string, ev dirsync.Event) error
}

// WithDirectory subscribes the Stream connections to events and hands
// the organisation changes to d (default: no event subscription).
func WithDirectory(d Directory) Option { return func(o *options) { o.dir = d } }

// WithMetrics sets the adapter's counters.
func WithMetrics(m Metrics) Option { return func(o *options) { o.metrics = m } }

var (
	_ bots.Messenger = (*Adapter)(nil)
	_ http.Handler   = (*Adapter)(nil)
)

// Adapter connects one or more DingTalk apps to the bot.
type Adapter struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	metrics Metrics
	apps    []*app
	byKey   map[string]*app
	seen    *ttlSet
	sent    *ttlCache

	// group runs card callbacks' handlers (which may outlive their
	// answer) and the Stream loops; inbox keeps the callbacks answered
	// before their handler finished (nil: not kept).
	group *bg.Group
	inbox Inbox
	// dir takes the organisation events (nil: not subscribed).
	dir Directory
	// streams is the context of the Stream read loops: Close cancels it
	// first, so that no new frame is read while handlers finish.
	streams     context.Context
	stopStreams context.CancelFunc
	start       sync.Once
}

// app is the runtime state of one configured app.
type app struct {
	cfg App

	tokMu  sync.Mutex
	tok    string
	tokExp time.Time

	connMu    sync.Mutex
	connected bool
}

// New checks cfg and builds an adapter; it makes no network call.
func New(cfg Config, h Handler, opts ...Option) (*Adapter, error) {
	if h == nil {
		return nil, errors.New("dingtalk: new adapter: nil handler")
	}
	sdkLogOnce.Do(func() { logger.GetLogger() })
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := options{log: slog.Default(), now: time.Now, metrics: nopMetrics{}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		o.client = apiclient.New(10 * time.Second)
	}
	a := &Adapter{
		cfg: cfg, h: h, log: o.log.WithGroup("dingtalk"), now: o.now, client: o.client, metrics: o.metrics,
		byKey: map[string]*app{}, seen: newTTLSet(o.now), sent: newTTLCache(o.now),
	}
	a.group, a.inbox, a.dir = bg.New(), o.inbox, o.dir
	a.streams, a.stopStreams = context.WithCancel(context.Background())
	for _, ac := range cfg.Apps {
		p := &app{cfg: ac}
		a.apps = append(a.apps, p)
		a.byKey[ac.Key] = p
	}
	return a, nil
}

// Start opens the Stream connection of every stream-mode app and returns
// once each has connected once, or with the first error. The connections
// then live (reconnecting with backoff) until Close. HTTP-mode apps need
// no start: mount the adapter at POST /webhook/dingtalk.
func (a *Adapter) Start(ctx context.Context) error {
	var ready []chan error
	a.start.Do(func() {
		for _, p := range a.apps {
			if p.cfg.Mode != ModeStream {
				continue
			}
			ch := make(chan error, 1)
			ready = append(ready, ch)
			s := newStream(a, p)
			a.group.Go(func(context.Context) { s.run(a.streams, ch) })
		}
	})
	for _, ch := range ready {
		select {
		case err := <-ch:
			if err != nil {
				return fmt.Errorf("dingtalk: open stream: %w", err)
			}
		case <-ctx.Done():
			return fmt.Errorf("dingtalk: open stream: %w", ctx.Err())
		}
	}
	return nil
}

// Ready reports an error when a stream-mode app is not connected now.
func (a *Adapter) Ready(ctx context.Context) error {
	var errs []error
	for _, p := range a.apps {
		if p.cfg.Mode != ModeStream {
			continue
		}
		p.connMu.Lock()
		ok := p.connected
		p.connMu.Unlock()
		if !ok {
			errs = append(errs, fmt.Errorf("dingtalk: app %s: stream not connected", p.cfg.Key))
		}
	}
	return errors.Join(errs...)
}

// Close stops the Stream connections at once (no new frame is read),
// lets handlers of callbacks already answered finish within CloseGrace,
// then cancels what is left and waits.
func (a *Adapter) Close() error {
	a.stopStreams()
	if !a.group.Close(a.cfg.CloseGrace) {
		a.log.Warn("handlers still running after the close grace period: cancelled", "grace", a.cfg.CloseGrace)
	}
	return nil
}

// app picks the configured app by key; "" means the only app.
func (a *Adapter) app(key string) (*app, error) {
	if key == "" && len(a.apps) == 1 {
		return a.apps[0], nil
	}
	p, ok := a.byKey[key]
	if !ok {
		return nil, fmt.Errorf("dingtalk: app %q: %w", key, ErrUnknownApp)
	}
	return p, nil
}

// ttlSet remembers keys for a while (message ids).
type ttlSet struct {
	mu   sync.Mutex
	now  func() time.Time
	m    map[string]time.Time
	busy map[string]bool
}

func newTTLSet(now func() time.Time) *ttlSet {
	return &ttlSet{now: now, m: map[string]time.Time{}, busy: map[string]bool{}}
}

// begin reports whether key may be handled now: not done and not in
// flight. done or abort must follow a true.
func (s *ttlSet) begin(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.m) > 4096 {
		for k, exp := range s.m {
			if now.After(exp) {
				delete(s.m, k)
			}
		}
	}
	if exp, ok := s.m[key]; (ok && now.Before(exp)) || s.busy[key] {
		return false
	}
	s.busy[key] = true
	return true
}

func (s *ttlSet) done(key string, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, key)
	s.m[key] = s.now().Add(ttl)
}

func (s *ttlSet) abort(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, key)
}

// ttlCache maps idempotency keys to the first send's ref for a day.
type ttlCache struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]cached
	// locks serialises sends of one key.
	locks map[string]*sync.Mutex
}

type cached struct {
	ref string
	exp time.Time
}

func newTTLCache(now func() time.Time) *ttlCache {
	return &ttlCache{now: now, m: map[string]cached{}, locks: map[string]*sync.Mutex{}}
}

func (c *ttlCache) lock(key string) func() {
	c.mu.Lock()
	l, ok := c.locks[key]
	if !ok {
		l = &sync.Mutex{}
		c.locks[key] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (c *ttlCache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if !ok || c.now().After(v.exp) {
		return "", false
	}
	return v.ref, true
}

func (c *ttlCache) put(key, ref string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) > 8192 {
		for k, v := range c.m {
			if now.After(v.exp) {
				delete(c.m, k)
				delete(c.locks, k)
			}
		}
	}
	c.m[key] = cached{ref: ref, exp: now.Add(24 * time.Hour)}
}
