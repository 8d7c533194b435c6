package signin_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/signin"
	"github.com/flowbot/flowbot/signin/oidctest"
)

// testBundle is one relying party (a site with a protected /ui/) wired to
// one fake identity provider.
type testBundle struct {
	idp    *oidctest.Provider
	rp     *httptest.Server
	svc    *signin.Service
	store  signin.Store
	clock  *testkit.Clock
	dbPath string
	calls  atomic.Int64 // requests that reached the protected handler
	client *http.Client
}

var directory = map[string]string{"zhang.wei@example.com": "zhang.wei", "li.lei@example.com": "li.lei"}

func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{clock: testkit.NewClock(time.Now().UTC())}
	b.idp = oidctest.New(oidctest.Config{Now: b.clock.Now, Accounts: []oidctest.Account{
		{Subject: "u1", Email: "zhang.wei@example.com", EmailVerified: true, Name: "Zhang Wei"},
		{Subject: "u2", Email: "li.lei@example.com", EmailVerified: true, Name: "Li Lei"},
		{Subject: "u3", Email: "stranger@example.com", EmailVerified: true, Name: "Stranger"},
		{Subject: "u4", Email: "li.lei@example.com", EmailVerified: false, Name: "Not Li Lei"},
	}})
	t.Cleanup(b.idp.Close)
	mux := http.NewServeMux()
	b.rp = httptest.NewServer(mux)
	t.Cleanup(b.rp.Close)
	b.dbPath = filepath.Join(t.TempDir(), "flowbot.db")
	b.store = testkit.OpenSQLiteFile(t, b.dbPath).Sessions()
	var err error
	b.svc, err = signin.New(context.Background(), signin.Config{
		Issuer: b.idp.URL, ClientID: b.idp.ClientID, ClientSecret: b.idp.Secret, RedirectURL: b.rp.URL + "/auth/callback",
		Store: b.store, Now: b.clock.Now, SessionTTL: time.Hour, Logger: slog.New(slog.DiscardHandler),
		Match: signin.MatcherFunc(func(ctx context.Context, id signin.Identity) (string, error) {
			if u, ok := directory[id.Email]; ok && id.EmailVerified {
				return u, nil
			}
			return "", signin.ErrUnknownUser
		}),
	})
	require.NoError(t, err)
	mux.Handle("/auth/", http.StripPrefix("/auth", b.svc.Handler()))
	mux.Handle("/ui/", b.svc.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		u, _ := signin.UserFrom(r.Context())
		io.WriteString(w, r.Method+" as "+u.User)
	})))
	b.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return b
}

// do sends a request with the given cookies and headers.
func (b *testBundle) do(t *testing.T, method, u string, body io.Reader, cookies []*http.Cookie, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	require.NoError(t, err)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// begin leaves for the provider: it returns the sign-in cookie and the
// provider's redirect back to the callback (code and state).
func (b *testBundle) begin(t *testing.T, subject string) (*http.Cookie, *url.URL) {
	t.Helper()
	b.idp.SignInAs(subject)
	resp := b.do(t, "GET", b.rp.URL+"/auth/login?next=/ui/inbox", nil, nil, nil)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	lc := cookieNamed(resp, "flowbot_signin")
	require.NotNil(t, lc, "sign-in cookie set")
	require.True(t, lc.HttpOnly && lc.Secure, "sign-in cookie HttpOnly and Secure")
	at := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(at, b.idp.URL+"/authorize?"), "got %s", at)
	resp = b.do(t, "GET", at, nil, nil, nil)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return lc, back
}

// signIn runs a whole sign-in and returns the session cookie.
func (b *testBundle) signIn(t *testing.T, subject string) *http.Cookie {
	t.Helper()
	lc, back := b.begin(t, subject)
	resp := b.do(t, "GET", back.String(), nil, []*http.Cookie{lc}, nil)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/ui/inbox", resp.Header.Get("Location"), "back to the page asked for")
	sc := cookieNamed(resp, "__Host-flowbot_session")
	require.NotNil(t, sc, "session cookie set")
	return sc
}

func (b *testBundle) sessions(t *testing.T) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", b.dbPath)
	require.NoError(t, err)
	defer db.Close()
	var n int64
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM web_sessions`).Scan(&n))
	return n
}

func (b *testBundle) csrf(t *testing.T, sc *http.Cookie) string {
	t.Helper()
	resp := b.do(t, "GET", b.rp.URL+"/auth/session", nil, []*http.Cookie{sc}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var info struct {
		User      string `json:"user"`
		CSRFToken string `json:"csrf_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	require.NotEmpty(t, info.CSRFToken)
	return info.CSRFToken
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestSignInStartsSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := b.signIn(t, "u1")
	require.True(t, sc.HttpOnly, "session cookie is HttpOnly")
	require.True(t, sc.Secure, "session cookie is Secure")
	require.Equal(t, http.SameSiteLaxMode, sc.SameSite)
	require.Equal(t, "/", sc.Path)

	resp := b.do(t, "GET", b.rp.URL+"/ui/inbox", nil, []*http.Cookie{sc}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "GET as zhang.wei", readAll(t, resp))

	tok := b.csrf(t, sc)
	resp = b.do(t, "POST", b.rp.URL+"/ui/send", strings.NewReader("{}"), []*http.Cookie{sc},
		map[string]string{signin.CSRFHeader: tok, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "POST as zhang.wei", readAll(t, resp))

	form := url.Values{signin.CSRFField: {tok}}
	resp = b.do(t, "POST", b.rp.URL+"/ui/form", strings.NewReader(form.Encode()), []*http.Cookie{sc},
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "the token also counts as a form field")
	require.EqualValues(t, 1, b.sessions(t))

	other := b.signIn(t, "u2")
	require.NotEqual(t, tok, b.csrf(t, other), "each session has its own CSRF token")
}

func TestSignInRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		subject string
		tamper  func(*oidctest.Claims)
		forge   bool
		// cookie / callback changes before coming back
		edit   func(lc *http.Cookie, back *url.URL) []*http.Cookie
		before func(b *testBundle)
		status int
		page   string
	}{
		{name: "forged signature", subject: "u1", forge: true, status: http.StatusForbidden, page: "Sign-in did not complete"},
		{name: "expired ID token", subject: "u1", tamper: func(c *oidctest.Claims) {
			c.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Hour))
		}, status: http.StatusForbidden, page: "Sign-in did not complete"},
		{name: "wrong audience", subject: "u1", tamper: func(c *oidctest.Claims) { c.Audience = jwt.Audience{"someone-else"} }, status: http.StatusForbidden, page: "Sign-in did not complete"},
		{name: "wrong issuer", subject: "u1", tamper: func(c *oidctest.Claims) { c.Issuer = "https://evil.example" }, status: http.StatusForbidden, page: "Sign-in did not complete"},
		{name: "nonce mismatch", subject: "u1", tamper: func(c *oidctest.Claims) { c.Nonce = "replayed-nonce" }, status: http.StatusForbidden, page: "Sign-in did not complete"},
		{name: "state mismatch", subject: "u1", edit: func(lc *http.Cookie, back *url.URL) []*http.Cookie {
			q := back.Query()
			q.Set("state", "attacker-state")
			back.RawQuery = q.Encode()
			return []*http.Cookie{lc}
		}, status: http.StatusBadRequest, page: "Sign-in did not complete"},
		{name: "no sign-in cookie (login CSRF)", subject: "u1", edit: func(lc *http.Cookie, back *url.URL) []*http.Cookie { return nil },
			status: http.StatusBadRequest, page: "Sign-in did not complete"},
		{name: "tampered sign-in cookie", subject: "u1", edit: func(lc *http.Cookie, back *url.URL) []*http.Cookie {
			return []*http.Cookie{{Name: lc.Name, Value: "not-base64!"}}
		}, status: http.StatusBadRequest, page: "Sign-in did not complete"},
		{name: "code used twice", subject: "u1", edit: func(lc *http.Cookie, back *url.URL) []*http.Cookie {
			return []*http.Cookie{lc}
		}, before: nil, status: 0},
		{name: "sign-in too slow", subject: "u1", before: func(b *testBundle) { b.clock.Add(signin.LoginTTL + time.Minute) },
			status: http.StatusBadRequest, page: "Sign-in did not complete"},
		{name: "provider error", subject: "u1", edit: func(lc *http.Cookie, back *url.URL) []*http.Cookie {
			q := back.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			back.RawQuery = q.Encode()
			return []*http.Cookie{lc}
		}, status: http.StatusForbidden, page: "Sign-in did not complete"},
		{name: "unknown user", subject: "u3", status: http.StatusForbidden, page: "You are not in the directory"},
		{name: "unverified email", subject: "u4", status: http.StatusForbidden, page: "你不在通讯录中"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.status == 0 {
				// the code-reuse case: a first callback succeeds, the
				// second with the same code and cookie is refused
				b := setup(t)
				lc, back := b.begin(t, tt.subject)
				resp := b.do(t, "GET", back.String(), nil, []*http.Cookie{lc}, nil)
				require.Equal(t, http.StatusFound, resp.StatusCode)
				resp = b.do(t, "GET", back.String(), nil, []*http.Cookie{lc}, nil)
				require.Equal(t, http.StatusBadGateway, resp.StatusCode)
				require.Nil(t, cookieNamed(resp, "__Host-flowbot_session"))
				require.EqualValues(t, 1, b.sessions(t), "only the first sign-in made a session")
				return
			}
			b := setup(t)
			b.idp.Tamper(tt.tamper, tt.forge)
			lc, back := b.begin(t, tt.subject)
			if tt.before != nil {
				tt.before(b)
			}
			cookies := []*http.Cookie{lc}
			if tt.edit != nil {
				cookies = tt.edit(lc, back)
			}
			resp := b.do(t, "GET", back.String(), nil, cookies, nil)
			require.Equal(t, tt.status, resp.StatusCode)
			require.Contains(t, readAll(t, resp), tt.page)
			require.Nil(t, cookieNamed(resp, "__Host-flowbot_session"), "no session cookie")
			require.Zero(t, b.sessions(t), "no session row")
		})
	}
}

func TestRequireWithoutSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp := b.do(t, "GET", b.rp.URL+"/ui/dashboard/?flow=leave", nil, nil, map[string]string{"Accept": "text/html"})
	require.Equal(t, http.StatusFound, resp.StatusCode, "a page load is sent to sign in")
	require.Equal(t, "/auth/login?next="+url.QueryEscape("/ui/dashboard/?flow=leave"), resp.Header.Get("Location"))

	resp = b.do(t, "GET", b.rp.URL+"/ui/api/history", nil, nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "an API call gets 401")
	require.Contains(t, readAll(t, resp), "sign in first")

	resp = b.do(t, "GET", b.rp.URL+"/ui/api/history", nil, []*http.Cookie{{Name: "__Host-flowbot_session", Value: "made-up"}}, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a made-up cookie")
	require.Zero(t, b.calls.Load())
}

func TestLoginRefusesOpenRedirect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
		b.idp.SignInAs("u1")
		resp := b.do(t, "GET", b.rp.URL+"/auth/login?next="+url.QueryEscape(next), nil, nil, nil)
		lc := cookieNamed(resp, "flowbot_signin")
		resp = b.do(t, "GET", resp.Header.Get("Location"), nil, nil, nil)
		resp = b.do(t, "GET", resp.Header.Get("Location"), nil, []*http.Cookie{lc}, nil)
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Equal(t, "/ui/", resp.Header.Get("Location"), "next=%q lands home, not away", next)
	}
}

func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := b.signIn(t, "u1")
	tok := b.csrf(t, sc)
	otherTok := b.csrf(t, b.signIn(t, "u2"))
	tests := []struct {
		name string
		hdr  map[string]string
		want string
	}{
		{"missing token", map[string]string{"Sec-Fetch-Site": "same-origin"}, "CSRF"},
		{"wrong token", map[string]string{"Sec-Fetch-Site": "same-origin", signin.CSRFHeader: "x" + tok[1:]}, "CSRF"},
		{"token of another session", map[string]string{"Sec-Fetch-Site": "same-origin", signin.CSRFHeader: otherTok}, "CSRF"},
		{"cross-site POST with the right token", map[string]string{"Sec-Fetch-Site": "cross-site", signin.CSRFHeader: tok}, "cross-site"},
		{"same-site sibling POST", map[string]string{"Sec-Fetch-Site": "same-site", signin.CSRFHeader: tok}, "cross-site"},
		{"foreign Origin without Sec-Fetch-Site", map[string]string{"Origin": "https://evil.example", signin.CSRFHeader: tok}, "cross-site"},
	}
	for _, tt := range tests {
		for _, method := range []string{"POST", "PUT", "DELETE", "PATCH"} {
			resp := b.do(t, method, b.rp.URL+"/ui/api/send", strings.NewReader(`{"text":"/leave"}`), []*http.Cookie{sc}, tt.hdr)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s", tt.name, method)
			require.Contains(t, readAll(t, resp), tt.want, tt.name)
		}
	}
	require.Zero(t, b.calls.Load(), "no refused request reached the handler")
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := b.signIn(t, "u1")
	b.clock.Add(time.Hour + time.Second)
	resp := b.do(t, "GET", b.rp.URL+"/ui/api/history", nil, []*http.Cookie{sc}, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, readAll(t, resp), "expired")
	resp = b.do(t, "GET", b.rp.URL+"/ui/", nil, []*http.Cookie{sc}, map[string]string{"Accept": "text/html"})
	require.Equal(t, http.StatusFound, resp.StatusCode, "the page sends to sign in again")
	require.Zero(t, b.sessions(t), "the expired row was removed")
	require.Zero(t, b.calls.Load())
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := b.signIn(t, "u1")
	tok := b.csrf(t, sc)

	resp := b.do(t, "POST", b.rp.URL+"/auth/logout", nil, []*http.Cookie{sc}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "sign-out without the token is refused (no forced logout)")
	require.EqualValues(t, 1, b.sessions(t))
	resp = b.do(t, "GET", b.rp.URL+"/ui/", nil, []*http.Cookie{sc}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the session still works")

	resp = b.do(t, "POST", b.rp.URL+"/auth/logout", nil, []*http.Cookie{sc}, map[string]string{"Sec-Fetch-Site": "same-origin", signin.CSRFHeader: tok})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/auth/signed-out", resp.Header.Get("Location"))
	gone := cookieNamed(resp, "__Host-flowbot_session")
	require.NotNil(t, gone)
	require.Less(t, gone.MaxAge, 0, "the cookie is cleared")
	require.Zero(t, b.sessions(t), "the row is deleted")

	resp = b.do(t, "GET", b.rp.URL+"/ui/api/history", nil, []*http.Cookie{sc}, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a signed-out cookie reused is refused")
	resp = b.do(t, "POST", b.rp.URL+"/ui/api/send", nil, []*http.Cookie{sc}, map[string]string{signin.CSRFHeader: tok})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp = b.do(t, "GET", b.rp.URL+"/auth/signed-out", nil, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body := readAll(t, resp)
	require.Contains(t, body, "已退出登录")
	require.Contains(t, body, "Signed out")
}

func TestNewNeedsProvider(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	st := testkit.OpenSQLite(t).Sessions()
	m := signin.MatcherFunc(func(context.Context, signin.Identity) (string, error) { return "", nil })
	_, err := signin.New(context.Background(), signin.Config{Issuer: dead.URL, ClientID: "c", RedirectURL: "http://x/cb", Store: st, Match: m})
	require.Error(t, err, "an unreachable issuer fails at start, not at the first sign-in")
	_, err = signin.New(context.Background(), signin.Config{ClientID: "c", RedirectURL: "http://x/cb", Store: st, Match: m})
	require.Error(t, err)
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"/ui/": true, "/ui/dashboard/?flow=leave": true, "": false, "ui/": false, "//evil.example": false,
		"/\\evil.example": false, "https://evil.example/": false, "/ui/\x00": false, "/ui\r\nSet-Cookie: x": false,
	} {
		require.Equal(t, want, signin.LocalPath(p), "%q", p)
	}
}

func TestDecodeLoginState(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", "!!!", "e30", strings.Repeat("A", 5000)} { // e30 = {}
		_, err := signin.DecodeLoginState(v)
		require.Error(t, err, "%q", v)
	}
}
