package signin

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Defaults of Config.
const (
	DefaultSessionTTL = 12 * time.Hour
	// LoginTTL bounds the time between leaving for the identity provider
	// and coming back.
	LoginTTL = 10 * time.Minute
	// CSRFHeader carries the session's CSRF token on fetch requests.
	CSRFHeader = "X-CSRF-Token"
	// CSRFField carries it in HTML forms.
	CSRFField = "csrf_token"
)

// ErrUnknownUser is returned by a Matcher for an identity that matches no
// active directory user.
var ErrUnknownUser = errors.New("signin: no directory user for this identity")

// Identity is what a verified ID token says about the person.
type Identity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Matcher maps a verified identity to a directory user id. It returns
// ErrUnknownUser (wrapped or not) for a person the directory does not know.
type Matcher interface {
	MatchUser(ctx context.Context, id Identity) (userID string, err error)
}

// MatcherFunc adapts a function to Matcher.
type MatcherFunc func(ctx context.Context, id Identity) (string, error)

// MatchUser calls f.
func (f MatcherFunc) MatchUser(ctx context.Context, id Identity) (string, error) { return f(ctx, id) }

// Config configures a Service.
type Config struct {
	// Issuer is the OpenID provider's issuer URL; its discovery document
	// (/.well-known/openid-configuration) is read by New.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this server's callback, ".../auth/callback", as
	// registered at the provider.
	RedirectURL string
	// Scopes beyond "openid" (default: profile, email).
	Scopes []string
	Store  Store
	Match  Matcher
	// SessionTTL is how long a session lasts after sign-in (default 12h).
	SessionTTL time.Duration
	// Insecure drops the Secure attribute of the cookies: only for local
	// development over plain http (cmd/flowbot allows it only for a
	// loopback redirect URL).
	Insecure bool
	// Home is where a sign-in without a "next" page lands (default /ui/).
	Home string
	// HTTPClient talks to the provider (default http.DefaultClient).
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service signs people in and keeps their sessions.
type Service struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	cop      *http.CrossOriginProtection
}

// New reads the provider's discovery document and returns the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("signin: issuer is required")
	case cfg.ClientID == "":
		return nil, errors.New("signin: client id is required")
	case cfg.RedirectURL == "":
		return nil, errors.New("signin: redirect url is required")
	case cfg.Store == nil || cfg.Match == nil:
		return nil, errors.New("signin: store and matcher are required")
	}
	cfg.SessionTTL = cmp.Or(cfg.SessionTTL, DefaultSessionTTL)
	cfg.Home = cmp.Or(cfg.Home, "/ui/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"profile", "email"}
	}
	s := &Service{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()).With("service", "signin"), now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("signin: discover provider %s: %w", cfg.Issuer, err)
	}
	// The provider keeps only the HTTP client of ctx for fetching keys
	// later, not its deadline.
	s.verifier = p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: s.now})
	s.oauth = oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, cfg.Scopes...),
	}
	s.cop = http.NewCrossOriginProtection()
	return s, nil
}

// Secure reports whether the cookies carry the Secure attribute.
func (s *Service) Secure() bool { return !s.cfg.Insecure }

// sessionCookie is the name of the session cookie: with Secure, the
// __Host- prefix also pins it to this host and path /.
func (s *Service) sessionCookie() string {
	if s.cfg.Insecure {
		return "flowbot_session"
	}
	return "__Host-flowbot_session"
}

const loginCookie = "flowbot_signin"

// hashSecret is the stored form of a session secret.
func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CSRFToken returns the CSRF token of the session whose cookie secret is
// secret.
func CSRFToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("flowbot csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

type ctxKey struct{}

// Signed is the signed-in user of a request, put in its context by
// Require.
type Signed struct {
	User string
	// CSRF is the session's token, to be sent back on state-changing
	// requests.
	CSRF      string
	ExpiresAt time.Time
}

// WithUser returns ctx carrying the signed-in user (used by Require, and
// by tests of handlers mounted behind it).
func WithUser(ctx context.Context, s Signed) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// UserFrom returns the signed-in user of ctx.
func UserFrom(ctx context.Context) (Signed, bool) {
	s, ok := ctx.Value(ctxKey{}).(Signed)
	return s, ok && s.User != ""
}
