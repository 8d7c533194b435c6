package teamstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Key ids of the fake's signing keys.
const (
	KidEndorsed   = "fake-msteams-key"
	KidUnendorsed = "fake-other-key"
	Issuer        = "https://api.botframework.com"
)

// Activity is one activity the bot posted or put, as the fake holds it.
type Activity struct {
	ID           string
	Conversation string
	Body         map[string]any
	Updates      int
}

// Card returns the activity's first Adaptive Card, or nil.
func (a Activity) Card() map[string]any {
	atts, _ := a.Body["attachments"].([]any)
	for _, x := range atts {
		att, _ := x.(map[string]any)
		if att["contentType"] == "application/vnd.microsoft.card.adaptive" {
			c, _ := att["content"].(map[string]any)
			return c
		}
	}
	return nil
}

// Text is the activity's text and its card's text, for assertions.
func (a Activity) Text() string {
	b, _ := json.Marshal(a.Body)
	return string(b)
}

// Server is the fake.
type Server struct {
	*httptest.Server
	endorsed, unendorsed *rsa.PrivateKey

	mu        sync.Mutex
	acts      []*Activity
	convs     map[string]string // user -> conversation id
	tokens    map[string]bool
	tokenHits int
	keyHits   int
	fail429   int
	failN     int    // next Connector calls to answer failSt
	failSt    int    // status of those answers (5xx, 429)
	failAfter string // their Retry-After header ("": none)
	calls     int
	seq       int

	onActivity func(Activity)
	emails     map[string]string
	graph      graphDir
}

// SetEmail sets the email the Connector gives for user (a 29: id).
func (s *Server) SetEmail(user, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emails[user] = email
}

// NewServer starts the fake with fresh signing keys.
func NewServer() *Server { return NewServerWithKeys(mustKey(), mustKey()) }

// NewServerOn starts the fake with fresh keys on ln (a fixed address, for
// the fake run by hand); onActivity, if set, is called with every
// activity the bot posts or updates.
func NewServerOn(ln net.Listener, onActivity func(Activity)) *Server {
	return newServer(mustKey(), mustKey(), ln, onActivity)
}

// NewServerWithKeys starts the fake with the given endorsed (msteams) and
// unendorsed signing keys (tests share keys: RSA keys are slow to make).
func NewServerWithKeys(endorsed, unendorsed *rsa.PrivateKey) *Server {
	return newServer(endorsed, unendorsed, nil, nil)
}

func newServer(endorsed, unendorsed *rsa.PrivateKey, ln net.Listener, onActivity func(Activity)) *Server {
	s := &Server{convs: map[string]string{}, tokens: map[string]bool{}, emails: map[string]string{}, endorsed: endorsed, unendorsed: unendorsed, onActivity: onActivity,
		graph: graphDir{tokens: map[string]bool{}, failIn: -1}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", s.metadata)
	mux.HandleFunc("GET /v1/.well-known/keys", s.jwks)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	mux.HandleFunc("GET /v1.0/users", s.graphUsers)
	mux.HandleFunc("GET /v1.0/users/delta", s.graphDelta)
	mux.HandleFunc("/teams/v3/conversations", s.connector)
	mux.HandleFunc("/teams/v3/conversations/", s.connector)
	s.Server = httptest.NewUnstartedServer(mux)
	if ln != nil {
		s.Server.Listener.Close()
		s.Server.Listener = ln
	}
	s.Server.Start()
	return s
}

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// MetadataURL is the OpenID metadata URL to configure.
func (s *Server) MetadataURL() string { return s.URL + "/v1/.well-known/openidconfiguration" }

// ServiceURL is the Connector's serviceUrl.
func (s *Server) ServiceURL() string { return s.URL + "/teams/" }

func (s *Server) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer": Issuer, "authorization_endpoint": "https://invalid.botframework.com",
		"jwks_uri": s.URL + "/v1/.well-known/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	})
}

func jwkOf(kid string, k *rsa.PrivateKey, endorse []string) map[string]any {
	return map[string]any{"kty": "RSA", "use": "sig", "kid": kid,
		"n":            base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		"endorsements": endorse}
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.keyHits++
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"keys": []any{
		jwkOf(KidEndorsed, s.endorsed, []string{"msteams", "skype"}),
		jwkOf(KidUnendorsed, s.unendorsed, []string{"webchat"}),
	}})
}

// KeyFetches counts JWKS fetches.
func (s *Server) KeyFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyHits
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") == "" || r.PostForm.Get("client_secret") == "" ||
		(r.PostForm.Get("scope") != "https://api.botframework.com/.default" && r.PostForm.Get("scope") != GraphScope) {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	tok := "fake-access-" + randHex(8)
	s.mu.Lock()
	if r.PostForm.Get("scope") == GraphScope {
		s.graph.tokens[tok] = true // a Graph token is not a Bot Framework token
	} else {
		s.tokens[tok] = true
	}
	s.tokenHits++
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": tok})
}

// TokenRequests counts token endpoint calls.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenHits
}

// Fail429 makes the next n Connector calls answer 429 with Retry-After: 0.
func (s *Server) Fail429(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail429 = n
}

// FailNext makes the next n Connector calls answer status (a 5xx, or a
// 429) with the Retry-After header retryAfter (seconds; "" for none).
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failSt, s.failAfter = n, status, retryAfter
}

// Calls counts Connector calls (including refused ones).
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *Server) connector(w http.ResponseWriter, r *http.Request) {
	var changed *Activity
	defer func() {
		if changed != nil && s.onActivity != nil {
			s.onActivity(*changed)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if !s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		writeJSON(w, 401, map[string]any{"error": map[string]string{"code": "Unauthorized", "message": "bad token"}})
		return
	}
	if s.failN > 0 {
		s.failN--
		if s.failAfter != "" {
			w.Header().Set("Retry-After", s.failAfter)
		}
		writeJSON(w, s.failSt, map[string]any{"error": map[string]string{"code": http.StatusText(s.failSt)}})
		return
	}
	if s.fail429 > 0 {
		s.fail429--
		w.Header().Set("Retry-After", "0")
		writeJSON(w, 429, map[string]any{"error": map[string]string{"code": "TooManyRequests"}})
		return
	}
	if r.Method == http.MethodGet { // GET /v3/conversations/{id}/members/{user}
		parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/teams/v3/conversations"), "/")
		if len(parts) != 4 || parts[2] != "members" {
			writeJSON(w, 404, map[string]any{"error": map[string]string{"code": "NotFound"}})
			return
		}
		user, err := pathUnescape(parts[3])
		if err != nil {
			writeJSON(w, 400, nil)
			return
		}
		writeJSON(w, 200, map[string]any{"id": user, "name": user, "email": s.emails[user], "userPrincipalName": s.emails[user]})
		return
	}
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"error": map[string]string{"code": "BadArgument", "message": err.Error()}})
		return
	}
	// Route on the escaped path: conversation ids hold ':', '@' and ';'.
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/teams/v3/conversations"), "/")
	switch {
	case len(parts) == 1 && r.Method == http.MethodPost: // create conversation
		members, _ := body["members"].([]any)
		if len(members) != 1 || body["isGroup"] == true {
			writeJSON(w, 400, map[string]any{"error": map[string]string{"code": "BadArgument"}})
			return
		}
		m, _ := members[0].(map[string]any)
		user, _ := m["id"].(string)
		conv, ok := s.convs[user]
		if !ok {
			conv = "a:1" + user + ";messageid=" + strconv.Itoa(len(s.convs))
			s.convs[user] = conv
		}
		writeJSON(w, 201, map[string]any{"id": conv})
	case len(parts) == 3 && parts[2] == "activities" && r.Method == http.MethodPost:
		conv, err := pathUnescape(parts[1])
		if err != nil {
			writeJSON(w, 400, nil)
			return
		}
		s.seq++
		id := fmt.Sprintf("1%012d", s.seq)
		a := &Activity{ID: id, Conversation: conv, Body: body}
		s.acts = append(s.acts, a)
		cp := *a
		changed = &cp
		writeJSON(w, 201, map[string]any{"id": id})
	case len(parts) == 4 && parts[2] == "activities" && r.Method == http.MethodPut:
		conv, err1 := pathUnescape(parts[1])
		id, err2 := pathUnescape(parts[3])
		if err1 != nil || err2 != nil {
			writeJSON(w, 400, nil)
			return
		}
		for _, a := range s.acts {
			if a.ID == id && a.Conversation == conv {
				a.Body = body
				a.Updates++
				cp := *a
				changed = &cp
				writeJSON(w, 200, map[string]any{"id": id})
				return
			}
		}
		writeJSON(w, 404, map[string]any{"error": map[string]string{"code": "ActivityNotFoundInConversation"}})
	default:
		writeJSON(w, 404, map[string]any{"error": map[string]string{"code": "NotFound"}})
	}
}

func pathUnescape(s string) (string, error) {
	// url.PathUnescape without importing net/url twice in callers.
	return unescape(s)
}

// Activities returns copies of the activities the bot posted.
func (s *Server) Activities() []Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Activity, len(s.acts))
	for i, a := range s.acts {
		out[i] = *a
	}
	return out
}

// ActivitiesIn returns the activities posted into a conversation.
func (s *Server) ActivitiesIn(conv string) []Activity {
	var out []Activity
	for _, a := range s.Activities() {
		if a.Conversation == conv {
			out = append(out, a)
		}
	}
	return out
}

// Activity returns the activity id.
func (s *Server) Activity(id string) (Activity, bool) {
	for _, a := range s.Activities() {
		if a.ID == id {
			return a, true
		}
	}
	return Activity{}, false
}

// PersonalConversation is the 1:1 conversation id the fake gives user
// (and that activities from user carry).
func (s *Server) PersonalConversation(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	conv, ok := s.convs[user]
	if !ok {
		conv = "a:1" + user + ";messageid=" + strconv.Itoa(len(s.convs))
		s.convs[user] = conv
	}
	return conv
}

// Claims are what a minted token says; zero values take valid defaults.
type Claims struct {
	Issuer     string
	Audience   string
	ServiceURL string
	NotBefore  time.Time
	Expires    time.Time
	// Kid picks the signing key (KidEndorsed by default); an unknown kid
	// signs with a fresh key the JWKS does not hold.
	Kid string
	// Alg: "RS256" (default), "none", or "HS256" (signed with the endorsed
	// public key's PEM bytes as the HMAC secret: the key-confusion attack).
	Alg string
	// Forge signs with a fresh key under the endorsed kid (a forged
	// signature).
	Forge bool
}

// Token mints a Bot Framework token for appID.
func (s *Server) Token(appID string, c Claims) string {
	now := time.Now()
	mc := jwt.MapClaims{
		"iss":        or(c.Issuer, Issuer),
		"aud":        or(c.Audience, appID),
		"serviceurl": or(c.ServiceURL, s.ServiceURL()),
		"nbf":        orTime(c.NotBefore, now.Add(-time.Minute)).Unix(),
		"exp":        orTime(c.Expires, now.Add(time.Hour)).Unix(),
		"iat":        now.Add(-time.Minute).Unix(),
	}
	kid := or(c.Kid, KidEndorsed)
	switch c.Alg {
	case "none":
		t := jwt.NewWithClaims(jwt.SigningMethodNone, mc)
		t.Header["kid"] = kid
		str, _ := t.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return str
	case "HS256":
		t := jwt.NewWithClaims(jwt.SigningMethodHS256, mc)
		t.Header["kid"] = kid
		der, _ := x509.MarshalPKIXPublicKey(&s.endorsed.PublicKey)
		str, _ := t.SignedString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		return str
	}
	key := s.endorsed
	switch kid {
	case KidEndorsed:
	case KidUnendorsed:
		key = s.unendorsed
	default:
		key = mustKey()
	}
	if c.Forge {
		key = mustKey()
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, mc)
	t.Header["kid"] = kid
	str, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return str
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orTime(a, b time.Time) time.Time {
	if !a.IsZero() {
		return a
	}
	return b
}

// Message builds a 1:1 message activity from user (a 29: id; aad is the
// AAD object id, "" for none) to the bot appID.
func (s *Server) Message(appID, user, aad, text string) map[string]any {
	return s.activity(appID, user, aad, "message", map[string]any{"text": text, "textFormat": "plain"})
}

// Invoke builds an adaptiveCard/action invoke: the click of an
// Action.Execute whose data is data (the card's inputs already merged),
// on the card activity replyTo.
func (s *Server) Invoke(appID, user, aad, verb string, data map[string]any, replyTo string) map[string]any {
	return s.activity(appID, user, aad, "invoke", map[string]any{
		"name": "adaptiveCard/action", "replyToId": replyTo,
		"value": map[string]any{"action": map[string]any{"type": "Action.Execute", "id": "act-" + randHex(3), "verb": verb, "data": data}, "trigger": "manual"},
	})
}

func (s *Server) activity(appID, user, aad, typ string, extra map[string]any) map[string]any {
	from := map[string]any{"id": user, "name": user}
	if aad != "" {
		from["aadObjectId"] = aad
	}
	a := map[string]any{
		"type": typ, "id": "f:" + randHex(8), "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"serviceUrl": s.ServiceURL(), "channelId": "msteams", "from": from,
		"recipient":    map[string]any{"id": "28:" + appID, "name": "flowbot"},
		"conversation": map[string]any{"id": s.PersonalConversation(user), "conversationType": "personal", "tenantId": "tenant-1"},
		"channelData":  map[string]any{"tenant": map[string]any{"id": "tenant-1"}},
		"locale":       "en-US",
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

// Response is the adapter's answer to a posted activity.
type Response struct {
	Status int
	Body   []byte
	// Invoke is the decoded invoke answer (for invokes answered 200).
	Invoke struct {
		StatusCode int             `json:"statusCode"`
		Type       string          `json:"type"`
		Value      json.RawMessage `json:"value"`
	}
}

// Card is the invoke answer's card, or nil.
func (r Response) Card() map[string]any {
	if r.Invoke.Type != "application/vnd.microsoft.card.adaptive" {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(r.Invoke.Value, &m)
	return m
}

// Post sends activity to the bot's endpoint with bearer token ("" for
// none), as the Bot Framework does.
func Post(h http.Handler, activity any, token string) Response {
	var body []byte
	switch b := activity.(type) {
	case []byte:
		body = b
	default:
		body, _ = json.Marshal(activity)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	r := Response{Status: w.Code, Body: w.Body.Bytes()}
	_ = json.Unmarshal(r.Body, &r.Invoke)
	return r
}

// Buttons lists a card's actions: title, verb and data.
func Buttons(card map[string]any) []Button {
	var out []Button
	acts, _ := card["actions"].([]any)
	for _, x := range acts {
		m, _ := x.(map[string]any)
		data, _ := m["data"].(map[string]any)
		title, _ := m["title"].(string)
		verb, _ := m["verb"].(string)
		out = append(out, Button{Title: title, Verb: verb, Data: data})
	}
	return out
}

// Button is a card action.
type Button struct {
	Title string
	Verb  string
	Data  map[string]any
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// PostURL posts activity to the bot's endpoint at url over HTTP (the fake
// run by hand).
func PostURL(ctx context.Context, url string, activity any, token string) (Response, error) {
	body, err := json.Marshal(activity)
	if err != nil {
		return Response{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := Response{Status: resp.StatusCode, Body: b}
	_ = json.Unmarshal(b, &r.Invoke)
	return r, nil
}

// Title is a card's first text.
func Title(card map[string]any) string {
	body, _ := card["body"].([]any)
	for _, x := range body {
		m, _ := x.(map[string]any)
		if t, ok := m["text"].(string); ok {
			return t
		}
		items, _ := m["items"].([]any)
		for _, y := range items {
			n, _ := y.(map[string]any)
			if t, ok := n["text"].(string); ok {
				return t
			}
		}
	}
	return ""
}
