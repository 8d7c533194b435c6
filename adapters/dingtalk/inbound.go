package dingtalk

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/card"

	"github.com/flowbot/flowbot/bots"
)

// result is how one inbound message or click ended.
type result struct {
	later bool               // the bot failed: DingTalk should deliver again
	card  *card.CardResponse // a click's answer
	err   string             // why it was refused (logged, also in the ack)
}

// botMessage is a robot message (Stream data or HTTP callback body).
type botMessage struct {
	MsgID            string                   `json:"msgId"`
	MsgType          string                   `json:"msgtype"`
	Text             struct{ Content string } `json:"text"`
	CreateAt         int64                    `json:"createAt"`
	ConversationID   string                   `json:"conversationId"`
	ConversationType string                   `json:"conversationType"`
	SenderStaffID    string                   `json:"senderStaffId"`
	SenderNick       string                   `json:"senderNick"`
	ChatbotUserID    string                   `json:"chatbotUserId"`
	IsInAtList       bool                     `json:"isInAtList"`
	RobotCode        string                   `json:"robotCode"`
	SessionWebhook   string                   `json:"sessionWebhook"`
}

// DecodeMessage decodes and checks a robot message.
func DecodeMessage(data []byte) (botMessage, error) {
	var m botMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("dingtalk: decode message: %w", err)
	}
	if m.MsgID == "" || m.ConversationID == "" {
		return m, errors.New("dingtalk: decode message: missing msgId or conversationId")
	}
	if m.ConversationType != "1" && m.ConversationType != "2" {
		return m, fmt.Errorf("dingtalk: decode message: conversationType %q", m.ConversationType)
	}
	return m, nil
}

var mentionRE = regexp.MustCompile(`^(\s*@\S+\s*)+`)

// onMessage turns a robot message into an event.
func (a *Adapter) onMessage(ctx context.Context, p *app, data []byte) result {
	m, err := DecodeMessage(data)
	if err != nil {
		a.log.Warn("refused message", "app", p.cfg.Key, "err", err)
		return result{err: err.Error()}
	}
	if m.MsgType != "" && m.MsgType != "text" {
		return result{err: "not a text message"}
	}
	if m.SenderStaffID == "" {
		// Users outside the organisation have no staff id: nothing to
		// map them to.
		a.log.Warn("message without senderStaffId ignored", "app", p.cfg.Key, "msg", m.MsgID)
		return result{err: "no senderStaffId"}
	}
	ev := bots.Event{
		Platform: Platform, App: p.cfg.Key, ID: m.MsgID, UserID: m.SenderStaffID,
		ChatType: "p2p", Text: strings.TrimSpace(m.Text.Content), At: time.UnixMilli(m.CreateAt),
	}
	if m.ConversationType == "2" {
		if !m.IsInAtList {
			return result{err: "group message without a mention of the bot"}
		}
		ev.ChatType, ev.ChatID = "group", m.ConversationID
		ev.Text = strings.TrimSpace(mentionRE.ReplaceAllString(ev.Text, ""))
	}
	if p.cfg.TextOnly {
		if act, ok := parseCommand(ev.Text); ok {
			ev.Action = act
		}
	}
	key := "msg:" + p.cfg.Key + ":" + m.MsgID
	if !a.seen.begin(key) {
		return result{err: "duplicate"}
	}
	hctx, cancel := context.WithTimeout(ctx, a.cfg.MessageTimeout)
	defer cancel()
	reply, err := a.h.Handle(hctx, ev)
	if err != nil {
		a.seen.abort(key)
		a.log.Error("bot failed on a message; asking DingTalk to deliver it again", "app", p.cfg.Key, "msg", m.MsgID, "err", err)
		return result{later: true, err: "internal error"}
	}
	a.seen.done(key, a.cfg.DedupeTTL)
	if ev.Action != nil && reply.Toast != "" && m.SessionWebhook != "" {
		// Text-only mode has no card to show a click's toast: the
		// session webhook is the fast path's channel.
		if err := a.replySession(ctx, m.SessionWebhook, reply.Toast); err != nil {
			a.log.Warn("toast through session webhook", "app", p.cfg.Key, "err", err)
		}
	}
	return result{}
}

var cmdRE = regexp.MustCompile(`^/(approve|reject|return|send_back|comment|transfer|withdraw|urge)\s+(\d+)\s*([\s\S]*)$`)

// parseCommand reads the text-only mode's /approve N [comment],
// /reject N reason, /return N reason, /send_back N step reason,
// /comment N text, /transfer N user, /withdraw N and /urge N.
func parseCommand(text string) (*bots.Action, bool) {
	m := cmdRE.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return nil, false
	}
	name, id, rest := m[1], m[2], strings.TrimSpace(m[3])
	act := &bots.Action{Name: name, Value: map[string]string{}, Inputs: map[string]string{}}
	switch name {
	case "withdraw", "urge":
		act.Value["instance"] = id
	default:
		act.Value["task"] = id
	}
	switch name {
	case "transfer":
		act.Inputs["user"] = rest
	case "send_back":
		step, reason, _ := strings.Cut(rest, " ")
		act.Inputs["to_step"] = step
		if reason = strings.TrimSpace(reason); reason != "" {
			act.Inputs["comment"], act.Inputs["reason"] = reason, reason
		}
	default:
		if rest != "" {
			act.Inputs["comment"], act.Inputs["reason"] = rest, rest
		}
	}
	return act, true
}

// cardCallback is a card-platform callback (Stream data or HTTP body).
type cardCallback struct {
	card.CardRequest
	action  string
	value   map[string]string
	inputs  map[string]string
	eventID string
}

// DecodeCardCallback decodes a card callback and checks its signed
// button token with secret.
func DecodeCardCallback(data []byte, secret string) (cardCallback, error) {
	var c cardCallback
	if err := json.Unmarshal(data, &c.CardRequest); err != nil {
		return c, fmt.Errorf("dingtalk: decode card callback: %w", err)
	}
	if c.OutTrackId == "" || c.UserId == "" || c.Content == "" {
		return c, errors.New("dingtalk: decode card callback: missing outTrackId, userId or content")
	}
	if err := json.Unmarshal([]byte(c.Content), &c.CardActionData); err != nil {
		return c, fmt.Errorf("dingtalk: decode card callback content: %w", err)
	}
	params := c.CardActionData.CardPrivateData.Params
	tok, _ := params["btn"].(string)
	bt, err := openButton(tok, secret)
	if err != nil {
		return c, err
	}
	c.action, c.value, c.inputs = bt.Action, bt.Value, map[string]string{}
	for j, name := range bt.Inputs {
		if v, ok := params["in"+strconv.Itoa(j)]; ok {
			c.inputs[name] = paramString(v)
		}
	}
	return c, nil
}

// paramString turns a card param (a string, a number, a list of choices
// or a bool) into the one string bots.InputKind names.
func paramString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, paramString(e))
		}
		return strings.Join(parts, ",")
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// button is what a card button sends back: its action, its value and the
// names of the card's inputs, signed by the adapter (Stream frames carry
// no signature, so the adapter signs what it rendered).
type button struct {
	Action string            `json:"a"`
	Value  map[string]string `json:"v,omitempty"`
	Inputs []string          `json:"n,omitempty"`
	MAC    string            `json:"s"`
}

func buttonMAC(b button, secret string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(b.Action))
	keys := make([]string, 0, len(b.Value))
	for k := range b.Value {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, b.Value[k])
	}
	for _, n := range b.Inputs {
		fmt.Fprintf(h, "\x01%s", n)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

func sealButton(b button, secret string) string {
	b.MAC = buttonMAC(b, secret)
	out, _ := json.Marshal(b)
	return string(out)
}

func openButton(tok, secret string) (button, error) {
	var b button
	if tok == "" {
		return b, errors.New("dingtalk: card callback without a button token")
	}
	if err := json.Unmarshal([]byte(tok), &b); err != nil {
		return b, fmt.Errorf("dingtalk: decode button token: %w", err)
	}
	if !hmac.Equal([]byte(b.MAC), []byte(buttonMAC(b, secret))) {
		return b, errors.New("dingtalk: button token: bad signature")
	}
	return b, nil
}

// onCard turns a card callback into a click event and answers with the
// updated card within ClickTimeout.
func (a *Adapter) onCard(ctx context.Context, p *app, data []byte, eventID string) result {
	c, err := DecodeCardCallback(data, p.cfg.Secret)
	if err != nil {
		a.log.Warn("refused card callback", "app", p.cfg.Key, "err", err)
		return result{err: err.Error()}
	}
	if eventID == "" {
		sum := sha256.Sum256(data)
		eventID = hex.EncodeToString(sum[:12])
	}
	ev := bots.Event{
		Platform: Platform, App: p.cfg.Key, ID: "card:" + eventID, UserID: c.UserId, At: a.now(),
		Action: &bots.Action{Name: c.action, Value: c.value, Inputs: c.inputs, MessageRef: p.cfg.Key + "/" + c.OutTrackId},
	}
	if c.SpaceType == "IM_GROUP" {
		ev.ChatType, ev.ChatID = "group", c.SpaceId
	} else {
		ev.ChatType = "p2p"
	}
	key := "card:" + p.cfg.Key + ":" + eventID
	if !a.seen.begin(key) {
		return result{err: "duplicate"}
	}
	ch := make(chan answer, 1)
	// kept is closed once a late callback was kept (or could not be): the
	// handler marks it done only after that.
	kept := make(chan struct{})
	a.group.Go(func(bg context.Context) {
		hctx, cancel := context.WithTimeout(bg, a.cfg.MessageTimeout)
		defer cancel()
		r, err := a.h.Handle(hctx, ev)
		if err != nil {
			a.seen.abort(key)
		} else {
			a.seen.done(key, a.cfg.DedupeTTL)
		}
		select {
		case ch <- answer{reply: r, err: err}:
			return
		default:
		}
		// Answered already (the slot holds the late mark): the card update
		// is durable in the outbox; the inbox entry is done.
		<-kept
		if a.inbox != nil && err == nil {
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(hctx), 5*time.Second)
			defer dcancel()
			if derr := a.inbox.Done(dctx, ev); derr != nil {
				a.log.Warn("mark late callback done (it will be replayed, and dropped as a duplicate)", "app", p.cfg.Key, "err", derr)
			}
		}
	})
	t := time.NewTimer(a.cfg.ClickTimeout)
	defer t.Stop()
	var ans answer
	select {
	case ans = <-ch:
	case <-t.C:
		ans = lateSlot(ch)
	case <-ctx.Done():
		ans = lateSlot(ch)
	}
	if ans.late {
		// The bot finishes in the background; its card update is durable
		// in the outbox and reaches every copy through Update. DingTalk
		// takes this answer as final: keep the callback durably first.
		kerr := a.keepLate(ctx, p, ev)
		close(kept)
		if kerr != nil {
			return result{later: true, err: "internal error"}
		}
		return result{card: clickAnswer(bots.Reply{}, p.cfg.Secret)}
	}
	if ans.err != nil {
		a.log.Error("bot failed on a click", "app", p.cfg.Key, "err", ans.err)
		return result{later: true, err: "internal error"}
	}
	return result{card: clickAnswer(ans.reply, p.cfg.Secret)}
}

// answer is the bot's answer to a card callback; late marks the slot
// taken by a callback answered before the bot finished.
type answer struct {
	reply bots.Reply
	err   error
	late  bool
}

// lateSlot takes the handler's answer if it is there, or else fills its
// slot with the late mark, so that the handler knows it was answered
// already.
func lateSlot(ch chan answer) answer {
	select {
	case ans := <-ch:
		return ans
	case ch <- answer{late: true}:
		return answer{late: true}
	}
}

// keepLate writes a callback about to be answered before its handler
// finished to the inbox.
func (a *Adapter) keepLate(ctx context.Context, p *app, ev bots.Event) error {
	if a.inbox == nil {
		return nil
	}
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.inbox.Keep(kctx, ev); err != nil {
		a.log.Error("keep late card callback in the inbox: asking DingTalk to deliver it again", "app", p.cfg.Key, "err", err)
		return fmt.Errorf("dingtalk: keep late callback: %w", err)
	}
	return nil
}

// clickAnswer is the callback's answer: the reply card's params (and the
// toast) updated by key.
func clickAnswer(r bots.Reply, secret string) *card.CardResponse {
	params := map[string]string{"toast": r.Toast, "toast_kind": string(r.ToastKind)}
	if r.Card != nil {
		for k, v := range cardParams(*r.Card, secret) {
			params[k] = v
		}
	}
	return &card.CardResponse{
		CardUpdateOptions: &card.CardUpdateOptions{UpdateCardDataByKey: true},
		CardData:          &card.CardDataDto{CardParamMap: params},
	}
}

// Sign is DingTalk's robot callback signature of timestamp (ms):
// base64(HMAC-SHA256(secret, timestamp+"\n"+secret)).
func Sign(timestamp, secret string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// ServeHTTP is the HTTP robot callback (POST /webhook/dingtalk): robot
// messages and card callbacks, signed with the timestamp and sign headers.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	ts, sign := r.Header.Get("timestamp"), r.Header.Get("sign")
	p, err := a.verify(ts, sign)
	if err != nil {
		a.log.Warn("refused http callback", "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	a.metrics.Inc(p.cfg.Key, "frame_in")
	var probe struct {
		OutTrackID string `json:"outTrackId"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var res result
	if probe.OutTrackID != "" {
		res = a.onCard(r.Context(), p, body, "")
	} else {
		res = a.onMessage(r.Context(), p, body)
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case res.later:
		a.metrics.Inc(p.cfg.Key, "later")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"status":"LATER"}`))
	case res.card != nil:
		a.metrics.Inc(p.cfg.Key, "ack")
		_ = json.NewEncoder(w).Encode(map[string]any{"response": res.card})
	case res.err != "" && res.err != "duplicate" && !strings.HasPrefix(res.err, "group message") && res.err != "not a text message":
		http.Error(w, "bad request", http.StatusBadRequest)
	default:
		a.metrics.Inc(p.cfg.Key, "ack")
		_, _ = w.Write([]byte(`{}`))
	}
}

// verify checks the signature against every HTTP-mode app's secret (in
// constant time) and the timestamp against its replay window.
func (a *Adapter) verify(ts, sign string) (*app, error) {
	if ts == "" || sign == "" {
		return nil, errors.New("dingtalk: callback without timestamp or sign")
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("dingtalk: callback timestamp: %w", err)
	}
	got, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return nil, fmt.Errorf("dingtalk: callback sign: %w", err)
	}
	for _, p := range a.apps {
		if p.cfg.Mode != ModeHTTP {
			continue
		}
		want, _ := base64.StdEncoding.DecodeString(Sign(ts, p.cfg.Secret))
		if !hmac.Equal(got, want) {
			continue
		}
		age := a.now().Sub(time.UnixMilli(ms))
		if age > p.cfg.ReplayWindow || age < -5*time.Minute {
			return nil, fmt.Errorf("dingtalk: callback timestamp outside the replay window (age %s)", age.Round(time.Second))
		}
		return p, nil
	}
	return nil, errors.New("dingtalk: callback sign matches no app")
}

// replySession posts a markdown text to a message's session webhook.
func (a *Adapter) replySession(ctx context.Context, url, text string) error {
	body, _ := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": text}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("dingtalk: session reply: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("dingtalk: session reply: %w", err)
	}
	defer resp.Body.Close()
	return checkAnswer(resp, nil)
}
