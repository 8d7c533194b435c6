// Package oidctest is an in-process OpenID provider for tests and local
// runs: a real discovery document, a JWKS, an authorization endpoint that
// signs in whoever the test (or the person at the browser) names, and a
// token endpoint that answers with RS256-signed ID tokens (go-jose). Tests
// bend the next token (wrong audience, issuer, nonce, expiry, key) with
// Provider.Tamper, to check that the relying party refuses it.
//
// It imports nothing of this repository; only tests and cmd/flowbot's
// local demo use it.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Account is a person the provider can sign in.
type Account struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Claims is the ID token about to be signed; Tamper may change it.
type Claims struct {
	Issuer        string           `json:"iss"`
	Subject       string           `json:"sub"`
	Audience      jwt.Audience     `json:"aud"`
	Expiry        *jwt.NumericDate `json:"exp"`
	IssuedAt      *jwt.NumericDate `json:"iat"`
	Nonce         string           `json:"nonce,omitempty"`
	Email         string           `json:"email,omitempty"`
	EmailVerified bool             `json:"email_verified"`
	Name          string           `json:"name,omitempty"`
}

// Provider is a running fake identity provider.
type Provider struct {
	URL      string // the issuer
	ClientID string
	Secret   string

	srv   *httptest.Server
	key   *rsa.PrivateKey
	other *rsa.PrivateKey // a key the JWKS does not publish

	mu       sync.Mutex
	accounts map[string]Account // by subject
	next     string             // subject signed in by /authorize without a form
	codes    map[string]grant
	tamper   func(*Claims)
	forged   bool
	now      func() time.Time
}

type grant struct {
	sub, nonce, challenge, redirect string
}

// Config of a Provider.
type Config struct {
	ClientID, Secret string // defaults "flowbot", "s3cret"
	Accounts         []Account
	// Now is the provider's clock (default time.Now).
	Now func() time.Time
}

// New starts a provider on a loopback port; Close stops it.
func New(cfg Config) *Provider {
	p := &Provider{ClientID: cfg.ClientID, Secret: cfg.Secret, accounts: map[string]Account{}, codes: map[string]grant{}, now: cfg.Now}
	if p.ClientID == "" {
		p.ClientID = "flowbot"
	}
	if p.Secret == "" {
		p.Secret = "s3cret"
	}
	if p.now == nil {
		p.now = time.Now
	}
	var err error
	if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err) // crypto/rand does not fail
	}
	if p.other, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	for _, a := range cfg.Accounts {
		p.accounts[a.Subject] = a
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	return p
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// AddAccount adds or replaces an account.
func (p *Provider) AddAccount(a Account) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accounts[a.Subject] = a
}

// SignInAs makes /authorize sign in subject at once, without showing its
// form (as an IdP with a live session does). "" shows the form again.
func (p *Provider) SignInAs(subject string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next = subject
}

// Tamper changes the claims of the ID tokens issued from now on (nil: no
// change). forge signs them with a key the JWKS does not publish.
func (p *Provider) Tamper(f func(*Claims), forge bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper, p.forged = f, forge
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

var formTmpl = template.Must(template.New("f").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>Fake IdP</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto}li{margin:.4rem 0}button{padding:.3rem .8rem}</style></head>
<body data-testid="idp"><h1>Fake identity provider</h1><p>Sign in to <b>{{.Client}}</b> as:</p><form method="post"><ul>
{{range .Accounts}}<li><button name="sub" value="{{.Subject}}" data-testid="idp-{{.Subject}}">{{.Name}} &lt;{{.Email}}&gt;</button></li>{{end}}
</ul>{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}</form></body></html>`))

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := r.Form
	redirect := f.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme == "" || f.Get("client_id") != p.ClientID || f.Get("response_type") != "code" {
		http.Error(w, "invalid_request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	sub := f.Get("sub")
	if sub == "" {
		sub = p.next
	}
	_, known := p.accounts[sub]
	if sub == "" || !known {
		accts := make([]Account, 0, len(p.accounts))
		for _, a := range p.accounts {
			accts = append(accts, a)
		}
		p.mu.Unlock()
		params := map[string]string{}
		for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method"} {
			params[k] = f.Get(k)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = formTmpl.Execute(w, map[string]any{"Client": p.ClientID, "Accounts": accts, "Params": params})
		return
	}
	code := randomString()
	p.codes[code] = grant{sub: sub, nonce: f.Get("nonce"), challenge: f.Get("code_challenge"), redirect: redirect}
	p.mu.Unlock()
	q := ru.Query()
	q.Set("code", code)
	q.Set("state", f.Get("state"))
	ru.RawQuery = q.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.Secret {
		tokenError(w, "invalid_client")
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // a code is used once
	acct := p.accounts[g.sub]
	tamper, forged := p.tamper, p.forged
	p.mu.Unlock()
	if !ok || g.redirect != r.PostForm.Get("redirect_uri") {
		tokenError(w, "invalid_grant")
		return
	}
	if g.challenge != "" {
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			tokenError(w, "invalid_grant")
			return
		}
	}
	now := p.now()
	c := Claims{
		Issuer: p.URL, Subject: acct.Subject, Audience: jwt.Audience{p.ClientID},
		Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now),
		Nonce: g.nonce, Email: acct.Email, EmailVerified: acct.EmailVerified, Name: acct.Name,
	}
	if tamper != nil {
		tamper(&c)
	}
	raw, err := p.Sign(c, forged)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"access_token": randomString(), "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
}

// Sign returns c as a compact RS256 JWT, signed with the published key or,
// when forged, with a key of the same shape that the JWKS does not list.
func (p *Provider) Sign(c Claims, forged bool) (string, error) {
	key := p.key
	if forged {
		key = p.other
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(sig).Claims(c).Serialize()
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
