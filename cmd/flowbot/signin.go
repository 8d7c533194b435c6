package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/signin"
)

// SignInConfig is the sign_in: section: web sign-in with OpenID Connect
// for the playground and the dashboard outside demo mode.
type SignInConfig struct {
	Enabled bool `yaml:"enabled"`
	// Issuer is the provider's issuer URL (its discovery document is read
	// at start).
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret string   `yaml:"client_secret"`
	RedirectURL  string   `yaml:"redirect_url"` // https://flowbot.example.com/auth/callback
	Scopes       []string `yaml:"scopes"`       // beyond openid (default profile, email)
	// Match: "email" (the ID token's verified email = the directory's
	// email) or "subject" (the token's sub = the user's platforms.oidc).
	Match      string        `yaml:"match"`
	SessionTTL time.Duration `yaml:"session_ttl"`
	// InsecureCookies drops the cookies' Secure attribute: only allowed
	// with an http://localhost (or 127.0.0.1, ::1) redirect URL.
	InsecureCookies bool `yaml:"insecure_cookies"`
}

// signinPlatform is the directory's platforms key holding a user's subject
// at the identity provider (match: subject).
const signinPlatform = "oidc"

func (c SignInConfig) validate(pg PlaygroundConfig, bad func(key, format string, a ...any)) {
	if !c.Enabled {
		return
	}
	if c.Issuer == "" {
		bad("sign_in.issuer", "is empty (the identity provider's issuer URL)")
	} else if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && !loopbackURL(u)) {
		bad("sign_in.issuer", "must be an https URL (http only on localhost), not %q", c.Issuer)
	}
	if c.ClientID == "" {
		bad("sign_in.client_id", "is empty")
	}
	u, err := url.Parse(c.RedirectURL)
	switch {
	case c.RedirectURL == "":
		bad("sign_in.redirect_url", "is empty (this server's https://.../auth/callback)")
	case err != nil || !strings.HasSuffix(u.Path, signin.Prefix+"callback"):
		bad("sign_in.redirect_url", "must end in %scallback, not %q", signin.Prefix, c.RedirectURL)
	case u.Scheme != "https" && !c.InsecureCookies:
		bad("sign_in.redirect_url", "must be https (set insecure_cookies: true for plain http on localhost), not %q", c.RedirectURL)
	case c.InsecureCookies && !loopbackURL(u):
		bad("sign_in.insecure_cookies", "is only for local development: the redirect URL must be http://localhost, not %q", c.RedirectURL)
	}
	switch c.Match {
	case "", "email", "subject":
	default:
		bad("sign_in.match", "must be email or subject, not %q", c.Match)
	}
	if c.SessionTTL < 0 {
		bad("sign_in.session_ttl", "must not be negative, not %s", c.SessionTTL)
	}
	if pg.Demo {
		bad("sign_in.enabled", "is true while playground.demo is true: demo mode lets anyone act as anyone; turn one off")
	}
}

func loopbackURL(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// sessionStore is what a flows store offers when it keeps web sessions
// (store/sqlite and store/postgres do).
type sessionStore interface {
	Sessions() signin.Store
}

// setupSignIn starts sign-in when configured and mounts its routes at
// /auth/.
func (a *app) setupSignIn(ctx context.Context) error {
	cfg := a.cfg.SignIn
	if !cfg.Enabled {
		return nil
	}
	ss, ok := a.store.(sessionStore)
	if !ok {
		return errors.New("config: sign_in: the database does not keep sessions")
	}
	svc, err := signin.New(ctx, signin.Config{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
		Scopes: cfg.Scopes, Store: ss.Sessions(), Match: signin.MatcherFunc(a.matchUser), SessionTTL: cfg.SessionTTL,
		Insecure: cfg.InsecureCookies, Now: time.Now, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.signin = svc
	a.mux.Handle(signin.Prefix, http.StripPrefix(strings.TrimSuffix(signin.Prefix, "/"), svc.Handler()))
	a.starters = append(a.starters, func(ctx context.Context) error {
		go a.sweepSessions(ctx, ss.Sessions())
		return nil
	})
	return nil
}

// sweepSessions removes expired sessions hourly (they are refused anyway;
// this keeps the table small).
func (a *app) sweepSessions(ctx context.Context, st signin.Store) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := st.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.log.Warn("sweep sessions", "err", err)
		} else if n > 0 {
			a.log.Info("expired sessions removed", "sessions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// matchUser finds the directory user of a verified identity: by verified
// email (exactly one user may have it), or by subject (platforms.oidc).
func (a *app) matchUser(ctx context.Context, id signin.Identity) (string, error) {
	if a.cfg.SignIn.Match == "subject" {
		u, err := a.store.UserByPlatform(ctx, signinPlatform, id.Subject)
		if errors.Is(err, flows.ErrNotFound) {
			return "", signin.ErrUnknownUser
		}
		if err != nil {
			return "", fmt.Errorf("match subject: %w", err)
		}
		return u.ID, nil
	}
	if id.Email == "" || !id.EmailVerified {
		return "", fmt.Errorf("email %q not verified by the provider: %w", id.Email, signin.ErrUnknownUser)
	}
	users, err := a.store.Users(ctx)
	if err != nil {
		return "", fmt.Errorf("match email: %w", err)
	}
	var found []string
	for _, u := range users {
		if u.Email != "" && strings.EqualFold(u.Email, id.Email) {
			found = append(found, u.ID)
		}
	}
	if len(found) != 1 {
		// none, or several people share it: neither may sign in as one
		return "", fmt.Errorf("email %q matches %d users: %w", id.Email, len(found), signin.ErrUnknownUser)
	}
	return found[0], nil
}

// identifyWeb is the playground's Identify outside demo mode: the
// signed-in user's web id.
func (a *app) identifyWeb(r *http.Request) (string, bool) {
	s, ok := signin.UserFrom(r.Context())
	if !ok {
		return "", false
	}
	u, err := a.store.User(r.Context(), s.User)
	if err != nil {
		return "", false
	}
	return webID(u), true
}

// statsScope is what a dashboard viewer may see: every department, or
// these.
type statsScope struct {
	all   bool
	depts []string
}

type scopeKey struct{}

// scopeFrom returns the viewer's scope; without one (demo mode), all.
func scopeFrom(ctx context.Context) statsScope {
	if s, ok := ctx.Value(scopeKey{}).(statsScope); ok {
		return s
	}
	return statsScope{all: true}
}

// dashboardRights lets the signed-in user see the dashboard as
// flows.StatsScope allows: admins and auditors all, managers their
// departments (the page is narrowed to one of them), others nothing.
func (a *app) dashboardRights(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := signin.UserFrom(r.Context())
		if !ok {
			http.Error(w, "请先登录 / sign in first", http.StatusUnauthorized)
			return
		}
		u, err := a.store.User(r.Context(), s.User)
		if err != nil {
			http.Error(w, "你不在通讯录中 / you are not in the directory", http.StatusForbidden)
			return
		}
		depts, err := a.store.Departments(r.Context())
		if err != nil {
			a.log.Error("dashboard rights", "err", err)
			http.Error(w, "统计暂不可用 / statistics unavailable", http.StatusServiceUnavailable)
			return
		}
		all, roots, err := flows.StatsScope(u, flows.HeadedDepts(u, depts))
		if err != nil {
			http.Error(w, "你无权查看统计：只有部门负责人、审计员和管理员可以 / you may not see statistics: only department heads, auditors and admins can",
				http.StatusForbidden)
			return
		}
		var mine []string
		if !all {
			// the same departments as /stats: those headed and below
			mine = flowstats.ExpandDepts(depts, roots)
			q := r.URL.Query()
			d := q.Get("dept")
			if d == "" {
				q.Set("dept", mine[0])
				http.Redirect(w, r, r.URL.Path+"?"+q.Encode(), http.StatusFound)
				return
			}
			if !slices.Contains(mine, d) {
				http.Error(w, "你只能查看自己负责的部门："+strings.Join(mine, ", ")+" / you may only see your departments: "+strings.Join(mine, ", "),
					http.StatusForbidden)
				return
			}
		}
		ctx := context.WithValue(r.Context(), scopeKey{}, statsScope{all: all, depts: mine})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
