package signin

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Prefix is where the sign-in routes are mounted (with
// http.StripPrefix("/auth", Handler())): Require sends page loads to
// Prefix+"login", and the pages link there.
const Prefix = "/auth/"

// Handler serves the sign-in routes, to be mounted at Prefix:
//
//	GET  /login     leave for the identity provider (?next=/ui/dashboard/)
//	GET  /callback  come back with a code; start a session
//	POST /logout    end the session (CSRF-checked)
//	GET  /session   the signed-in user and CSRF token, as JSON (401 if none)
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("GET /callback", s.callback)
	mux.Handle("POST /logout", s.Require(http.HandlerFunc(s.logout)))
	mux.HandleFunc("GET /signed-out", func(w http.ResponseWriter, r *http.Request) { s.page(w, http.StatusOK, pageSignedOut) })
	mux.Handle("GET /session", s.Require(http.HandlerFunc(s.session)))
	return noStore(mux)
}

func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

// loginState is what the browser keeps, in an HttpOnly cookie, between
// leaving for the provider and coming back: the callback must bring the
// same state, and the ID token the same nonce.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"` // PKCE
	Next     string `json:"r"`
	At       int64  `json:"t"` // unix seconds
}

// maxLoginCookie bounds the cookie a callback will decode.
const maxLoginCookie = 2048

// DecodeLoginState parses the sign-in cookie's value; every field must be
// present and Next a local path.
func DecodeLoginState(v string) (loginState, error) {
	var ls loginState
	if len(v) > maxLoginCookie {
		return ls, errors.New("sign-in cookie too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return ls, fmt.Errorf("decode sign-in cookie: %w", err)
	}
	if err := json.Unmarshal(b, &ls); err != nil {
		return ls, fmt.Errorf("decode sign-in cookie: %w", err)
	}
	if ls.State == "" || ls.Nonce == "" || ls.Verifier == "" || ls.At <= 0 {
		return ls, errors.New("sign-in cookie incomplete")
	}
	if !LocalPath(ls.Next) {
		return ls, errors.New("sign-in cookie: next is not a local path")
	}
	return ls, nil
}

func (ls loginState) encode() string {
	b, _ := json.Marshal(ls) // plain strings and an int
	return base64.RawURLEncoding.EncodeToString(b)
}

// LocalPath reports whether p is a path on this site that a sign-in may
// return to: absolute, no scheme or host, no "//" or "/\" (which browsers
// read as another host), no control characters.
func LocalPath(p string) bool {
	if p == "" || len(p) > 512 || p[0] != '/' {
		return false
	}
	if strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !LocalPath(next) {
		next = s.cfg.Home
	}
	ls := loginState{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Next: next, At: s.now().Unix()}
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: ls.encode(), Path: "/", MaxAge: int(LoginTTL / time.Second),
		HttpOnly: true, Secure: !s.cfg.Insecure, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, s.oauth.AuthCodeURL(ls.State, oidc.Nonce(ls.Nonce), oauth2.S256ChallengeOption(ls.Verifier)), http.StatusFound)
}

// callback finishes a sign-in. Every failure shows a page that says what
// to do, logs the reason, and starts no session.
func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := r.Cookie(loginCookie)
	// The sign-in cookie is used once, whatever happens.
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: !s.cfg.Insecure, SameSite: http.SameSiteLaxMode})
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, pageRetry, "no sign-in cookie (expired, or another browser)")
		return
	}
	ls, err := DecodeLoginState(c.Value)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, pageRetry, err.Error())
		return
	}
	if s.now().Sub(time.Unix(ls.At, 0)) > LoginTTL {
		s.refuse(w, r, http.StatusBadRequest, pageRetry, "sign-in took longer than "+LoginTTL.String())
		return
	}
	if e := q.Get("error"); e != "" {
		s.refuse(w, r, http.StatusForbidden, pageRetry, "provider answered "+trunc(e, 64))
		return
	}
	if st := q.Get("state"); st == "" || !constantEqual(st, ls.State) {
		s.refuse(w, r, http.StatusBadRequest, pageRetry, "state does not match the sign-in cookie")
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		s.refuse(w, r, http.StatusBadRequest, pageRetry, "no code")
		return
	}
	ctx := oidc.ClientContext(r.Context(), s.cfg.HTTPClient)
	tok, err := s.oauth.Exchange(ctx, code, oauth2.VerifierOption(ls.Verifier))
	if err != nil {
		s.refuse(w, r, http.StatusBadGateway, pageRetry, "exchange code: "+err.Error())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.refuse(w, r, http.StatusBadGateway, pageRetry, "the provider sent no ID token")
		return
	}
	idt, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		s.refuse(w, r, http.StatusForbidden, pageRetry, "verify ID token: "+err.Error())
		return
	}
	if !constantEqual(idt.Nonce, ls.Nonce) {
		s.refuse(w, r, http.StatusForbidden, pageRetry, "ID token nonce does not match the sign-in cookie")
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		s.refuse(w, r, http.StatusForbidden, pageRetry, "read ID token claims: "+err.Error())
		return
	}
	id := Identity{Issuer: idt.Issuer, Subject: idt.Subject, Email: claims.Email, Name: claims.Name,
		EmailVerified: claims.EmailVerified != nil && *claims.EmailVerified}
	user, err := s.cfg.Match.MatchUser(r.Context(), id)
	if errors.Is(err, ErrUnknownUser) {
		s.refuse(w, r, http.StatusForbidden, pageUnknown, fmt.Sprintf("no directory user for subject %q email %q", id.Subject, id.Email))
		return
	}
	if err != nil {
		s.log.Error("match user", "err", err)
		s.page(w, http.StatusServiceUnavailable, pageUnavailable)
		return
	}
	secret := randomToken()
	now := s.now()
	sess := &Session{Hash: hashSecret(secret), User: user, Issuer: id.Issuer, Subject: id.Subject, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.cfg.Store.CreateSession(r.Context(), sess); err != nil {
		s.log.Error("create session", "err", err)
		s.page(w, http.StatusServiceUnavailable, pageUnavailable)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.sessionCookie(), Value: secret, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: !s.cfg.Insecure, SameSite: http.SameSiteLaxMode,
	})
	s.log.Info("signed in", "user", user, "subject", id.Subject)
	http.Redirect(w, r, ls.Next, http.StatusFound)
}

func (s *Service) refuse(w http.ResponseWriter, r *http.Request, status int, p page, reason string) {
	s.log.Warn("sign-in refused", "reason", reason, "remote", r.RemoteAddr)
	s.page(w, status, p)
}

func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.sessionCookie()); err == nil {
		if err := s.cfg.Store.DeleteSession(r.Context(), hashSecret(c.Value)); err != nil {
			s.log.Error("delete session", "err", err)
			s.page(w, http.StatusServiceUnavailable, pageUnavailable)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: !s.cfg.Insecure, SameSite: http.SameSiteLaxMode})
	if u, ok := UserFrom(r.Context()); ok {
		s.log.Info("signed out", "user", u.User)
	}
	http.Redirect(w, r, Prefix+"signed-out", http.StatusSeeOther)
}

// sessionInfo is the answer of GET /session.
type sessionInfo struct {
	User      string    `json:"user"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Service) session(w http.ResponseWriter, r *http.Request) {
	u, _ := UserFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sessionInfo{User: u.User, CSRFToken: u.CSRF, ExpiresAt: u.ExpiresAt})
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
