package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/signin/oidctest"
)

// signedInApp is flowbot outside demo mode with sign-in against a fake
// identity provider whose accounts are people of examples/org.yaml.
type signedInApp struct {
	*running
	idp *oidctest.Provider
}

func startSignedIn(t *testing.T) *signedInApp {
	t.Helper()
	idp := oidctest.New(oidctest.Config{Accounts: []oidctest.Account{
		{Subject: "s-han", Email: "HanMeimei@example.com", EmailVerified: true, Name: "韩梅梅"},
		{Subject: "s-li", Email: "lilei@example.com", EmailVerified: true, Name: "李雷"},
		{Subject: "s-wang", Email: "wang@example.com", EmailVerified: true, Name: "王总"},
		{Subject: "s-x", Email: "stranger@example.com", EmailVerified: true, Name: "Stranger"},
	}})
	t.Cleanup(idp.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	cfg := testConfig(t.TempDir())
	cfg.Playground.Demo = false
	cfg.SignIn = SignInConfig{Enabled: true, Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.Secret,
		RedirectURL: base + "/auth/callback", InsecureCookies: true}
	require.NoError(t, cfg.Validate())
	logs := &syncBuffer{}
	dumpOnFailure(t, "flowbot log", logs)
	a, err := newApp(context.Background(), cfg, logs)
	require.NoError(t, err)
	t.Cleanup(a.close)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{app: a, base: base, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-r.done })
	return &signedInApp{running: r, idp: idp}
}

// browser is one person's cookie jar.
type browser struct {
	t    *testing.T
	c    *http.Client
	csrf string
}

// signIn opens /ui/ as subject: sent to the provider and back, signed in.
func (s *signedInApp) signIn(t *testing.T, subject string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	b := &browser{t: t, c: &http.Client{Jar: jar}}
	s.idp.SignInAs(subject)
	code, body := b.get(s.base+"/ui/", "text/html")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "flowbot playground", "back on the playground after signing in")
	code, body = b.get(s.base+"/auth/session", "")
	require.Equal(t, http.StatusOK, code, body)
	var info struct {
		CSRFToken string `json:"csrf_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	b.csrf = info.CSRFToken
	return b
}

func (b *browser) get(u, accept string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	require.NoError(b.t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) post(u string, v any, csrf string) (int, string) {
	b.t.Helper()
	js, _ := json.Marshal(v)
	req, err := http.NewRequest("POST", u, bytes.NewReader(js))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestSignedInPlayground: outside demo mode the playground asks to sign
// in, then acts as the signed-in user only; state-changing calls need the
// session's CSRF token; the demo clock is gone; a stranger is refused.
func TestSignedInPlayground(t *testing.T) {
	t.Parallel()
	s := startSignedIn(t)

	anon := &browser{t: t, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	code, _ := anon.get(s.base+"/ui/", "text/html")
	require.Equal(t, http.StatusFound, code, "a page load without a session is sent to sign in")
	code, _ = anon.post(s.base+"/ui/api/send", map[string]string{"user": applicant, "text": "/help"}, "")
	require.Equal(t, http.StatusUnauthorized, code)

	han := s.signIn(t, "s-han")
	code, body := han.get(s.base+"/ui/api/config", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"user":"hanmeimei"`, "matched by email, case-insensitively")
	require.Contains(t, body, `"demo":false`)
	code, body = han.get(s.base+"/ui/api/users", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, applicant)
	require.NotContains(t, body, approver, "no picker of other people")

	code, body = han.post(s.base+"/ui/api/send", map[string]string{"user": applicant, "text": "/help"}, han.csrf)
	require.Equal(t, http.StatusOK, code, body)
	code, body = han.post(s.base+"/ui/api/send", map[string]string{"user": approver, "text": "/todo"}, han.csrf)
	require.Equal(t, http.StatusForbidden, code, "acting as someone else: %s", body)
	code, body = han.post(s.base+"/ui/api/send", map[string]string{"user": applicant, "text": "/help"}, "")
	require.Equal(t, http.StatusForbidden, code, "no CSRF token: %s", body)
	require.Contains(t, body, "CSRF")
	code, _ = han.post(s.base+"/ui/api/clock", map[string]string{"advance": "24h"}, han.csrf)
	require.Equal(t, http.StatusNotFound, code, "no demo clock outside demo mode")

	jar, _ := cookiejar.New(nil)
	stranger := &browser{t: t, c: &http.Client{Jar: jar}}
	s.idp.SignInAs("s-x")
	code, body = stranger.get(s.base+"/ui/", "text/html")
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "You are not in the directory")
	require.Contains(t, body, "你不在通讯录中")
}

// TestSignedInDashboard: the dashboard follows flows.StatsScope for the
// signed-in user: an employee is refused, a department head sees only
// their department, an admin sees everything.
func TestSignedInDashboard(t *testing.T) {
	t.Parallel()
	s := startSignedIn(t)
	// one request from eng and one from sales, so both have figures
	for _, who := range []string{applicant, "zhaomin"} {
		_, err := s.app.engine.Submit(context.Background(), flows.SubmitRequest{Actor: who, FlowID: "expense", Values: map[string]any{
			"amount": 100, "category": "travel", "description": "taxi",
		}})
		require.NoError(t, err)
	}
	han := s.signIn(t, "s-han")
	code, body := han.get(s.base+"/ui/dashboard/?lang=en", "text/html")
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, "you may not see statistics")

	li := s.signIn(t, "s-li") // heads eng
	code, body = li.get(s.base+"/ui/dashboard/?lang=en", "text/html")
	require.Equal(t, http.StatusOK, code, body)
	code, body = li.get(s.base+"/ui/dashboard/?lang=en&dept=sales", "text/html")
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "you may only see your departments: eng")
	code, _ = li.get(s.base+"/ui/dashboard/csv?dept=sales", "")
	require.Equal(t, http.StatusForbidden, code, "nor as CSV")

	noFollow := &http.Client{Jar: li.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(s.base + "/ui/dashboard/?lang=en")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/ui/dashboard/?dept=eng&lang=en", resp.Header.Get("Location"), "a head is narrowed to their department")

	wang := s.signIn(t, "s-wang") // admin
	code, body = wang.get(s.base+"/ui/dashboard/?lang=en", "text/html")
	require.Equal(t, http.StatusOK, code, body)

	// The overdue list follows the same scope.
	s.app.clock.offset.Store(int64(10 * 24 * time.Hour))
	_, body = li.get(s.base+"/ui/dashboard/?lang=en&dept=eng", "text/html")
	require.Regexp(t, `EXP-\d{8}-0001`, body, "eng's overdue request")
	require.NotRegexp(t, `EXP-\d{8}-0002`, body, "not sales' one")
	_, body = wang.get(s.base+"/ui/dashboard/?lang=en", "text/html")
	require.Regexp(t, `EXP-\d{8}-0001`, body)
	require.Regexp(t, `EXP-\d{8}-0002`, body, "an admin sees every overdue request")
	code, _ = wang.get(s.base+"/ui/dashboard/?lang=en&dept=sales", "text/html")
	require.Equal(t, http.StatusOK, code)
}

// TestSignedOutSessionRefused: after signing out through the playground's
// form, the old cookie no longer works.
func TestSignedOutSessionRefused(t *testing.T) {
	t.Parallel()
	s := startSignedIn(t)
	han := s.signIn(t, "s-han")
	req, err := http.NewRequest("POST", s.base+"/auth/logout", strings.NewReader("csrf_token="+han.csrf))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := han.c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "Signed out")
	code, _ := han.get(s.base+"/ui/api/config", "")
	require.Equal(t, http.StatusUnauthorized, code)
}

func TestSignInConfig(t *testing.T) {
	t.Parallel()
	ok := SignInConfig{Enabled: true, Issuer: "https://idp.example.com", ClientID: "flowbot", RedirectURL: "https://flowbot.example.com/auth/callback"}
	tests := []struct {
		name string
		edit func(c *SignInConfig, pg *PlaygroundConfig)
		want string
	}{
		{"ok", func(*SignInConfig, *PlaygroundConfig) {}, ""},
		{"no issuer", func(c *SignInConfig, _ *PlaygroundConfig) { c.Issuer = "" }, "sign_in.issuer"},
		{"http issuer", func(c *SignInConfig, _ *PlaygroundConfig) { c.Issuer = "http://idp.example.com" }, "sign_in.issuer"},
		{"no client", func(c *SignInConfig, _ *PlaygroundConfig) { c.ClientID = "" }, "sign_in.client_id"},
		{"wrong callback", func(c *SignInConfig, _ *PlaygroundConfig) { c.RedirectURL = "https://flowbot.example.com/cb" }, "sign_in.redirect_url"},
		{"http redirect", func(c *SignInConfig, _ *PlaygroundConfig) { c.RedirectURL = "http://flowbot.example.com/auth/callback" }, "sign_in.redirect_url"},
		{"insecure off localhost", func(c *SignInConfig, _ *PlaygroundConfig) {
			c.InsecureCookies = true
			c.RedirectURL = "http://flowbot.example.com/auth/callback"
		}, "sign_in.insecure_cookies"},
		{"insecure on localhost", func(c *SignInConfig, _ *PlaygroundConfig) {
			c.InsecureCookies = true
			c.RedirectURL = "http://127.0.0.1:8080/auth/callback"
		}, ""},
		{"bad match", func(c *SignInConfig, _ *PlaygroundConfig) { c.Match = "name" }, "sign_in.match"},
		{"negative ttl", func(c *SignInConfig, _ *PlaygroundConfig) { c.SessionTTL = -time.Hour }, "sign_in.session_ttl"},
		{"with demo", func(_ *SignInConfig, pg *PlaygroundConfig) { pg.Demo = true }, "sign_in.enabled"},
	}
	for _, tt := range tests {
		c, pg := ok, PlaygroundConfig{Enabled: true}
		tt.edit(&c, &pg)
		var got []string
		c.validate(pg, func(key, format string, a ...any) { got = append(got, key) })
		if tt.want == "" {
			require.Empty(t, got, tt.name)
		} else {
			require.Contains(t, got, tt.want, tt.name)
		}
	}
}

// The digest links the dashboard where it is served: behind sign-in, at
// the public host of the redirect URL.
func TestDashboardURLBehindSignIn(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	cfg.Playground.Demo = false
	require.Empty(t, dashboardURL(cfg), "neither demo nor sign-in: no dashboard, no link")
	cfg.SignIn = SignInConfig{Enabled: true, RedirectURL: "https://flowbot.example.com/auth/callback"}
	require.Equal(t, "https://flowbot.example.com/ui/dashboard/", dashboardURL(cfg))
}
