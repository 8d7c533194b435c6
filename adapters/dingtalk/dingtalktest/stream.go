package dingtalktest

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Frame is a Stream frame as the gateway sends it.
type Frame struct {
	SpecVersion string            `json:"specVersion"`
	Type        string            `json:"type"`
	Time        int64             `json:"time"`
	Headers     map[string]string `json:"headers"`
	Data        string            `json:"data"`
}

// Ack is a client's answer to a frame.
type Ack struct {
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
	Message string            `json:"message"`
	Data    string            `json:"data"`
}

// Status is the status in an ack's data ("SUCCESS", "LATER"), "" when the
// data has none.
func (a Ack) Status() string {
	var d struct{ Status string }
	_ = json.Unmarshal([]byte(a.Data), &d)
	return d.Status
}

// conn is one open Stream connection.
type conn struct {
	app string
	ws  *websocket.Conn
	wmu sync.Mutex

	mu      sync.Mutex
	waiting map[string]chan Ack
	done    chan struct{}
	once    sync.Once
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// open is POST /v1.0/gateway/connections/open.
func (s *Server) open(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientID      string `json:"clientId"`
		ClientSecret  string `json:"clientSecret"`
		Subscriptions []struct {
			Type, Topic string
		} `json:"subscriptions"`
		UA string `json:"ua"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		apiError(w, 400, "InvalidParameter", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[in.ClientID]
	if !ok || !hmac.Equal([]byte(a.Secret), []byte(in.ClientSecret)) {
		apiError(w, 401, "InvalidAuthentication", "clientId or clientSecret is invalid")
		return
	}
	if len(in.Subscriptions) == 0 {
		apiError(w, 400, "InvalidParameter", "no subscriptions")
		return
	}
	ticket := "ticket-" + randID()
	s.tickets[ticket] = a.Key
	writeJSON(w, 200, map[string]string{"endpoint": "ws" + strings.TrimPrefix(s.URL, "http") + "/gw", "ticket": ticket})
}

// gateway is the WebSocket endpoint; a ticket is good once.
func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	app, ok := s.tickets[ticket]
	delete(s.tickets, ticket)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{app: app, ws: ws, waiting: map[string]chan Ack{}, done: make(chan struct{})}
	s.mu.Lock()
	if old := s.conns[app]; old != nil {
		old.close()
	}
	s.conns[app] = c
	s.opens[app]++
	s.mu.Unlock()
	go s.readAcks(c)
}

func (s *Server) readAcks(c *conn) {
	defer func() {
		c.close()
		s.mu.Lock()
		if s.conns[c.app] == c {
			delete(s.conns, c.app)
		}
		s.mu.Unlock()
	}()
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack Ack
		if err := json.Unmarshal(msg, &ack); err != nil {
			continue
		}
		id := ack.Headers["messageId"]
		c.mu.Lock()
		ch := c.waiting[id]
		delete(c.waiting, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- ack
		}
	}
}

// Connected reports whether app has an open Stream connection.
func (s *Server) Connected(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[app] != nil
}

// Opens counts the Stream connections app opened.
func (s *Server) Opens(app string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens[app]
}

// ErrNoAck says the client did not answer a frame in time.
var ErrNoAck = errors.New("dingtalktest: no ack")

// Send sends a frame to app's connection and waits for its ack.
func (s *Server) Send(app string, f Frame, timeout time.Duration) (Ack, error) {
	s.mu.Lock()
	c := s.conns[app]
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	if c == nil {
		return Ack{}, fmt.Errorf("dingtalktest: app %s is not connected", app)
	}
	if f.SpecVersion == "" {
		f.SpecVersion = "1.0"
	}
	if f.Time == 0 {
		f.Time = s.Now().UnixMilli()
	}
	if f.Headers == nil {
		f.Headers = map[string]string{}
	}
	if f.Headers["messageId"] == "" {
		f.Headers["messageId"] = "msg-" + strconv.Itoa(seq) + "-" + randID()
	}
	f.Headers["contentType"] = "application/json"
	f.Headers["time"] = strconv.FormatInt(f.Time, 10)
	id := f.Headers["messageId"]
	ch := make(chan Ack, 1)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	c.wmu.Lock()
	err := c.ws.WriteJSON(f)
	c.wmu.Unlock()
	if err != nil {
		return Ack{}, fmt.Errorf("dingtalktest: send frame: %w", err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	check := func(ack Ack) (Ack, error) {
		if ack.Headers["messageId"] != id {
			return ack, fmt.Errorf("dingtalktest: ack for %q, want %q", ack.Headers["messageId"], id)
		}
		return ack, nil
	}
	select {
	case ack := <-ch:
		return check(ack)
	case <-c.done:
		// A client that acks, then closes (a disconnect notice), may
		// close before this select sees the ack: the ack still counts.
		select {
		case ack := <-ch:
			return check(ack)
		default:
		}
		return Ack{}, fmt.Errorf("dingtalktest: connection closed before the ack: %w", ErrNoAck)
	case <-t.C:
		return Ack{}, ErrNoAck
	}
}

// Callback sends a CALLBACK frame of topic with data (messageId "" picks
// a fresh one; the same id redelivers).
func (s *Server) Callback(app, topic, messageID string, data []byte) (Ack, error) {
	return s.Send(app, Frame{Type: "CALLBACK", Headers: map[string]string{"topic": topic, "messageId": messageID}, Data: string(data)}, 5*time.Second)
}

// Ping sends a SYSTEM ping and checks that the client echoes its data.
func (s *Server) Ping(app string) error {
	data := `{"opaque":"` + randID() + `"}`
	ack, err := s.Send(app, Frame{Type: "SYSTEM", Headers: map[string]string{"topic": "ping"}, Data: data}, 5*time.Second)
	if err != nil {
		return err
	}
	if ack.Code != 200 || ack.Data != data {
		return fmt.Errorf("dingtalktest: ping answered %d %q, want 200 %q", ack.Code, ack.Data, data)
	}
	return nil
}

// Disconnect sends a SYSTEM disconnect (the client should close and
// reconnect); Drop closes the socket without a word.
func (s *Server) Disconnect(app string) error {
	_, err := s.Send(app, Frame{Type: "SYSTEM", Headers: map[string]string{"topic": "disconnect"}, Data: `{"reason":"fake"}`}, 5*time.Second)
	return err
}

// Drop closes app's socket abruptly.
func (s *Server) Drop(app string) {
	s.mu.Lock()
	c := s.conns[app]
	s.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// Message is a robot message to deliver.
type Message struct {
	MsgID          string // "" picks one
	StaffID        string // senderStaffId
	Nick           string
	Text           string
	Group          string // conversationId of a group; "" is a 1:1 chat
	AtBot          bool   // isInAtList (groups)
	ConversationID string // 1:1 conversation id ("" derives one)
}

// MessageData is the data of a bot message frame (and the body of the
// HTTP robot callback).
func (s *Server) MessageData(app string, m Message) []byte {
	if m.MsgID == "" {
		m.MsgID = "msg" + randID()
	}
	conv, typ := m.ConversationID, "1"
	if conv == "" {
		conv = "cid-p2p-" + m.StaffID
	}
	if m.Group != "" {
		conv, typ = m.Group, "2"
	}
	b, _ := json.Marshal(map[string]any{
		"conversationId": conv, "conversationType": typ, "conversationTitle": "fake",
		"chatbotCorpId": "ding-corp", "chatbotUserId": "bot-" + app, "robotCode": app,
		"msgId": m.MsgID, "msgtype": "text", "text": map[string]string{"content": m.Text},
		"createAt": s.Now().UnixMilli(), "senderStaffId": m.StaffID, "senderId": "$:LWCP_v1:$" + m.StaffID,
		"senderNick": m.Nick, "senderCorpId": "ding-corp", "isInAtList": m.AtBot, "isAdmin": false,
		"sessionWebhook": s.SessionWebhook(m.MsgID), "sessionWebhookExpiredTime": s.Now().Add(time.Hour).UnixMilli(),
	})
	return b
}

// Click is a click on a card's button.
type Click struct {
	OutTrackID string
	UserID     string
	Button     int               // the button slot (btn0..btn5)
	Inputs     map[string]string // by input name: mapped to the card's slots
	// Override replaces the button token the click sends (tests of
	// forged tokens).
	Override *string
}

// ClickData is the data of a card callback for c, built from the card as
// the fake holds it (its button token and input slots).
func (s *Server) ClickData(c Click) ([]byte, error) {
	card, ok := s.Card(c.OutTrackID)
	if !ok {
		return nil, fmt.Errorf("dingtalktest: no card %s", c.OutTrackID)
	}
	btn := "btn" + strconv.Itoa(c.Button)
	if c.Override == nil && card.Params[btn+"_show"] != "true" {
		return nil, fmt.Errorf("dingtalktest: card %s has no button %s", c.OutTrackID, btn)
	}
	params := map[string]any{"btn": card.Params[btn]}
	if c.Override != nil {
		params["btn"] = *c.Override
	}
	for j := range 12 {
		k := "in" + strconv.Itoa(j)
		if card.Params[k+"_show"] != "true" {
			continue
		}
		if v, ok := c.Inputs[card.Params[k+"_name"]]; ok {
			params[k] = v
		}
	}
	content, _ := json.Marshal(map[string]any{"cardPrivateData": map[string]any{"actionIds": []string{btn}, "params": params}})
	spaceType, spaceID := "IM", ""
	if g, ok := strings.CutPrefix(card.SpaceID, "dtv1.card//IM_GROUP."); ok {
		spaceType, spaceID = "IM_GROUP", g
	}
	return json.Marshal(map[string]any{
		"outTrackId": c.OutTrackID, "userId": c.UserID, "userIdType": 1, "corpId": "ding-corp",
		"spaceId": spaceID, "spaceType": spaceType, "type": "actionCallback", "extension": "{}", "content": string(content),
	})
}

// ClickAnswer is the card response a click's ack carries.
type ClickAnswer struct {
	CardData struct {
		CardParamMap map[string]string `json:"cardParamMap"`
	} `json:"cardData"`
	CardUpdateOptions struct {
		UpdateCardDataByKey bool `json:"updateCardDataByKey"`
	} `json:"cardUpdateOptions"`
}

// DecodeClickAnswer reads {"response":{...}} from an ack's data or an
// HTTP callback's body, and applies it to the card as DingTalk does.
func (s *Server) DecodeClickAnswer(outTrackID string, data []byte) (ClickAnswer, error) {
	var d struct {
		Response *ClickAnswer `json:"response"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return ClickAnswer{}, fmt.Errorf("dingtalktest: decode click answer: %w", err)
	}
	if d.Response == nil {
		return ClickAnswer{}, errors.New("dingtalktest: click answer without response")
	}
	s.mu.Lock()
	if c, ok := s.cards[outTrackID]; ok && len(d.Response.CardData.CardParamMap) > 0 {
		c.applyUpdate(d.Response.CardData.CardParamMap, d.Response.CardUpdateOptions.UpdateCardDataByKey)
	}
	s.mu.Unlock()
	return *d.Response, nil
}

// ClickStream clicks through the Stream connection and returns the ack.
func (s *Server) ClickStream(app string, c Click) (Ack, ClickAnswer, error) {
	data, err := s.ClickData(c)
	if err != nil {
		return Ack{}, ClickAnswer{}, err
	}
	ack, err := s.Callback(app, "/v1.0/card/instances/callback", "", data)
	if err != nil {
		return ack, ClickAnswer{}, err
	}
	ans, err := s.DecodeClickAnswer(c.OutTrackID, []byte(ack.Data))
	return ack, ans, err
}
