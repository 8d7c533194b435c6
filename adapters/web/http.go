package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/flowbot/flowbot/bots"
)

//go:embed static
var static embed.FS

// Handler returns the page and its API. Routes are relative ("/",
// "/api/send"...), so the lead can mount it under a prefix with
// http.StripPrefix.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.serveStatic("index.html"))
	mux.HandleFunc("GET /index.html", a.serveStatic("index.html"))
	mux.HandleFunc("GET /app.js", a.serveStatic("app.js"))
	mux.HandleFunc("GET /style.css", a.serveStatic("style.css"))
	mux.HandleFunc("GET /api/config", a.handleConfig)
	mux.HandleFunc("GET /api/users", a.handleUsers)
	mux.HandleFunc("GET /api/history", a.handleHistory)
	mux.HandleFunc("GET /api/events", a.handleEvents)
	mux.HandleFunc("POST /api/send", a.handleSend)
	mux.HandleFunc("POST /api/upload", a.handleUpload)
	mux.HandleFunc("POST /api/action", a.handleAction)
	mux.HandleFunc("GET /api/clock", a.handleClock)
	mux.HandleFunc("POST /api/clock", a.handleAdvance)
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

func (a *Adapter) serveStatic(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		ct := mime.TypeByExtension(name[strings.LastIndexByte(name, '.'):])
		w.Header().Set("Content-Type", ct)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	}
}

// apiConfig tells the page what to show.
type apiConfig struct {
	Demo     bool   `json:"demo"`
	Clock    bool   `json:"clock"` // the clock control is offered
	Platform string `json:"platform"`
	// User is the authenticated user outside demo mode.
	User string `json:"user,omitempty"`
}

func (a *Adapter) handleConfig(w http.ResponseWriter, r *http.Request) {
	c := apiConfig{Demo: a.cfg.Demo, Clock: a.clockEnabled(), Platform: Platform}
	if !a.cfg.Demo {
		id, ok := a.identify(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "sign in first")
			return
		}
		c.User = id
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *Adapter) handleUsers(w http.ResponseWriter, r *http.Request) {
	var self string
	if !a.cfg.Demo {
		id, ok := a.identify(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "sign in first")
			return
		}
		self = id
	}
	users := []User{}
	if a.cfg.Users != nil {
		list, err := a.cfg.Users(r.Context())
		if err != nil {
			a.log.Error("list users", "err", err)
			writeError(w, http.StatusServiceUnavailable, "cannot list users, try again")
			return
		}
		for _, u := range list {
			if self == "" || u.ID == self {
				users = append(users, u)
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (a *Adapter) handleHistory(w http.ResponseWriter, r *http.Request) {
	user, ok := a.userOf(w, r, r.URL.Query().Get("user"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user, "messages": a.history(user)})
}

type sendRequest struct {
	ID   string `json:"id"` // client-generated event id (dedupe of retries)
	User string `json:"user"`
	Text string `json:"text"`
}

type actionRequest struct {
	ID        string            `json:"id"`
	User      string            `json:"user"`
	MessageID string            `json:"message_id"`
	Action    string            `json:"action"`
	Value     map[string]string `json:"value"`
	Inputs    map[string]string `json:"inputs"`
}

// replyResponse is the answer to api/send and api/action.
type replyResponse struct {
	// Me is the user's own message (api/send).
	Me *message `json:"me,omitempty"`
	// Messages are the bot's answers, as appended to the chat.
	Messages []message `json:"messages"`
	Toast    string    `json:"toast,omitempty"`
	// Updated is the clicked message after its card was replaced.
	Updated *message `json:"updated,omitempty"`
	// Error says why the event failed (a 503): the bot's own words where
	// it had some.
	Error string `json:"error,omitempty"`
}

// handleSend hands the typed text to the bot as it is (trimmed): an empty or
// too long text is the bot's to refuse, in the user's language. The only
// bound here is MaxBody, far above the bot's limit.
func (a *Adapter) handleSend(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	if !decodeBody(w, r, &req) {
		return
	}
	user, ok := a.userOf(w, r, req.User)
	if !ok {
		return
	}
	if !validID(req.ID) {
		writeError(w, http.StatusBadRequest, "id must be up to 64 letters, digits or dashes")
		return
	}
	text := strings.TrimSpace(req.Text)
	id := req.ID
	if id == "" {
		id = randomHex(16)
	}
	var me *message
	if text != "" { // an empty text has no bubble of its own, only the bot's hint
		m, err := a.appendMessage(user, FromMe, bots.Message{Text: text}, "in:"+id)
		if err != nil {
			a.log.Error("append message", "user", user, "err", err)
			writeError(w, http.StatusServiceUnavailable, "cannot keep the message, try again")
			return
		}
		me = &m
	}
	ev := bots.Event{
		Platform: Platform, ID: id, UserID: user, ChatID: user, ChatType: "p2p",
		Text: text, At: a.now(),
	}
	reply, ok := a.handle(w, r, ev)
	if !ok {
		return
	}
	resp := replyResponse{Me: me, Messages: a.appendReply(r.Context(), user, reply), Toast: reply.Toast}
	writeJSON(w, http.StatusOK, resp)
}

func (a *Adapter) handleAction(w http.ResponseWriter, r *http.Request) {
	var req actionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	user, ok := a.userOf(w, r, req.User)
	if !ok {
		return
	}
	switch {
	case strings.TrimSpace(req.Action) == "" || len(req.Action) > 64:
		writeError(w, http.StatusBadRequest, "action must be 1 to 64 characters")
		return
	case len(req.MessageID) > 64:
		writeError(w, http.StatusBadRequest, "message_id is too long")
		return
	case !validID(req.ID):
		writeError(w, http.StatusBadRequest, "id must be up to 64 letters, digits or dashes")
		return
	}
	id := req.ID
	if id == "" {
		id = randomHex(16)
	}
	ev := bots.Event{
		Platform: Platform, ID: id, UserID: user, ChatID: user, ChatType: "p2p", At: a.now(),
		Action: &bots.Action{
			Name:       req.Action,
			Value:      req.Value,
			Inputs:     req.Inputs,
			MessageRef: req.MessageID,
		},
	}
	reply, ok := a.handle(w, r, ev)
	if !ok {
		return
	}
	resp := replyResponse{Toast: reply.Toast}
	if reply.Card != nil && req.MessageID != "" {
		if m, ok := a.replaceCard(user, req.MessageID, reply.Card); ok {
			resp.Updated = &m
		}
	}
	resp.Messages = a.appendReply(r.Context(), user, reply)
	writeJSON(w, http.StatusOK, resp)
}

// handle calls the bot with a deadline. A failed event is a 503 (the web
// has no platform to deliver it again: the user does); when the bot had
// words for the failure ("cannot continue the conversation right now,
// try again") they are the error and are shown in the chat. A failed
// event replaces no card and records no sent message.
func (a *Adapter) handle(w http.ResponseWriter, r *http.Request, ev bots.Event) (bots.Reply, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
	defer cancel()
	reply, err := a.cfg.Handler.Handle(ctx, ev)
	if err == nil {
		return reply, true
	}
	a.log.Error("handle event", "user", ev.UserID, "event", ev.ID, "err", err)
	resp := replyResponse{Error: "the bot could not answer, try again", Messages: []message{}}
	var said []string
	for _, m := range reply.Messages {
		if m.Text == "" || m.Card != nil {
			continue
		}
		said = append(said, m.Text)
		if sent, aerr := a.appendMessage(ev.UserID, FromBot, bots.Message{Text: m.Text}, ""); aerr == nil {
			resp.Messages = append(resp.Messages, sent)
		}
	}
	if reply.Toast != "" {
		said = append(said, reply.Toast)
	}
	if len(said) > 0 {
		resp.Error = strings.Join(said, "\n")
	}
	writeJSON(w, http.StatusServiceUnavailable, resp)
	return bots.Reply{}, false
}

// appendReply adds the bot's messages to user's chat.
func (a *Adapter) appendReply(ctx context.Context, user string, reply bots.Reply) []message {
	out := []message{}
	for i, m := range reply.Messages {
		if m.Text == "" && m.Card == nil {
			continue
		}
		// The fast path: shown at once; the notifier's later Send of the
		// durable copy carries the same key and finds it shown.
		sent, err := a.appendMessage(user, FromBot, m, m.Key)
		if err != nil {
			a.log.Error("append reply", "user", user, "err", err)
			continue
		}
		if reply.Sent != nil {
			reply.Sent(ctx, i, sent.ID)
		}
		out = append(out, sent)
	}
	return out
}

type clockResponse struct {
	Now     time.Time `json:"now"`
	Advance bool      `json:"advance"`
}

func (a *Adapter) clockEnabled() bool { return a.cfg.Demo && a.cfg.Advance != nil }

func (a *Adapter) handleClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, clockResponse{Now: a.now(), Advance: a.clockEnabled()})
}

func (a *Adapter) handleAdvance(w http.ResponseWriter, r *http.Request) {
	if !a.clockEnabled() {
		writeError(w, http.StatusNotFound, "the demo clock cannot be moved here")
		return
	}
	var req struct {
		Advance string `json:"advance"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	d, err := time.ParseDuration(req.Advance)
	if err != nil || d <= 0 || d > MaxAdvance {
		writeError(w, http.StatusBadRequest, `advance must be a positive duration up to 744h, e.g. "1h" or "24h"`)
		return
	}
	now, err := a.cfg.Advance(r.Context(), d)
	if err != nil {
		a.log.Error("advance clock", "by", d, "err", err)
		writeError(w, http.StatusServiceUnavailable, "cannot move the clock, try again")
		return
	}
	resp := clockResponse{Now: now, Advance: true}
	a.broadcast("clock", resp)
	writeJSON(w, http.StatusOK, resp)
}

func (a *Adapter) handleEvents(w http.ResponseWriter, r *http.Request) {
	user, ok := a.userOf(w, r, r.URL.Query().Get("user"))
	if !ok {
		return
	}
	s := a.subscribe(user)
	if s == nil {
		writeError(w, http.StatusServiceUnavailable, "shutting down, try again")
		return
	}
	defer a.unsubscribe(user, s)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 2000\n: hello\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
		case ev, ok := <-s.ch:
			if !ok {
				return // dropped as too slow: the page reconnects
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, ev.data); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// userOf returns the acting user: the requested one in demo mode, the
// authenticated one otherwise. It answers the error itself.
func (a *Adapter) userOf(w http.ResponseWriter, r *http.Request, requested string) (string, bool) {
	if !a.cfg.Demo {
		id, ok := a.identify(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "sign in first")
			return "", false
		}
		if requested != "" && requested != id {
			writeError(w, http.StatusForbidden, "you can only act as yourself")
			return "", false
		}
		return id, true
	}
	if !validUser(requested) {
		writeError(w, http.StatusBadRequest, "user is missing or invalid")
		return "", false
	}
	return requested, true
}

func (a *Adapter) identify(r *http.Request) (string, bool) {
	if a.cfg.Identify == nil {
		return "", false
	}
	id, ok := a.cfg.Identify(r)
	return id, ok && validUser(id)
}

// decodeBody reads one JSON object of at most MaxBody bytes; it answers
// 415, 413 or 400 itself.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)")
			return false
		}
	} else {
		writeError(w, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", MaxBody))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "body is empty, send a JSON object")
	default:
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	return false
}

// validID accepts an empty id or up to 64 of [A-Za-z0-9-_].
func validID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for _, c := range id {
		ok := c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
