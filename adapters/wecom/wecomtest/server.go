package wecomtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// App is one app the fake knows.
type App struct {
	CorpID         string
	AgentID        int64
	Secret         string
	Token          string
	EncodingAESKey string
	// Webhook is the adapter's callback URL (/webhook/wecom).
	Webhook string
}

// Limits are the per-member limits past which the fake drops messages
// silently, as WeCom does (30 a minute, 1,000 an hour).
type Limits struct {
	PerMinute int
	PerHour   int
	Minute    time.Duration
	Hour      time.Duration
}

// Option configures a Server.
type Option func(*Server)

// WithLimits sets the per-member limits (windows shortened for tests).
func WithLimits(l Limits) Option { return func(s *Server) { s.limits = l } }

// WithClock replaces time.Now for token and response-code expiry.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithListener serves the fake on ln (default a loopback port).
func WithListener(ln net.Listener) Option { return func(s *Server) { s.ln = ln } }

// WithOnMessage calls f with every message shown (after it is stored).
func WithOnMessage(f func(Message)) Option { return func(s *Server) { s.onMsg = f } }

// WithTokenTTL sets expires_in of new tokens (7200s).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.tokenTTL = d } }

// Message is a message the fake shows (or dropped).
type Message struct {
	MsgID   string
	CorpID  string
	AgentID int64
	ToUser  string
	MsgType string
	Text    string
	// Card is the template_card as sent, then as last updated.
	Card         map[string]any
	TaskID       string
	ResponseCode string
	Updates      int
	At           time.Time
}

// Server is the fake.
type Server struct {
	URL string
	srv *httptest.Server

	limits   Limits
	ln       net.Listener
	onMsg    func(Message)
	now      func() time.Time
	tokenTTL time.Duration

	mu       sync.Mutex
	apps     map[string]App // by corp id + ":" + agent id
	tokens   map[string]token
	msgs     []*Message
	tasks    map[string]*Message // corp:agent:task_id
	codes    map[string]*codeInfo
	hits     map[string][]time.Time // corp:agent:user -> arrivals
	dropped  int
	calls    map[string]int
	failNext map[string]int // path -> answers of 500 to give
	limitNx  map[string]int // path -> answers of errcode 45009 to give
	book     book
}

type token struct {
	app string
	exp time.Time
}

type codeInfo struct {
	msg  *Message
	user string
	at   time.Time
	used bool
}

// NewServer starts a fake.
func NewServer(opts ...Option) *Server {
	s := &Server{
		limits: Limits{PerMinute: 30, PerHour: 1000, Minute: time.Minute, Hour: time.Hour},
		now:    time.Now, tokenTTL: 7200 * time.Second,
		apps: map[string]App{}, tokens: map[string]token{}, tasks: map[string]*Message{},
		codes: map[string]*codeInfo{}, hits: map[string][]time.Time{}, calls: map[string]int{}, failNext: map[string]int{}, limitNx: map[string]int{},
		book: book{failIn: -1},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/gettoken", s.getToken)
	mux.HandleFunc("POST /cgi-bin/message/send", s.send)
	mux.HandleFunc("POST /cgi-bin/message/update_template_card", s.update)
	mux.HandleFunc("GET /cgi-bin/department/list", s.departmentList)
	mux.HandleFunc("GET /cgi-bin/user/list", s.userList)
	s.srv = httptest.NewUnstartedServer(mux)
	if s.ln != nil {
		_ = s.srv.Listener.Close()
		s.srv.Listener = s.ln
	}
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// AddApp registers an app.
func (s *Server) AddApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[appKey(a.CorpID, a.AgentID)] = a
}

func appKey(corp string, agent int64) string { return corp + ":" + strconv.FormatInt(agent, 10) }

// ExpireTokens makes every issued token expired (42001 on next use).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.exp = s.now().Add(-time.Second)
		s.tokens[k] = t
	}
}

// FailNext makes the next n calls of path answer 500.
func (s *Server) FailNext(path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[path] = n
}

// RateLimitNext makes the next n calls of path answer HTTP 200 with
// errcode 45009 (api freq out of limit), as WeCom does past its per-API
// quotas; nothing is sent.
func (s *Server) RateLimitNext(path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNx[path] = n
}

// Calls counts the calls of path.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// Dropped counts messages dropped past the per-member limit.
func (s *Server) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Messages returns copies of the shown messages, in send order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.msgs))
	for _, m := range s.msgs {
		out = append(out, *m)
	}
	return out
}

// MessagesTo returns the shown messages to user.
func (s *Server) MessagesTo(user string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.ToUser == user {
			out = append(out, m)
		}
	}
	return out
}

// Task returns the card message with task_id.
func (s *Server) Task(corp string, agent int64, task string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.tasks[appKey(corp, agent)+":"+task]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func errJSON(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, map[string]any{"errcode": code, "errmsg": msg})
}

func (s *Server) count(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[path]++
	if s.failNext[path] > 0 {
		s.failNext[path]--
		return true
	}
	return false
}

// refused counts the call and answers it with the fault set for its
// path (FailNext: 500, RateLimitNext: errcode 45009), if any.
func (s *Server) refused(w http.ResponseWriter, r *http.Request) bool {
	if s.count(r.URL.Path) {
		http.Error(w, "busy", http.StatusInternalServerError)
		return true
	}
	s.mu.Lock()
	limited := s.limitNx[r.URL.Path] > 0
	if limited {
		s.limitNx[r.URL.Path]--
	}
	s.mu.Unlock()
	if limited {
		errJSON(w, 45009, "api freq out of limit")
	}
	return limited
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	if s.refused(w, r) {
		return
	}
	corp, secret := r.URL.Query().Get("corpid"), r.URL.Query().Get("corpsecret")
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range s.apps {
		if a.CorpID == corp && a.Secret == secret {
			tok := randHex(16)
			s.tokens[tok] = token{app: k, exp: s.now().Add(s.tokenTTL)}
			writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": int(s.tokenTTL / time.Second)})
			return
		}
	}
	errJSON(w, 40001, "invalid credential (corpid or corpsecret)")
}

// auth checks the access_token; it returns the app key or writes an error.
func (s *Server) auth(w http.ResponseWriter, r *http.Request) (string, bool) {
	tok := r.URL.Query().Get("access_token")
	s.mu.Lock()
	t, ok := s.tokens[tok]
	now := s.now()
	s.mu.Unlock()
	switch {
	case !ok:
		errJSON(w, 40014, "invalid access_token")
		return "", false
	case now.After(t.exp):
		errJSON(w, 42001, "access_token expired")
		return "", false
	}
	return t.app, true
}

// agentID accepts the agentid as a number or a string (the SDK sends a
// string, the doc a number).
func agentID(raw json.RawMessage) (int64, bool) {
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	return 0, false
}

var taskIDRe = regexp.MustCompile(`^[0-9A-Za-z_\-@]{1,128}$`)

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	if s.refused(w, r) {
		return
	}
	key, ok := s.auth(w, r)
	if !ok {
		return
	}
	var req struct {
		ToUser       string                    `json:"touser"`
		MsgType      string                    `json:"msgtype"`
		AgentID      json.RawMessage           `json:"agentid"`
		Text         *struct{ Content string } `json:"text"`
		TemplateCard map[string]any            `json:"template_card"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		errJSON(w, 40058, "invalid json")
		return
	}
	agent, ok := agentID(req.AgentID)
	s.mu.Lock()
	a := s.apps[key]
	s.mu.Unlock()
	if !ok || agent != a.AgentID {
		errJSON(w, 40056, "invalid agentid")
		return
	}
	if req.ToUser == "" {
		errJSON(w, 40031, "invalid user list")
		return
	}
	m := &Message{MsgID: randHex(12), CorpID: a.CorpID, AgentID: a.AgentID, ToUser: req.ToUser, MsgType: req.MsgType, At: s.now()}
	resp := map[string]any{"errcode": 0, "errmsg": "ok", "msgid": m.MsgID}
	switch req.MsgType {
	case "text":
		if req.Text == nil || req.Text.Content == "" {
			errJSON(w, 41016, "content empty")
			return
		}
		m.Text = req.Text.Content
		if len(m.Text) > 2048 {
			m.Text = m.Text[:2048] // WeCom truncates
		}
	case "template_card":
		if msg := checkCard(req.TemplateCard); msg != "" {
			errJSON(w, 40058, msg)
			return
		}
		m.Card = req.TemplateCard
		m.TaskID, _ = req.TemplateCard["task_id"].(string)
		m.ResponseCode = randHex(20)
		resp["response_code"] = m.ResponseCode
	default:
		errJSON(w, 40008, "invalid message type")
		return
	}
	s.mu.Lock()
	if m.TaskID != "" {
		if _, dup := s.tasks[key+":"+m.TaskID]; dup {
			s.mu.Unlock()
			errJSON(w, 42014, "task_id exist")
			return
		}
		s.tasks[key+":"+m.TaskID] = m
		s.codes[m.ResponseCode] = &codeInfo{msg: m, user: m.ToUser, at: s.now()}
	}
	shown := s.allow(key + ":" + m.ToUser)
	if shown {
		s.msgs = append(s.msgs, m)
	} else {
		s.dropped++ // silently: WeCom answers ok and shows nothing
	}
	copied := *m
	s.mu.Unlock()
	if shown && s.onMsg != nil {
		s.onMsg(copied)
	}
	writeJSON(w, resp)
}

// allow applies the per-member limit at arrival time (s.mu held).
func (s *Server) allow(k string) bool {
	now := time.Now()
	var keep []time.Time
	min := 0
	for _, t := range s.hits[k] {
		if now.Sub(t) < s.limits.Hour {
			keep = append(keep, t)
			if now.Sub(t) < s.limits.Minute {
				min++
			}
		}
	}
	s.hits[k] = keep
	if min >= s.limits.PerMinute || len(keep) >= s.limits.PerHour {
		return false
	}
	s.hits[k] = append(keep, now)
	return true
}

// checkCard checks a button_interaction card as WeCom does; "" when ok.
func checkCard(c map[string]any) string {
	if c == nil {
		return "template_card missing"
	}
	if c["card_type"] == "news_notice" {
		return checkNews(c)
	}
	if c["card_type"] != "button_interaction" {
		return "unsupported card_type"
	}
	task, _ := c["task_id"].(string)
	if !taskIDRe.MatchString(task) {
		return "invalid task_id"
	}
	mt, _ := c["main_title"].(map[string]any)
	if mt == nil || mt["title"] == "" {
		return "main_title.title missing"
	}
	if h, _ := c["horizontal_content_list"].([]any); len(h) > 6 {
		return "horizontal_content_list has more than 6 items"
	}
	bl, _ := c["button_list"].([]any)
	if len(bl) > 6 {
		return "button_list has more than 6 items"
	}
	for _, b := range bl {
		bm, _ := b.(map[string]any)
		k, _ := bm["key"].(string)
		if k == "" || len(k) > 1024 {
			return "invalid button key"
		}
	}
	return ""
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	if s.refused(w, r) {
		return
	}
	key, ok := s.auth(w, r)
	if !ok {
		return
	}
	var req struct {
		UserIDs      []string        `json:"userids"`
		AgentID      json.RawMessage `json:"agentid"`
		ResponseCode string          `json:"response_code"`
		TemplateCard map[string]any  `json:"template_card"`
		Button       *struct {
			ReplaceName string `json:"replace_name"`
		} `json:"button"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		errJSON(w, 40058, "invalid json")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[req.ResponseCode]
	switch {
	case !ok || c.msg.CorpID+":"+strconv.FormatInt(c.msg.AgentID, 10) != key:
		errJSON(w, 40029, "invalid response_code")
		return
	case c.used:
		errJSON(w, 40029, "response_code used")
		return
	case s.now().Sub(c.at) > 72*time.Hour:
		errJSON(w, 40029, "response_code expired")
		return
	}
	switch {
	case req.TemplateCard != nil:
		if msg := checkCard(req.TemplateCard); msg != "" {
			errJSON(w, 40058, msg)
			return
		}
		c.msg.Card = req.TemplateCard
	case req.Button != nil:
		c.msg.Card["button_list"] = []any{}
		c.msg.Card["replace_text"] = req.Button.ReplaceName
	default:
		errJSON(w, 40058, "nothing to update")
		return
	}
	c.used = true
	c.msg.Updates++
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": []string{}})
}

// issueCode records a click's response code for m (s.mu held).
func (s *Server) issueCode(m *Message, user string) string {
	rc := randHex(20)
	s.codes[rc] = &codeInfo{msg: m, user: user, at: s.now()}
	return rc
}

// Buttons are a card's buttons (text and key).
func Buttons(card map[string]any) []Button {
	var out []Button
	bl, _ := card["button_list"].([]any)
	for _, b := range bl {
		bm, _ := b.(map[string]any)
		t, _ := bm["text"].(string)
		k, _ := bm["key"].(string)
		out = append(out, Button{Text: t, Key: k})
	}
	return out
}

// Button is a card button.
type Button struct{ Text, Key string }

// CardText is the card's JSON, for searching.
func CardText(card map[string]any) string {
	if card == nil {
		return ""
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(card)
	return strings.TrimSpace(buf.String())
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewAESKey returns a random 43-character EncodingAESKey.
func NewAESKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.TrimSuffix(base64.StdEncoding.EncodeToString(b), "=")
}
