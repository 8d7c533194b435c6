package feishutest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// App is an app known to the fake.
type App struct {
	ID                string
	Secret            string
	EncryptKey        string
	VerificationToken string
	// Webhook is the adapter's /webhook/feishu URL, for http-mode apps.
	Webhook   string
	TenantKey string
	// BotOpenID is the bot's open_id served by /open-apis/bot/v3/info
	// (default "ou_bot_" + ID).
	BotOpenID string
}

// Message is a message the fake accepted (im v1 message create).
type Message struct {
	ID            string
	AppID         string
	ReceiveIDType string
	ReceiveID     string
	ChatID        string
	MsgType       string
	Content       string // as sent; updated by patches and delayed updates
	UUID          string
	Updates       int // patches and delayed updates applied
}

// Card decodes the message's card (nil for text).
func (m Message) Card() map[string]any {
	if m.MsgType != "interactive" {
		return nil
	}
	var c map[string]any
	if json.Unmarshal([]byte(m.Content), &c) != nil {
		return nil
	}
	return c
}

// Text returns the text of a text message.
func (m Message) Text() string {
	var t struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal([]byte(m.Content), &t)
	return t.Text
}

// Patch is one PATCH of a message.
type Patch struct {
	MessageID string
	Content   string
}

// CardUpdate is one delayed card update.
type CardUpdate struct {
	Token     string
	MessageID string
	Card      json.RawMessage
}

// Server is the fake. Its zero value is not usable: call NewServer.
type Server struct {
	// URL is the base URL to configure as the app's BaseURL.
	URL string

	srv    *httptest.Server
	client *http.Client
	now    func() time.Time
	ttl    time.Duration

	mu           sync.Mutex
	apps         map[string]*App
	tokens       map[string]token
	tokensIssued int
	messages     []*Message
	resources    map[string]Resource // by message id + "/" + key
	images       map[string]Image    // uploaded images by image_key
	byID         map[string]*Message
	byUUID       map[string]*Message
	patches      []Patch
	cardUpdates  []CardUpdate
	clickTokens  map[string]*clickToken
	limitNext    int
	limitReset   int
	failNext     int
	failStatus   int
	onMessage    func(Message)
	calls        int
	devices      map[string]string // ws device id -> app id
	conns        map[string]*wsConn
	seq          uint64
	contacts     contactDir
	quota        *quota // nil: no quota enforced
}

type token struct {
	app string
	exp time.Time
}

type clickToken struct {
	messageID string
	uses      int
	exp       time.Time
}

// Option tunes a Server.
type Option func(*Server)

// WithTokenTTL sets the lifetime of issued tenant tokens (default 2h).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.ttl = d } }

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithMessageHook calls f with each message the fake accepts (a copy,
// after the fake recorded it), e.g. to print it.
func WithMessageHook(f func(Message)) Option { return func(s *Server) { s.onMessage = f } }

// WithHTTPClient sets the client that posts events to the apps' webhooks
// (default: 10 s timeout, Go's default transport), e.g. one keeping more
// idle connections per host for a load generator.
func WithHTTPClient(c *http.Client) Option { return func(s *Server) { s.client = c } }

// Handler is the fake's API, to serve behind a handler of one's own (a
// counting or fault-injecting front) without a second HTTP hop.
func (s *Server) Handler() http.Handler { return s.srv.Config.Handler }

// NewServer starts a fake on a local port (plain HTTP: the SDK's long
// connection uses http.DefaultClient). Close it when done.
func NewServer(opts ...Option) *Server {
	s := newServer(opts...)
	s.srv = httptest.NewServer(s.mux())
	s.URL = s.srv.URL
	return s
}

// NewServerAt starts a fake listening on addr ("127.0.0.1:9999"; port 0
// picks a free one), for a fake run by hand. Close it when done.
func NewServerAt(addr string, opts ...Option) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("feishutest: listen on %s: %w", addr, err)
	}
	s := newServer(opts...)
	s.srv = httptest.NewUnstartedServer(s.mux())
	_ = s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL
	return s, nil
}

func newServer(opts ...Option) *Server {
	s := &Server{
		client:      &http.Client{Timeout: 10 * time.Second},
		now:         time.Now,
		ttl:         2 * time.Hour,
		apps:        map[string]*App{},
		tokens:      map[string]token{},
		byID:        map[string]*Message{},
		byUUID:      map[string]*Message{},
		clickTokens: map[string]*clickToken{},
		devices:     map[string]string{},
		conns:       map[string]*wsConn{},
		limitReset:  -1,
		contacts:    contactDir{failIn: -1},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Server) mux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /open-apis/bot/v3/info", s.api(s.handleBotInfo))
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", s.handleToken)
	mux.HandleFunc("POST /open-apis/im/v1/messages", s.api(s.handleCreate))
	mux.HandleFunc("GET /open-apis/im/v1/messages/{id}/resources/{key}", s.api(s.handleResource))
	mux.HandleFunc("PATCH /open-apis/im/v1/messages/{id}", s.api(s.handlePatch))
	mux.HandleFunc("POST /open-apis/im/v1/images", s.apiWith(maxImageBody, "multipart/form-data", s.handleImage))
	mux.HandleFunc("POST /open-apis/interactive/v1/card/update", s.api(s.handleCardUpdate))
	mux.HandleFunc("POST /callback/ws/endpoint", s.handleEndpoint)
	mux.HandleFunc("GET /ws", s.handleWS)
	mux.HandleFunc("GET /open-apis/contact/v3/departments/{id}/children", s.api(s.handleDeptChildren))
	mux.HandleFunc("GET /open-apis/contact/v3/users/find_by_department", s.api(s.handleUsersByDept))
	return mux
}

// Close stops the server. Open long connections are left open on purpose:
// the SDK's ws client races with itself when its connection drops
// (ws/client.go disconnect writes connID while pingLoop reads it), which
// -race reports. Call DropConnections to test a drop without -race.
func (s *Server) Close() {
	s.srv.Close()
}

// DropConnections closes every long connection from the server side.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.conns
	s.conns = map[string]*wsConn{}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// AddApp registers an app (or replaces it, e.g. to set its Webhook).
func (s *Server) AddApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.TenantKey == "" {
		a.TenantKey = "tenant-" + a.ID
	}
	if a.BotOpenID == "" {
		a.BotOpenID = "ou_bot_" + a.ID
	}
	s.apps[a.ID] = &a
}

// ExpireTokens makes every issued tenant token expired now.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.exp = s.now().Add(-time.Second)
		s.tokens[k] = t
	}
}

// RateLimitNext makes the next n API calls answer HTTP 429 with code
// 99991400; resetSeconds >= 0 adds an x-ogw-ratelimit-reset header.
func (s *Server) RateLimitNext(n, resetSeconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext, s.limitReset = n, resetSeconds
}

// FailNext makes the next n API calls fail as a broken network or
// gateway would: status > 0 answers that HTTP status with a plain-text
// body (no Feishu JSON, no rate-limit header); status 0 drops the
// connection without an answer.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failStatus = n, status
}

// TokensIssued counts tenant tokens issued so far.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// Calls counts API calls (messages, patches, card updates), including
// refused ones.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Messages returns copies of the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// Message returns the message with id.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Patches returns the accepted PATCH calls.
func (s *Server) Patches() []Patch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Patch(nil), s.patches...)
}

// CardUpdates returns the accepted delayed card updates.
func (s *Server) CardUpdates() []CardUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CardUpdate(nil), s.cardUpdates...)
}

// P2PChatID is the chat id the fake gives the p2p chat of a user.
func P2PChatID(openID string) string { return "oc_p2p_" + strings.TrimPrefix(openID, "ou_") }

// feishu error codes the fake answers with.
const (
	codeTokenMissing = 99991661
	codeTokenInvalid = 99991663
	codeRateLimited  = 99991400
	codeBadParam     = 99992402
	codeTooLong      = 230025
	codeNotFound     = 230001
	codeBadSecret    = 10014
)

func writeFeishu(w http.ResponseWriter, status, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	body := map[string]any{"code": code, "msg": msg}
	if data != nil {
		body["data"] = data
	}
	_ = json.NewEncoder(w).Encode(body)
}

func randomID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID     string `json:"app_id"`
		AppSecret string `json:"app_secret"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "invalid json", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[req.AppID]
	if !ok || a.Secret != req.AppSecret {
		writeFeishu(w, http.StatusOK, codeBadSecret, "app secret invalid", nil)
		return
	}
	tok := randomID("t-")
	s.tokens[tok] = token{app: a.ID, exp: s.now().Add(s.ttl)}
	s.tokensIssued++
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": 0, "msg": "ok", "tenant_access_token": tok, "expire": int(s.ttl / time.Second),
	})
}

// api wraps an API endpoint with the rate-limit switch and the bearer
// token check; h runs with s.mu held and the caller's app.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, app *App, body []byte)) http.HandlerFunc {
	return s.apiWith(1<<20, "application/json", h)
}

// apiWith is api for bodies of up to limit bytes of content type ct.
func (s *Server) apiWith(limit int64, ct string, h func(w http.ResponseWriter, r *http.Request, app *App, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, limit))
		if err != nil {
			writeFeishu(w, http.StatusBadRequest, codeBadParam, "read body", nil)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls++
		if s.failNext > 0 {
			s.failNext--
			if s.failStatus == 0 {
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						_ = c.Close()
						return
					}
				}
				panic(http.ErrAbortHandler)
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(s.failStatus)
			_, _ = io.WriteString(w, http.StatusText(s.failStatus))
			return
		}
		if s.limitNext > 0 {
			s.limitNext--
			if s.limitReset >= 0 {
				w.Header().Set("x-ogw-ratelimit-reset", fmt.Sprint(s.limitReset))
			}
			writeFeishu(w, http.StatusTooManyRequests, codeRateLimited, "request trigger frequency limit", nil)
			return
		}
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || tok == "" {
			writeFeishu(w, http.StatusBadRequest, codeTokenMissing, "Missing access token for authorization.", nil)
			return
		}
		t, ok := s.tokens[tok]
		if !ok || !s.now().Before(t.exp) {
			writeFeishu(w, http.StatusBadRequest, codeTokenInvalid, "Invalid access token for authorization.", nil)
			return
		}
		if got := r.Header.Get("Content-Type"); r.Method != http.MethodGet && !strings.HasPrefix(got, ct) {
			writeFeishu(w, http.StatusBadRequest, codeBadParam, "content type must be "+ct, nil)
			return
		}
		h(w, r, s.apps[t.app], body)
	}
}

var receiveIDTypes = map[string]bool{"open_id": true, "union_id": true, "user_id": true, "email": true, "chat_id": true}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, app *App, body []byte) {
	idType := r.URL.Query().Get("receive_id_type")
	if !receiveIDTypes[idType] {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "field validation failed: receive_id_type", nil)
		return
	}
	var req struct {
		ReceiveID string `json:"receive_id"`
		MsgType   string `json:"msg_type"`
		Content   string `json:"content"`
		UUID      string `json:"uuid"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "invalid json body", nil)
		return
	}
	if req.ReceiveID == "" || len(req.UUID) > 50 {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "field validation failed: receive_id / uuid", nil)
		return
	}
	if code, msg := checkContent(req.MsgType, req.Content, len(body)); code != 0 {
		writeFeishu(w, http.StatusBadRequest, code, msg, nil)
		return
	}
	if code, msg := s.checkImageKeys(app, req.Content); code != 0 {
		writeFeishu(w, http.StatusBadRequest, code, msg, nil)
		return
	}
	if req.UUID != "" {
		if m, ok := s.byUUID[app.ID+"/"+req.UUID]; ok {
			writeFeishu(w, http.StatusOK, 0, "success", messageData(m))
			return
		}
	}
	chat := req.ReceiveID
	if idType != "chat_id" {
		chat = P2PChatID(req.ReceiveID)
	}
	if !s.admit(w, app.ID, chat, s.now()) {
		return
	}
	m := &Message{
		ID: randomID("om_"), AppID: app.ID, ReceiveIDType: idType, ReceiveID: req.ReceiveID,
		ChatID: chat, MsgType: req.MsgType, Content: req.Content, UUID: req.UUID,
	}
	s.messages = append(s.messages, m)
	s.byID[m.ID] = m
	if req.UUID != "" {
		s.byUUID[app.ID+"/"+req.UUID] = m
	}
	writeFeishu(w, http.StatusOK, 0, "success", messageData(m))
	if s.onMessage != nil {
		// Called with s.mu held: the hook must not call the server.
		s.onMessage(*m)
	}
}

func (s *Server) handleBotInfo(w http.ResponseWriter, _ *http.Request, app *App, _ []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": 0, "msg": "ok",
		"bot": map[string]any{"activate_status": 2, "app_name": app.ID, "avatar_url": "", "ip_white_list": []string{}, "open_id": app.BotOpenID},
	})
}

func messageData(m *Message) map[string]any {
	return map[string]any{"message_id": m.ID, "chat_id": m.ChatID, "msg_type": m.MsgType}
}

// MaxCardRequestBytes is the largest request body of a card message the
// fake accepts (Feishu's 30 KB, measured on the whole body, where the card
// is a JSON-escaped string).
const MaxCardRequestBytes = 30 * 1024

// checkContent checks a message body the way Feishu does (subset);
// bodyLen is the size of the whole request body.
func checkContent(msgType, content string, bodyLen int) (int, string) {
	switch msgType {
	case "text":
		var t struct {
			Text string `json:"text"`
		}
		if json.Unmarshal([]byte(content), &t) != nil || t.Text == "" {
			return codeBadParam, "text content must be {\"text\": ...}"
		}
		if len(content) > 150*1024 {
			return codeTooLong, "message content too long"
		}
	case "interactive":
		if bodyLen > MaxCardRequestBytes {
			return codeTooLong, "card content too long"
		}
		return checkCard([]byte(content))
	default:
		return codeBadParam, "unsupported msg_type " + msgType
	}
	return 0, ""
}

// checkCard checks the shape of a card JSON 2.0.
func checkCard(b []byte) (int, string) {
	var c struct {
		Schema string `json:"schema"`
		Config *struct {
			UpdateMulti bool `json:"update_multi"`
		} `json:"config"`
		Body *struct {
			Elements []map[string]any `json:"elements"`
		} `json:"body"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return codeBadParam, "card is not json"
	}
	switch {
	case c.Schema != "2.0":
		return codeBadParam, "card schema must be 2.0"
	case c.Config == nil || !c.Config.UpdateMulti:
		return codeBadParam, "card 2.0 needs config.update_multi=true"
	case c.Body == nil:
		return codeBadParam, "card has no body"
	}
	for _, e := range c.Body.Elements {
		if _, ok := e["tag"].(string); !ok {
			return codeBadParam, "card element without tag"
		}
	}
	return 0, ""
}

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request, app *App, body []byte) {
	m, ok := s.byID[r.PathValue("id")]
	if !ok || m.AppID != app.ID {
		writeFeishu(w, http.StatusBadRequest, codeNotFound, "message not found", nil)
		return
	}
	var req struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "invalid json body", nil)
		return
	}
	if m.MsgType != "interactive" {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "only cards can be patched", nil)
		return
	}
	if code, msg := checkContent("interactive", req.Content, len(body)); code != 0 {
		writeFeishu(w, http.StatusBadRequest, code, msg, nil)
		return
	}
	if code, msg := s.checkImageKeys(app, req.Content); code != 0 {
		writeFeishu(w, http.StatusBadRequest, code, msg, nil)
		return
	}
	if !s.admit(w, app.ID, "", s.now()) {
		return
	}
	m.Content = req.Content
	m.Updates++
	s.patches = append(s.patches, Patch{MessageID: m.ID, Content: req.Content})
	writeFeishu(w, http.StatusOK, 0, "success", map[string]any{})
}

func (s *Server) handleCardUpdate(w http.ResponseWriter, r *http.Request, app *App, body []byte) {
	var req struct {
		Token string          `json:"token"`
		Card  json.RawMessage `json:"card"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "invalid json body", nil)
		return
	}
	ct, ok := s.clickTokens[req.Token]
	if !ok || ct.uses >= 2 || !s.now().Before(ct.exp) {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "invalid or used card token", nil)
		return
	}
	if code, msg := checkCard(req.Card); code != 0 {
		writeFeishu(w, http.StatusBadRequest, code, msg, nil)
		return
	}
	if !s.admit(w, app.ID, "", s.now()) {
		return
	}
	ct.uses++
	if m, ok := s.byID[ct.messageID]; ok {
		m.Content = string(req.Card)
		m.Updates++
	}
	s.cardUpdates = append(s.cardUpdates, CardUpdate{Token: req.Token, MessageID: ct.messageID, Card: req.Card})
	writeFeishu(w, http.StatusOK, 0, "success", map[string]any{})
}

// Resource is a file or image a user sent, served by the message-resource
// API (GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=file|image).
type Resource struct {
	Name  string
	Data  []byte
	Image bool
}

// handleResource serves a resource as Feishu does: the bytes, with the
// name in Content-Disposition; an unknown message or key, or a type that
// does not match, is a JSON error.
func (s *Server) handleResource(w http.ResponseWriter, r *http.Request, _ *App, _ []byte) {
	typ := r.URL.Query().Get("type")
	res, ok := s.resources[r.PathValue("id")+"/"+r.PathValue("key")]
	switch {
	case typ != "file" && typ != "image":
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "type must be file or image", nil)
		return
	case !ok || res.Image != (typ == "image"):
		writeFeishu(w, http.StatusBadRequest, codeResourceMissing, "The resource is not found or has been deleted.", nil)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": res.Name}))
	_, _ = w.Write(res.Data)
}

// codeResourceMissing is Feishu's code for a resource that is not there.
const codeResourceMissing = 234003

// ForgetResources drops every resource, as when a message was recalled.
func (s *Server) ForgetResources() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources = nil
}
