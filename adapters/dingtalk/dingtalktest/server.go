package dingtalktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// App is one DingTalk app the fake knows.
type App struct {
	Key       string
	Secret    string
	RobotCode string // default Key
	// Webhook is the adapter's HTTP robot callback URL (HTTP mode).
	Webhook string
}

// Sent is one message the fake showed (a robot text or a card).
type Sent struct {
	App    string
	UserID string // 1:1
	ChatID string // group (openConversationId)
	Text   string // markdown text of a robot message
	// Card is set for a card: its outTrackId.
	Card string
	At   time.Time
}

// Card is a card instance as DingTalk holds it.
type Card struct {
	App        string
	OutTrackID string
	TemplateID string
	SpaceID    string
	Params     map[string]string
	Updates    int
	Callback   string
}

// Fault is an answer the fake gives instead of the normal one.
type Fault int

const (
	FaultNone Fault = iota
	// FaultErrcode answers 200 with {"errcode":400002,"errmsg":...}.
	FaultErrcode
	// FaultTooMany answers 429.
	FaultTooMany
	// FaultFlowControl lists the user in flowControlledStaffIdList (1:1).
	FaultFlowControl
	// FaultUnavailable answers 503 ServiceUnavailable (nothing is sent).
	FaultUnavailable
)

// Server is the fake. Its URL is the OpenAPI host and the gateway.
type Server struct {
	URL  string
	srv  *httptest.Server
	mux  *http.ServeMux
	up   websocket.Upgrader
	hook func(Sent)

	// TokenTTL is the lifetime of access tokens (default 7200 s).
	TokenTTL time.Duration
	// Now is the fake's clock.
	Now func() time.Time

	mu      sync.Mutex
	apps    map[string]*App
	tokens  map[string]token
	tickets map[string]string // ticket -> app
	conns   map[string]*conn
	opens   map[string]int
	sent    []Sent
	cards   map[string]*Card
	faults  map[string][]Fault // path -> queued faults
	calls   map[string]int     // path -> count
	session map[string][]string
	seq     int
	org     orgDir
}

type token struct {
	app string
	exp time.Time
}

// Option tunes a fake.
type Option func(*Server)

// WithSentHook calls f for every message the fake shows (outside its
// lock).
func WithSentHook(f func(Sent)) Option { return func(s *Server) { s.hook = f } }

// NewServer starts a fake on a loopback port.
func NewServer(opts ...Option) *Server {
	s := newServer(opts)
	s.srv = httptest.NewServer(s.mux)
	s.URL = s.srv.URL
	return s
}

// NewServerAt starts a fake listening on addr (the fake run by hand).
func NewServerAt(addr string, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dingtalktest: listen: %w", err)
	}
	s := newServer(opts)
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.mux}}
	s.srv.Start()
	s.URL = s.srv.URL
	return s, nil
}

func newServer(opts []Option) *Server {
	s := &Server{
		TokenTTL: 7200 * time.Second, Now: time.Now,
		apps: map[string]*App{}, tokens: map[string]token{}, tickets: map[string]string{},
		conns: map[string]*conn{}, opens: map[string]int{}, cards: map[string]*Card{},
		faults: map[string][]Fault{}, calls: map[string]int{}, session: map[string][]string{},
		org: orgDir{failIn: -1},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/gateway/connections/open", s.open)
	mux.HandleFunc("GET /gw", s.gateway)
	mux.HandleFunc("POST /v1.0/oauth2/accessToken", s.accessToken)
	mux.HandleFunc("POST /v1.0/robot/oToMessages/batchSend", s.authed(s.batchSend))
	mux.HandleFunc("POST /v1.0/robot/groupMessages/send", s.authed(s.groupSend))
	mux.HandleFunc("POST /v1.0/card/instances/createAndDeliver", s.authed(s.createAndDeliver))
	mux.HandleFunc("PUT /v1.0/card/instances", s.authed(s.updateCard))
	mux.HandleFunc("POST /session/{id}", s.sessionReply)
	orgRoutes(s, mux)
	s.mux = mux
	return s
}

// show records a shown message and calls the hook.
func (s *Server) show(m Sent) {
	s.mu.Lock()
	s.sent = append(s.sent, m)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(m)
	}
}

// Close closes every connection and the server.
func (s *Server) Close() {
	s.mu.Lock()
	conns := s.conns
	s.conns = map[string]*conn{}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// AddApp registers an app.
func (s *Server) AddApp(a App) {
	if a.RobotCode == "" {
		a.RobotCode = a.Key
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[a.Key] = &a
}

// Fail queues faults for the next calls of path ("/v1.0/robot/...").
func (s *Server) Fail(path string, f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], f...)
}

// Calls counts the calls of path (faulted ones included).
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// Sent returns the messages shown so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Card returns a copy of a card instance.
func (s *Server) Card(outTrackID string) (Card, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cards[outTrackID]
	if !ok {
		return Card{}, false
	}
	cp := *c
	cp.Params = map[string]string{}
	for k, v := range c.Params {
		cp.Params[k] = v
	}
	return cp, true
}

// Cards returns copies of every card instance.
func (s *Server) Cards() []Card {
	s.mu.Lock()
	ids := make([]string, 0, len(s.cards))
	for id := range s.cards {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	out := make([]Card, 0, len(ids))
	for _, id := range ids {
		c, _ := s.Card(id)
		out = append(out, c)
	}
	return out
}

// SessionReplies are the texts posted to the session webhook of msgID.
func (s *Server) SessionReplies(msgID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.session[msgID]...)
}

// SessionWebhook is the session webhook URL the fake puts in a message.
func (s *Server) SessionWebhook(msgID string) string { return s.URL + "/session/" + msgID }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg, "requestid": "fake"})
}

func randID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	var in struct{ AppKey, AppSecret string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		apiError(w, 400, "InvalidParameter", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["/v1.0/oauth2/accessToken"]++
	a, ok := s.apps[in.AppKey]
	if !ok || !hmac.Equal([]byte(a.Secret), []byte(in.AppSecret)) {
		apiError(w, 400, "invalidClientIdOrSecret", "无效的clientId或clientSecret")
		return
	}
	tok := "tok-" + randID()
	s.tokens[tok] = token{app: a.Key, exp: s.Now().Add(s.TokenTTL)}
	writeJSON(w, 200, map[string]any{"accessToken": tok, "expireIn": int64(s.TokenTTL / time.Second)})
}

// authed checks the access token and applies queued faults.
func (s *Server) authed(next func(w http.ResponseWriter, r *http.Request, app *App, body []byte, fault Fault)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			apiError(w, 400, "InvalidParameter", err.Error())
			return
		}
		s.mu.Lock()
		s.calls[r.URL.Path]++
		t, ok := s.tokens[r.Header.Get("x-acs-dingtalk-access-token")]
		valid := ok && s.Now().Before(t.exp)
		var app *App
		if valid {
			app = s.apps[t.app]
		}
		var f Fault
		if q := s.faults[r.URL.Path]; len(q) > 0 {
			f, s.faults[r.URL.Path] = q[0], q[1:]
		}
		s.mu.Unlock()
		if !valid || app == nil {
			apiError(w, 401, "InvalidAuthentication", "不合法的access_token")
			return
		}
		switch f {
		case FaultErrcode:
			writeJSON(w, 200, map[string]any{"errcode": 400002, "errmsg": "fake: injected error"})
			return
		case FaultTooMany:
			apiError(w, 429, "Forbidden.AccessDenied.QpsLimitForApi", "请求被流控")
			return
		case FaultUnavailable:
			apiError(w, 503, "ServiceUnavailable", "服务暂不可用")
			return
		}
		if !json.Valid(body) {
			apiError(w, 400, "InvalidParameter", "body is not JSON")
			return
		}
		next(w, r, app, body, f)
	}
}

func (s *Server) batchSend(w http.ResponseWriter, r *http.Request, app *App, body []byte, f Fault) {
	var in struct {
		RobotCode string   `json:"robotCode"`
		UserIDs   []string `json:"userIds"`
		MsgKey    string   `json:"msgKey"`
		MsgParam  string   `json:"msgParam"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.RobotCode != app.RobotCode || len(in.UserIDs) == 0 || len(in.UserIDs) > 20 {
		apiError(w, 400, "InvalidParameter", "robotCode, userIds (1-20), msgKey and msgParam are required")
		return
	}
	text, err := msgText(in.MsgKey, in.MsgParam)
	if err != nil {
		apiError(w, 400, "InvalidParameter.MsgParam", err.Error())
		return
	}
	if f == FaultFlowControl {
		writeJSON(w, 200, map[string]any{"processQueryKey": "pq-" + randID(), "invalidStaffIdList": []string{}, "flowControlledStaffIdList": in.UserIDs})
		return
	}
	for _, u := range in.UserIDs {
		s.show(Sent{App: app.Key, UserID: u, Text: text, At: s.Now()})
	}
	writeJSON(w, 200, map[string]any{"processQueryKey": "pq-" + randID(), "invalidStaffIdList": []string{}, "flowControlledStaffIdList": []string{}})
}

func msgText(key, param string) (string, error) {
	var p map[string]string
	if err := json.Unmarshal([]byte(param), &p); err != nil {
		return "", fmt.Errorf("msgParam is not a JSON string: %w", err)
	}
	switch key {
	case "sampleText":
		return p["content"], nil
	case "sampleMarkdown":
		if p["text"] == "" || p["title"] == "" {
			return "", errors.New("sampleMarkdown needs title and text")
		}
		return p["text"], nil
	}
	return "", fmt.Errorf("msgKey %q not supported by the fake", key)
}

func (s *Server) groupSend(w http.ResponseWriter, r *http.Request, app *App, body []byte, f Fault) {
	var in struct {
		RobotCode          string `json:"robotCode"`
		OpenConversationID string `json:"openConversationId"`
		MsgKey             string `json:"msgKey"`
		MsgParam           string `json:"msgParam"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.RobotCode != app.RobotCode || in.OpenConversationID == "" {
		apiError(w, 400, "InvalidParameter", "robotCode and openConversationId are required")
		return
	}
	text, err := msgText(in.MsgKey, in.MsgParam)
	if err != nil {
		apiError(w, 400, "InvalidParameter.MsgParam", err.Error())
		return
	}
	s.show(Sent{App: app.Key, ChatID: in.OpenConversationID, Text: text, At: s.Now()})
	writeJSON(w, 200, map[string]any{"processQueryKey": "pq-" + randID()})
}

func (s *Server) createAndDeliver(w http.ResponseWriter, r *http.Request, app *App, body []byte, f Fault) {
	var in struct {
		CardTemplateID string `json:"cardTemplateId"`
		OutTrackID     string `json:"outTrackId"`
		CallbackType   string `json:"callbackType"`
		CardData       struct {
			CardParamMap map[string]string `json:"cardParamMap"`
		} `json:"cardData"`
		OpenSpaceID             string         `json:"openSpaceId"`
		ImGroupOpenDeliverModel map[string]any `json:"imGroupOpenDeliverModel"`
		ImRobotOpenDeliverModel map[string]any `json:"imRobotOpenDeliverModel"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		apiError(w, 400, "InvalidParameter", "cardParamMap values must be strings: "+err.Error())
		return
	}
	if in.CardTemplateID == "" || in.OutTrackID == "" || in.OpenSpaceID == "" {
		apiError(w, 400, "InvalidParameter", "cardTemplateId, outTrackId and openSpaceId are required")
		return
	}
	var sent Sent
	switch {
	case strings.HasPrefix(in.OpenSpaceID, "dtv1.card//IM_GROUP.") && in.ImGroupOpenDeliverModel["robotCode"] == app.RobotCode:
		sent.ChatID = strings.TrimPrefix(in.OpenSpaceID, "dtv1.card//IM_GROUP.")
	case strings.HasPrefix(in.OpenSpaceID, "dtv1.card//IM_ROBOT.") && in.ImRobotOpenDeliverModel["robotCode"] == app.RobotCode:
		sent.UserID = strings.TrimPrefix(in.OpenSpaceID, "dtv1.card//IM_ROBOT.")
	default:
		apiError(w, 400, "InvalidParameter.OpenSpaceId", "openSpaceId and its deliver model do not match")
		return
	}
	s.mu.Lock()
	if _, dup := s.cards[in.OutTrackID]; dup {
		s.mu.Unlock()
		apiError(w, 400, "CardInstanceAlreadyExist", "outTrackId 已存在")
		return
	}
	s.cards[in.OutTrackID] = &Card{App: app.Key, OutTrackID: in.OutTrackID, TemplateID: in.CardTemplateID, SpaceID: in.OpenSpaceID, Params: in.CardData.CardParamMap, Callback: in.CallbackType}
	s.mu.Unlock()
	sent.App, sent.Card, sent.At = app.Key, in.OutTrackID, s.Now()
	s.show(sent)
	writeJSON(w, 200, map[string]any{"success": true, "result": map[string]any{
		"outTrackId":     in.OutTrackID,
		"deliverResults": []map[string]any{{"spaceType": "IM", "spaceId": in.OpenSpaceID, "success": true, "carrierId": "car-" + randID()}},
	}})
}

func (s *Server) updateCard(w http.ResponseWriter, r *http.Request, app *App, body []byte, f Fault) {
	var in struct {
		OutTrackID string `json:"outTrackId"`
		CardData   struct {
			CardParamMap map[string]string `json:"cardParamMap"`
		} `json:"cardData"`
		CardUpdateOptions struct {
			UpdateCardDataByKey bool `json:"updateCardDataByKey"`
		} `json:"cardUpdateOptions"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		apiError(w, 400, "InvalidParameter", "cardParamMap values must be strings: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cards[in.OutTrackID]
	if !ok || c.App != app.Key {
		apiError(w, 404, "CardInstanceNotExist", "卡片实例不存在")
		return
	}
	c.applyUpdate(in.CardData.CardParamMap, in.CardUpdateOptions.UpdateCardDataByKey)
	writeJSON(w, 200, map[string]any{"success": true, "result": true})
}

func (c *Card) applyUpdate(params map[string]string, byKey bool) {
	if !byKey {
		c.Params = map[string]string{}
	}
	for k, v := range params {
		c.Params[k] = v
	}
	c.Updates++
}

func (s *Server) sessionReply(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
		Markdown struct {
			Text string `json:"text"`
		} `json:"markdown"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		writeJSON(w, 200, map[string]any{"errcode": 300001, "errmsg": "bad body"})
		return
	}
	s.mu.Lock()
	id := r.PathValue("id")
	s.session[id] = append(s.session[id], in.Text.Content+in.Markdown.Text)
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// Sign is DingTalk's robot callback signature (see dingtalk.Sign; the
// fake computes it on its own).
func Sign(timestamp, secret string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// Post is an HTTP callback's answer.
type Post struct {
	Status int
	Body   []byte
}

// PostCallback posts body to the app's webhook signed at at; secret ""
// signs with the app's secret.
func (s *Server) PostCallback(appKey string, body []byte, at time.Time, secret string) (Post, error) {
	s.mu.Lock()
	a, ok := s.apps[appKey]
	s.mu.Unlock()
	if !ok || a.Webhook == "" {
		return Post{}, fmt.Errorf("dingtalktest: app %s has no webhook", appKey)
	}
	if secret == "" {
		secret = a.Secret
	}
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	req, err := http.NewRequest(http.MethodPost, a.Webhook, bytes.NewReader(body))
	if err != nil {
		return Post{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", Sign(ts, secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Post{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Post{Status: resp.StatusCode, Body: b}, nil
}
