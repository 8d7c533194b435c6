package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// Platform is the platform name of this adapter in events and recipients.
const Platform = "web"

// Defaults of Config.
const (
	DefaultHistory = 200
	DefaultTimeout = 15 * time.Second
	// MaxBody is the largest request body accepted (larger: 413).
	MaxBody = 64 << 10
	// MaxAdvance is the largest single step of the demo clock.
	MaxAdvance = 31 * 24 * time.Hour
	// maxChats bounds the number of distinct chats kept in memory.
	maxChats = 10000
)

// ErrUnknownMessage is returned by Update for a reference this process does
// not know (never sent, dropped from the bounded history, or sent before a
// restart).
var ErrUnknownMessage = fmt.Errorf("web: unknown message: %w", bots.ErrMessageGone)

// Handler handles one inbound event. *bots.Bot satisfies it.
type Handler interface {
	Handle(ctx context.Context, ev bots.Event) (bots.Reply, error)
}

// User is one person of the directory as the "who are you" picker shows it.
type User struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Department string   `json:"department,omitempty"`
	Roles      []string `json:"roles,omitempty"`
	Locale     string   `json:"locale,omitempty"` // "zh-CN" or "en"
	// TZ is the user's IANA time zone (e.g. "Asia/Shanghai"): the page
	// shows every time in it, as the cards do. Empty: Asia/Shanghai.
	TZ string `json:"tz,omitempty"`
}

// Config configures an Adapter.
type Config struct {
	// Handler receives every typed message and card click (required).
	Handler Handler
	// Users lists the directory for the user picker (nil: empty list).
	Users func(ctx context.Context) ([]User, error)
	// Advance moves the demo clock forward by d and runs the work that
	// became due; it returns the new time. Nil hides the clock control.
	// It is only offered in demo mode.
	Advance func(ctx context.Context, d time.Duration) (time.Time, error)
	// Now is the demo clock shown in the header (default time.Now).
	Now func() time.Time
	// Demo shows the user picker and the "act as anyone" banner.
	Demo bool
	// Identify returns the authenticated user of a request outside demo
	// mode (ok=false: 401). Ignored in demo mode. Nil outside demo mode
	// refuses every API call.
	Identify func(r *http.Request) (userID string, ok bool)
	Logger   *slog.Logger
	// History is the number of messages kept per user (default 200).
	History int
	// Timeout bounds one call of Handler (default 15s).
	Timeout time.Duration
}

// Adapter is the web playground: an http.Handler for the page and its API,
// and the bots.Messenger of platform "web".
type Adapter struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	boot string // prefix of message ids, unique per process

	mu    sync.Mutex
	seq   uint64
	chats map[string]*chat    // user id -> chat
	refs  map[string]*message // message id -> message
	subs  map[string]map[*subscriber]struct{}
	// closed: Close was called, no new event streams.
	closed bool
}

var _ bots.Messenger = (*Adapter)(nil)

// New returns an adapter for cfg.
func New(cfg Config) *Adapter {
	cfg.History = cmp.Or(cfg.History, DefaultHistory)
	if cfg.History < 1 {
		cfg.History = DefaultHistory
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultTimeout)
	a := &Adapter{
		cfg:   cfg,
		log:   cmp.Or(cfg.Logger, slog.Default()).WithGroup("web"),
		now:   cfg.Now,
		boot:  randomHex(4),
		chats: make(map[string]*chat),
		refs:  make(map[string]*message),
		subs:  make(map[string]map[*subscriber]struct{}),
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
