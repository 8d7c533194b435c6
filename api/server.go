package api

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/webhooks"
)

// Engine is what the API needs of the flow engine (*flows.Engine).
type Engine interface {
	Submit(ctx context.Context, r flows.SubmitRequest) (*flows.Outcome, error)
	Decide(ctx context.Context, r flows.DecideRequest) (*flows.Outcome, error)
	SendBack(ctx context.Context, actor string, taskID int64, toStep, reason string) (*flows.Outcome, error)
	Withdraw(ctx context.Context, actor string, instanceID int64, reason string) (*flows.Outcome, error)
	Transfer(ctx context.Context, actor string, taskID int64, to, reason string) (*flows.Outcome, error)
	AddSigner(ctx context.Context, actor string, taskID int64, signer string, pos flows.SignerPosition, note string) (*flows.Outcome, error)
	Comment(ctx context.Context, actor string, instanceID int64, text string) (*flows.Outcome, error)
	ReplyComment(ctx context.Context, actor string, instanceID int64, to, text string) (*flows.Outcome, error)
	View(ctx context.Context, instanceID int64) (*flows.View, error)
	FlowInfos(ctx context.Context) ([]flows.FlowInfo, error)
	PublishFlow(ctx context.Context, file string, src []byte) (*flowdef.Definition, int, error)
	DryRun(ctx context.Context, applicant, flowID string, values map[string]any) (*flowdef.Definition, []flows.RouteStep, error)
	Now() time.Time
	// Leave balances (flows/balance.go).
	SetBalances(ctx context.Context, actor string, us []flows.BalanceUpdate) error
	BalancesOf(ctx context.Context, actor string, f flows.BalanceFilter) ([]*flows.Balance, error)
}

// Queries are the reads the API makes of the store (flows.Store has them).
type Queries interface {
	Instances(ctx context.Context, f flows.InstanceFilter) ([]*flows.Instance, error)
	Tasks(ctx context.Context, f flows.TaskFilter) ([]*flows.Task, error)
	Events(ctx context.Context, f flows.EventFilter) ([]*flows.Event, error)
	User(ctx context.Context, id string) (*flows.User, error)
	Users(ctx context.Context) ([]*flows.User, error)
	Departments(ctx context.Context) ([]*flows.Department, error)
	Flow(ctx context.Context, id string, v int) (*flows.FlowVersion, error)
	Outbox(ctx context.Context, status flows.OutboxStatus, limit int) ([]*flows.OutboxMessage, error)
	Balances(ctx context.Context, f flows.BalanceFilter) ([]*flows.Balance, error)
}

// Config configures a Server.
type Config struct {
	Engine  Engine
	Queries Queries
	Tokens  tokens.Store
	// Stats computes the statistics report (flowstats.Compute over the store).
	Stats func(ctx context.Context, q flowstats.Query) (*flowstats.Report, error)
	// Directory, when set, lets admins change users and departments.
	Directory interface {
		ReplaceDirectory(ctx context.Context, users []*flows.User, depts []*flows.Department) error
	}
	// DirectoryLock, when set, is taken around each directory change made
	// through the API, so that replicas and the scheduled directory sync
	// never interleave their read-change-write of the directory. It returns
	// ErrDirectoryBusy (wrapped) when another writer holds it for too long.
	DirectoryLock func(ctx context.Context) (unlock func(), err error)
	// Webhooks, when set, lets admins list and replay webhook deliveries.
	Webhooks Webhooks
	// Subscriptions, when set, lets admins make, change and remove webhook
	// subscriptions at run time.
	Subscriptions webhooks.SubscriptionStore
	// WebhooksAllowPrivate accepts subscription URLs naming private,
	// loopback or link-local addresses (webhooks.allow_private).
	WebhooksAllowPrivate bool
	// AdminToken, when set, is a bootstrap bearer token with the admin
	// scope and no user (api.admin_token).
	AdminToken string
	// RatePerSecond and Burst limit each token (defaults 20 and 40).
	RatePerSecond float64
	Burst         int
	// MaxBody bounds a request body in bytes (default 1 MiB).
	MaxBody int64
	Logger  *slog.Logger
}

// Server is the REST API. Its Handler serves /api/v1/.
type Server struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	routes []route

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	dirMu    sync.Mutex
}

// route is one endpoint: what the OpenAPI test walks.
type route struct {
	Method, Path string
	Scope        string // "" = no token needed
	h            func(w http.ResponseWriter, r *http.Request, c *caller) error
}

// New returns a server over cfg.
func New(cfg Config) *Server {
	cfg.RatePerSecond = cmp.Or(cfg.RatePerSecond, 20)
	cfg.Burst = cmp.Or(cfg.Burst, 40)
	cfg.MaxBody = cmp.Or(cfg.MaxBody, 1<<20)
	s := &Server{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()), mux: http.NewServeMux(), limiters: map[string]*rate.Limiter{}}
	s.routes = s.table()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	s.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) { s.writeError(w, r, errNotFound) })
	return s
}

// Handler serves the API with request ids and logging.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !reqIDRe.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		log := s.log.With("request_id", id)
		ctx := context.WithValue(context.WithValue(r.Context(), reqIDKey{}, id), loggerKey{}, log)
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		s.mux.ServeHTTP(sw, r.WithContext(ctx))
		log.Info("api call", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

// Routes lists "METHOD PATH" of every endpoint (for the OpenAPI test).
func (s *Server) Routes() []string {
	out := make([]string, len(s.routes))
	for i, rt := range s.routes {
		out[i] = rt.Method + " " + rt.Path
	}
	return out
}

var reqIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type (
	reqIDKey  struct{}
	loggerKey struct{}
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(reqIDKey{}).(string)
	return id
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(c int) { w.status = c; w.ResponseWriter.WriteHeader(c) }
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// caller is who makes a call: the token, and the user it acts as (nil for
// a service token acting for nobody).
type caller struct {
	tok  *tokens.Token
	user *flows.User
}

// actor is the acting user's id, required for writes.
func (c *caller) actor() (string, error) {
	if c.user == nil {
		return "", errNeedActor
	}
	return c.user.ID, nil
}

// sees reports whether the caller reads as a service (all requests of its flows).
func (c *caller) service() bool { return c.user == nil }

func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		if r.ContentLength > s.cfg.MaxBody {
			s.writeError(w, r, errTooLarge)
			return
		}
		var c *caller
		if rt.Scope != "" {
			var err error
			if c, err = s.authenticate(r, rt.Scope); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := rt.h(w, r, c); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticate finds the bearer token, checks it, its scope and its rate,
// and resolves the acting user.
func (s *Server) authenticate(r *http.Request, scope string) (*caller, error) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	secret = strings.TrimSpace(secret)
	if !ok || secret == "" {
		return nil, errNoToken
	}
	now := s.cfg.Engine.Now()
	var tok *tokens.Token
	if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.AdminToken)) == 1 {
		tok = &tokens.Token{ID: "admin_token", Name: "api.admin_token", Scopes: []string{tokens.ScopeAdmin}}
	} else {
		if len(secret) > 200 || s.cfg.Tokens == nil {
			return nil, errBadToken
		}
		var err error
		tok, err = s.cfg.Tokens.TokenByHash(r.Context(), tokens.Hash(secret))
		if errors.Is(err, tokens.ErrNotFound) {
			return nil, errBadToken
		}
		if err != nil {
			return nil, errf(CodeUnavailable, "数据库暂时不可用，请稍后再试。", "The database is unavailable; try again.")
		}
		switch err := tok.Usable(now); {
		case errors.Is(err, tokens.ErrRevoked):
			return nil, errRevoked
		case errors.Is(err, tokens.ErrExpired):
			return nil, errExpired
		}
	}
	if !s.limiter(tok.ID).Allow() {
		return nil, errRate
	}
	if !tok.Allows(scope) {
		return nil, errScope
	}
	if tok.ID != "admin_token" && (tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute) {
		// Recorded at most once a minute: not a write per call.
		if err := s.cfg.Tokens.TouchToken(r.Context(), tok.ID, now); err != nil {
			s.logger(r.Context()).Warn("record token use", "token", tok.ID, "err", err)
		}
	}
	c := &caller{tok: tok}
	as := strings.TrimSpace(r.Header.Get("X-On-Behalf-Of"))
	uid := tok.User
	if as != "" {
		if tok.User != "" && as != tok.User {
			return nil, errActAs
		}
		uid = as
	}
	if uid != "" {
		u, err := s.cfg.Queries.User(r.Context(), uid)
		if errors.Is(err, flows.ErrNotFound) {
			return nil, errUnknownUser
		}
		if err != nil {
			return nil, errf(CodeUnavailable, "数据库暂时不可用，请稍后再试。", "The database is unavailable; try again.")
		}
		c.user = u
	}
	return c, nil
}

func (s *Server) limiter(id string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[id]
	if !ok {
		l = rate.NewLimiter(rate.Limit(s.cfg.RatePerSecond), s.cfg.Burst)
		s.limiters[id] = l
	}
	return l
}
