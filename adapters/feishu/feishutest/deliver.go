package feishutest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Result is the adapter's answer to one delivery.
type Result struct {
	Status  int    // HTTP status, or the long connection's response code
	Body    []byte // the answer's JSON
	EventID string
}

// ClickResult is the adapter's answer to a click.
type ClickResult struct {
	Result
	Toast     *Toast
	CardType  string
	Card      map[string]any // the replacing card when CardType is "raw"
	CardToken string         // the delayed-update token the click carried
}

// Toast is a click's toast.
type Toast struct {
	Type    string            `json:"type"`
	Content string            `json:"content"`
	I18n    map[string]string `json:"i18n"`
}

// Delivery describes a message event in full; DeliverMessage fills one.
type Delivery struct {
	App      string
	EventID  string // default: random
	OpenID   string
	UnionID  string // default: derived from OpenID
	ChatID   string
	ChatType string // "p2p" (default) or "group"
	Text     string // "@_user_1" placeholders refer to Mentions
	Mentions []Mention
	MsgType  string // default "text"; "file" or "image" with File
	// File, when set, is sent as a file (or image) message; the fake
	// serves it through the message-resource API.
	File      *Resource
	CreatedAt time.Time // default: now
}

// Mention is one @ in a message.
type Mention struct {
	Key    string // "@_user_1"
	OpenID string
	Name   string
}

// DeliverMessage delivers a p2p text message from openID.
func (s *Server) DeliverMessage(t testing.TB, app, openID, chatID, text string) Result {
	t.Helper()
	return s.Deliver(t, Delivery{App: app, OpenID: openID, ChatID: chatID, Text: text})
}

// MessageEvent builds the im.message.receive_v1 event JSON of d.
func (s *Server) MessageEvent(d Delivery) []byte {
	s.mu.Lock()
	a := s.apps[d.App]
	now := s.now()
	s.mu.Unlock()
	if a == nil {
		a = &App{ID: d.App}
	}
	if d.EventID == "" {
		d.EventID = randomID("ev_")
	}
	if d.UnionID == "" {
		d.UnionID = "on_" + strings.TrimPrefix(d.OpenID, "ou_")
	}
	if d.ChatType == "" {
		d.ChatType = "p2p"
	}
	if d.MsgType == "" {
		d.MsgType = "text"
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	content, _ := json.Marshal(map[string]string{"text": d.Text})
	msgID := randomID("om_")
	if d.File != nil {
		key := randomID("file_v3_")
		d.MsgType = "file"
		content, _ = json.Marshal(map[string]string{"file_key": key, "file_name": d.File.Name})
		if d.File.Image {
			key = randomID("img_v3_")
			d.MsgType = "image"
			content, _ = json.Marshal(map[string]string{"image_key": key})
		}
		s.mu.Lock()
		if s.resources == nil {
			s.resources = map[string]Resource{}
		}
		s.resources[msgID+"/"+key] = *d.File
		s.mu.Unlock()
	}
	var mentions []any
	for _, m := range d.Mentions {
		mentions = append(mentions, map[string]any{
			"key": m.Key, "name": m.Name, "tenant_key": a.TenantKey,
			"id": map[string]any{"open_id": m.OpenID, "union_id": "on_" + strings.TrimPrefix(m.OpenID, "ou_")},
		})
	}
	ms := strconv.FormatInt(d.CreatedAt.UnixMilli(), 10)
	ev := map[string]any{
		"schema": "2.0",
		"header": header(a, d.EventID, "im.message.receive_v1", ms),
		"event": map[string]any{
			"sender": map[string]any{
				"sender_id":   map[string]any{"open_id": d.OpenID, "union_id": d.UnionID},
				"sender_type": "user",
				"tenant_key":  a.TenantKey,
			},
			"message": map[string]any{
				"message_id":   msgID,
				"chat_id":      d.ChatID,
				"chat_type":    d.ChatType,
				"message_type": d.MsgType,
				"content":      string(content),
				"mentions":     mentions,
				"create_time":  ms,
			},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

func header(a *App, eventID, eventType, ms string) map[string]any {
	return map[string]any{
		"event_id": eventID, "event_type": eventType, "create_time": ms,
		"token": a.VerificationToken, "app_id": a.ID, "tenant_key": a.TenantKey,
	}
}

// Deliver delivers a message event to the app's adapter: through its long
// connection if one is open, else to its webhook.
func (s *Server) Deliver(t testing.TB, d Delivery) Result {
	t.Helper()
	r, err := s.TryDeliver(d)
	if err != nil {
		t.Fatalf("feishutest: %v", err)
	}
	return r
}

// TryDeliver is Deliver returning its error, for use outside tests.
func (s *Server) TryDeliver(d Delivery) (Result, error) {
	if d.EventID == "" {
		d.EventID = randomID("ev_")
	}
	r, err := s.TryPush(d.App, s.MessageEvent(d))
	r.EventID = d.EventID
	return r, err
}

// Click describes a card click in full.
type Click struct {
	App       string
	EventID   string // default: random
	OpenID    string
	MessageID string
	Value     map[string]any
	FormValue map[string]any
	Name      string // the button's name
}

// Click clicks a button of message messageID as openID. value is the
// button's callback value (see ButtonValue); formValue the card's inputs.
func (s *Server) Click(t testing.TB, app, openID, messageID string, value, formValue map[string]any) ClickResult {
	t.Helper()
	return s.ClickWith(t, Click{App: app, OpenID: openID, MessageID: messageID, Value: value, FormValue: formValue})
}

// ClickEvent builds the card.action.trigger JSON of c and registers its
// delayed-update token.
func (s *Server) ClickEvent(c Click) (payload []byte, cardToken string) {
	s.mu.Lock()
	a := s.apps[c.App]
	if a == nil {
		a = &App{ID: c.App}
	}
	chat := ""
	if m, ok := s.byID[c.MessageID]; ok {
		chat = m.ChatID
	}
	cardToken = randomID("c-")
	s.clickTokens[cardToken] = &clickToken{messageID: c.MessageID, exp: s.now().Add(30 * time.Minute)}
	now := s.now()
	s.mu.Unlock()
	if c.EventID == "" {
		c.EventID = randomID("ev_")
	}
	action := map[string]any{"value": c.Value, "tag": "button", "name": c.Name}
	if c.FormValue != nil {
		action["form_value"] = c.FormValue
	}
	ev := map[string]any{
		"schema": "2.0",
		"header": header(a, c.EventID, "card.action.trigger", strconv.FormatInt(now.UnixMilli(), 10)),
		"event": map[string]any{
			"operator": map[string]any{"open_id": c.OpenID, "tenant_key": a.TenantKey},
			"token":    cardToken,
			"action":   action,
			"host":     "im_message",
			"context":  map[string]any{"open_message_id": c.MessageID, "open_chat_id": chat},
		},
	}
	b, _ := json.Marshal(ev)
	return b, cardToken
}

// ClickWith delivers a click and decodes the answer. When the answer
// carries a card ("raw"), the fake shows it in place of the clicked
// message, as Feishu does, so that Message shows what the click did.
func (s *Server) ClickWith(t testing.TB, c Click) ClickResult {
	t.Helper()
	r, err := s.TryClick(c)
	if err != nil {
		t.Fatalf("feishutest: %v", err)
	}
	return r
}

// TryClick is ClickWith returning its error, for use outside tests.
func (s *Server) TryClick(c Click) (ClickResult, error) {
	if c.EventID == "" {
		c.EventID = randomID("ev_")
	}
	payload, tok := s.ClickEvent(c)
	r, err := s.TryPush(c.App, payload)
	r.EventID = c.EventID
	if err != nil {
		return ClickResult{Result: r, CardToken: tok}, err
	}
	cr := DecodeClick(r, tok)
	if r.Status == http.StatusOK && cr.CardType == "raw" && cr.Card != nil {
		if card, err := json.Marshal(cr.Card); err == nil {
			s.mu.Lock()
			if m, ok := s.byID[c.MessageID]; ok && m.MsgType == "interactive" {
				m.Content = string(card)
				m.Updates++
			}
			s.mu.Unlock()
		}
	}
	return cr, nil
}

// DecodeClick decodes a click's answer.
func DecodeClick(r Result, cardToken string) ClickResult {
	out := ClickResult{Result: r, CardToken: cardToken}
	var body struct {
		Toast *Toast `json:"toast"`
		Card  *struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		} `json:"card"`
	}
	if json.Unmarshal(r.Body, &body) == nil {
		out.Toast = body.Toast
		if body.Card != nil {
			out.CardType, out.Card = body.Card.Type, body.Card.Data
		}
	}
	return out
}

// Push delivers an event payload (plain JSON) to the app's adapter: over
// its long connection if open, else signed and encrypted to its webhook.
func (s *Server) Push(t testing.TB, appID string, payload []byte) Result {
	t.Helper()
	r, err := s.TryPush(appID, payload)
	if err != nil {
		t.Fatalf("feishutest: %v", err)
	}
	return r
}

// TryPush is Push returning its error, for use outside tests.
func (s *Server) TryPush(appID string, payload []byte) (Result, error) {
	s.mu.Lock()
	conn := s.conns[appID]
	s.mu.Unlock()
	if conn != nil {
		r, err := conn.push(payload)
		if err != nil {
			return r, fmt.Errorf("push over long connection: %w", err)
		}
		return r, nil
	}
	body, hdr, err := s.Seal(appID, payload, s.now())
	if err != nil {
		return Result{}, err
	}
	return s.TryPost(appID, body, hdr)
}

// Seal encrypts payload with the app's encrypt key (if any) and returns the
// body and the headers Feishu sends: X-Lark-Request-Timestamp (at, in
// seconds), X-Lark-Request-Nonce and X-Lark-Signature.
func (s *Server) Seal(appID string, payload []byte, at time.Time) ([]byte, http.Header, error) {
	s.mu.Lock()
	a := s.apps[appID]
	s.mu.Unlock()
	if a == nil {
		return nil, nil, fmt.Errorf("seal: unknown app %q", appID)
	}
	body := payload
	ts := strconv.FormatInt(at.Unix(), 10)
	nonceb := make([]byte, 8)
	_, _ = rand.Read(nonceb)
	nonce := hex.EncodeToString(nonceb)
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("X-Lark-Request-Timestamp", ts)
	hdr.Set("X-Lark-Request-Nonce", nonce)
	if a.EncryptKey != "" {
		enc, err := Encrypt(payload, a.EncryptKey)
		if err != nil {
			return nil, nil, err
		}
		body, _ = json.Marshal(map[string]string{"encrypt": enc})
		hdr.Set("X-Lark-Signature", Sign(ts, nonce, a.EncryptKey, body))
	}
	return body, hdr, nil
}

// Post sends a raw webhook request to the app's Webhook.
func (s *Server) Post(t testing.TB, appID string, body []byte, hdr http.Header) Result {
	t.Helper()
	r, err := s.TryPost(appID, body, hdr)
	if err != nil {
		t.Fatalf("feishutest: %v", err)
	}
	return r
}

// TryPost is Post returning its error, for use outside tests.
func (s *Server) TryPost(appID string, body []byte, hdr http.Header) (Result, error) {
	s.mu.Lock()
	a := s.apps[appID]
	s.mu.Unlock()
	if a == nil || a.Webhook == "" {
		return Result{}, fmt.Errorf("app %q has no webhook", appID)
	}
	req, err := http.NewRequest(http.MethodPost, a.Webhook, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("post webhook: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Result{Status: resp.StatusCode, Body: b}, nil
}

// Sign computes X-Lark-Signature: hex SHA-256 of timestamp + nonce +
// encrypt key + body.
func Sign(ts, nonce, encryptKey string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(ts + nonce + encryptKey))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Encrypt encrypts plain like Feishu: AES-256-CBC with key SHA-256(encrypt
// key), a random IV prepended, PKCS#7 padding, base64.
func Encrypt(plain []byte, encryptKey string) (string, error) {
	key := sha256.Sum256([]byte(encryptKey))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, aes.BlockSize+len(plain)+pad)
	iv := buf[:aes.BlockSize]
	_, _ = rand.Read(iv)
	copy(buf[aes.BlockSize:], plain)
	for i := len(buf) - pad; i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf[aes.BlockSize:], buf[aes.BlockSize:])
	return base64.StdEncoding.EncodeToString(buf), nil
}

// Button is a callback button found in a card.
type Button struct {
	Label string
	Name  string
	Value map[string]any
}

// Buttons lists the callback buttons of a card JSON 2.0 (at any depth).
func Buttons(card map[string]any) []Button {
	var out []Button
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["tag"] == "button" {
				b := Button{}
				b.Name, _ = x["name"].(string)
				if txt, ok := x["text"].(map[string]any); ok {
					b.Label, _ = txt["content"].(string)
				}
				if bs, ok := x["behaviors"].([]any); ok {
					for _, be := range bs {
						if m, ok := be.(map[string]any); ok && m["type"] == "callback" {
							b.Value, _ = m["value"].(map[string]any)
						}
					}
				}
				out = append(out, b)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(card)
	// Map iteration is random: order buttons by name (btn_0, btn_1...).
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// ButtonValue returns the callback value of the button labelled label.
func ButtonValue(card map[string]any, label string) (map[string]any, bool) {
	for _, b := range Buttons(card) {
		if b.Label == label {
			return b.Value, true
		}
	}
	return nil, false
}
