package wecom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/flowbot/flowbot/adapters/internal/apiclient"
	"github.com/flowbot/flowbot/adapters/internal/bg"
	"github.com/flowbot/flowbot/adapters/internal/seen"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/dirsync"
)

// Platform is the bots.Event.Platform of this adapter.
const Platform = "wecom"

// Handler is what the adapter needs from the bot. A non-nil error is an
// internal failure: the callback is answered 500 and WeCom retries.
type Handler interface {
	Handle(ctx context.Context, ev bots.Event) (bots.Reply, error)
}

// Directory takes the address-book changes a corp reports, decoded:
// dirsync.Syncer.ApplyEvent behind cmd's wiring, which knows the
// directory key of each corp (app is the corp id). It returns
// dirsync.ErrNoBaseline or dirsync.ErrNotSynced for a change it has no
// use for (acknowledged), any other error to have WeCom retry.
type Directory interface {
	ApplyEvent(ctx context.Context, app string, ev dirsync.Event) error
}

var _ bots.Messenger = (*Adapter)(nil)
var _ http.Handler = (*Adapter)(nil)

// Adapter connects one or more WeCom apps to the bot.
type Adapter struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	metrics Metrics
	apps    []*app
	byName  map[string]*app
	dir     Directory // takes change_contact (nil: ignored)

	seen   *seen.Set // callback dedupe (MsgId; task+key+user)
	sent   *sentKeys // idempotency key -> ref
	cards  *cardStore
	follow *followUpStore
	queue  *queue

	// group runs what follows a callback's answer (the clicked card's
	// update, follow-up questions).
	group *bg.Group
}

// app is the runtime state of one configured app.
type app struct {
	cfg    App
	key    []byte
	tokMu  sync.Mutex
	tok    string
	tokExp time.Time
}

// New checks cfg and builds an adapter; it makes no network call.
func New(cfg Config, h Handler, opts ...Option) (*Adapter, error) {
	if h == nil {
		return nil, errors.New("wecom: new adapter: nil handler")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := options{log: slog.Default(), now: time.Now, metrics: nopMetrics{}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = apiclient.New(10 * time.Second)
	}
	a := &Adapter{
		cfg: cfg, h: h, log: o.log.WithGroup("wecom"), now: o.now, client: o.httpClient, metrics: o.metrics, dir: o.dir,
		byName: map[string]*app{},
		seen:   seen.New(o.now, 24*time.Hour),
		sent:   &sentKeys{now: o.now, ttl: cfg.IdempotencyTTL, m: map[string]sentEntry{}},
		cards:  newCardStore(),
		follow: &followUpStore{m: map[string]*pending{}},
		queue:  newQueue(cfg.Rate),
	}
	a.group = bg.New()
	for _, ac := range cfg.Apps {
		key, _ := decodeAESKey(ac.EncodingAESKey) // checked by validate
		p := &app{cfg: ac, key: key}
		a.apps = append(a.apps, p)
		a.byName[ac.Name] = p
	}
	return a, nil
}

// Ready checks that every app can get an access token.
func (a *Adapter) Ready(ctx context.Context) error {
	for _, p := range a.apps {
		if _, err := a.token(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// Close stops background work (card updates after a click, follow-up
// questions): what started gets CloseGrace to finish, then is cancelled.
// The bot's decisions behind it are already durable; these sends are
// the fast path.
func (a *Adapter) Close() error {
	if !a.group.Close(a.cfg.CloseGrace) {
		a.log.Warn("background work still running after the close grace period: cancelled", "grace", a.cfg.CloseGrace)
	}
	return nil
}

// app picks the configured app by name; "" means the only app.
func (a *Adapter) app(name string) (*app, error) {
	if name == "" && len(a.apps) == 1 {
		return a.apps[0], nil
	}
	p, ok := a.byName[name]
	if !ok {
		return nil, fmt.Errorf("app %q: %w", name, ErrUnknownApp)
	}
	return p, nil
}

// sentKeys maps idempotency keys to the first send's reference.
type sentKeys struct {
	now func() time.Time
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]sentEntry
	// locks serialise sends of one key; an entry lives while someone
	// holds or waits for it (guarded by mu).
	locks map[string]*keyLock
}

type keyLock struct {
	mu sync.Mutex
	n  int
}

type sentEntry struct {
	ref string
	exp time.Time
}

func (s *sentKeys) get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok || s.now().After(e.exp) {
		return "", false
	}
	return e.ref, true
}

func (s *sentKeys) put(key, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.m) > 100000 {
		for k, e := range s.m {
			if now.After(e.exp) {
				delete(s.m, k)
			}
		}
	}
	s.m[key] = sentEntry{ref: ref, exp: now.Add(s.ttl)}
}

func (s *sentKeys) lock(key string) func() {
	s.mu.Lock()
	if s.locks == nil {
		s.locks = map[string]*keyLock{}
	}
	l, ok := s.locks[key]
	if !ok {
		l = &keyLock{}
		s.locks[key] = l
	}
	l.n++
	s.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.mu.Lock()
		l.n--
		if l.n == 0 {
			delete(s.locks, key)
		}
		s.mu.Unlock()
	}
}
