package feishu

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/flowbot/flowbot/bots"
)

// envelope is the part of a webhook body needed to route and authenticate
// it, encrypted or not.
type envelope struct {
	Encrypt   string `json:"encrypt"`
	Type      string `json:"type"`
	Token     string `json:"token"`
	Challenge string `json:"challenge"`
	Header    *struct {
		EventID    string `json:"event_id"`
		EventType  string `json:"event_type"`
		AppID      string `json:"app_id"`
		CreateTime string `json:"create_time"`
		Token      string `json:"token"`
	} `json:"header"`
}

// refusal is a webhook request the adapter will not process.
type refusal struct {
	status int
	reason string
}

func (r *refusal) Error() string { return r.reason }

func refuse(status int, format string, args ...any) *refusal {
	return &refusal{status: status, reason: fmt.Sprintf(format, args...)}
}

// errHandler marks a failure of the bot (not of the request): Feishu
// should redeliver.
var errHandler = errors.New("handler failed")

// ServeHTTP serves /webhook/feishu for every http-mode app.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"msg": "method not allowed"})
		return
	}
	body, err := readBody(w, r, a.cfg.MaxBodyBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"msg": "body too large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"msg": "read body"})
		return
	}
	status, resp := a.Inbound(r.Context(), r.Header, body)
	writeRaw(w, status, resp)
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// Inbound authenticates and handles one webhook request (headers and raw
// body) and returns the HTTP status and JSON body to answer. It never
// panics on bad input; refused requests reach no handler.
func (a *Adapter) Inbound(ctx context.Context, hdr http.Header, body []byte) (status int, resp []byte) {
	p, plain, env, err := a.authenticate(hdr, body)
	if err != nil {
		var rf *refusal
		if errors.As(err, &rf) {
			a.log.Warn("webhook refused", "status", rf.status, "reason", rf.reason)
			return rf.status, mustJSON(map[string]string{"msg": rf.reason})
		}
		return http.StatusBadRequest, mustJSON(map[string]string{"msg": "bad request"})
	}
	if env.Type == string(larkevent.ReqTypeChallenge) {
		return http.StatusOK, mustJSON(map[string]string{"challenge": env.Challenge})
	}
	if env.Header == nil {
		// Schema 1.0 events: acknowledged and ignored.
		return http.StatusOK, mustJSON(map[string]string{"msg": "ignored"})
	}
	out, err := p.disp.Do(ctx, plain)
	switch {
	case err == nil && out != nil:
		return http.StatusOK, mustJSON(out)
	case err == nil:
		return http.StatusOK, mustJSON(map[string]string{"msg": "success"})
	case errors.As(err, new(*dispatcher.NotFoundEventHandlerErr)) || errors.As(err, new(dispatcher.NotFoundEventHandlerErr)):
		return http.StatusOK, mustJSON(map[string]string{"msg": "ignored"})
	case errors.Is(err, errHandler):
		a.log.Error("handle event", "app", p.cfg.ID, "event_id", env.Header.EventID, "err", err)
		return http.StatusInternalServerError, mustJSON(map[string]string{"msg": "internal error, retry later"})
	default:
		var rf *refusal
		if errors.As(err, &rf) {
			return rf.status, mustJSON(map[string]string{"msg": rf.reason})
		}
		a.log.Warn("decode event", "app", p.cfg.ID, "err", err)
		return http.StatusBadRequest, mustJSON(map[string]string{"msg": "malformed event"})
	}
}

// authenticate finds the app a request belongs to, checks its signature,
// token and timestamp, and returns the decrypted body.
func (a *Adapter) authenticate(hdr http.Header, body []byte) (*app, []byte, envelope, error) {
	var outer envelope
	if err := json.Unmarshal(body, &outer); err != nil {
		return nil, nil, outer, refuse(http.StatusBadRequest, "invalid json")
	}
	if outer.Encrypt == "" {
		return a.authenticatePlain(hdr, body, outer)
	}
	ts := hdr.Get(larkevent.EventRequestTimestamp)
	nonce := hdr.Get(larkevent.EventRequestNonce)
	sig := hdr.Get(larkevent.EventSignature)
	var p *app
	if sig != "" {
		for _, c := range a.apps {
			if c.cfg.Mode != ModeHTTP || c.cfg.EncryptKey == "" {
				continue
			}
			want := larkevent.Signature(ts, nonce, c.cfg.EncryptKey, string(body))
			if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(sig))) == 1 {
				p = c
				break
			}
		}
	}
	if p == nil {
		// Feishu does not sign the URL check: accept it unsigned if it
		// decrypts with an app's key and carries that app's token.
		for _, c := range a.apps {
			if c.cfg.Mode != ModeHTTP || c.cfg.EncryptKey == "" {
				continue
			}
			plain, env, err := decrypt(outer.Encrypt, c.cfg.EncryptKey)
			if err == nil && env.Type == string(larkevent.ReqTypeChallenge) && challengeOK(c, env.Token) {
				return c, plain, env, nil
			}
		}
		return nil, nil, outer, refuse(http.StatusUnauthorized, "signature mismatch")
	}
	if err := a.checkTimestamp(p, ts, true); err != nil {
		return nil, nil, outer, err
	}
	plain, env, err := decrypt(outer.Encrypt, p.cfg.EncryptKey)
	if err != nil {
		return nil, nil, outer, err
	}
	if err := checkEnvelope(p, env); err != nil {
		return nil, nil, outer, err
	}
	return p, plain, env, nil
}

func (a *Adapter) authenticatePlain(hdr http.Header, body []byte, env envelope) (*app, []byte, envelope, error) {
	if env.Type == string(larkevent.ReqTypeChallenge) {
		for _, c := range a.apps {
			if c.cfg.Mode == ModeHTTP && c.cfg.EncryptKey == "" && tokenOK(c, env.Token) {
				return c, body, env, nil
			}
		}
		return nil, nil, env, refuse(http.StatusUnauthorized, "verification token mismatch")
	}
	if env.Header == nil || env.Header.AppID == "" {
		return nil, nil, env, refuse(http.StatusBadRequest, "no app id in event")
	}
	p, ok := a.byID[env.Header.AppID]
	if !ok || p.cfg.Mode != ModeHTTP {
		return nil, nil, env, refuse(http.StatusForbidden, "unknown app")
	}
	if p.cfg.EncryptKey != "" {
		return nil, nil, env, refuse(http.StatusUnauthorized, "unsigned request for an app with an encrypt key")
	}
	if err := a.checkTimestamp(p, hdr.Get(larkevent.EventRequestTimestamp), false); err != nil {
		return nil, nil, env, err
	}
	if err := checkEnvelope(p, env); err != nil {
		return nil, nil, env, err
	}
	// Without an encrypt key nothing is signed and the header timestamp
	// can be rewritten: the event's own create_time bounds a replay too.
	// (Feishu's own redeliveries after the window are refused as well.)
	if err := a.checkCreateTime(p, env.Header.CreateTime); err != nil {
		return nil, nil, env, err
	}
	return p, body, env, nil
}

// checkTimestamp applies the replay window to X-Lark-Request-Timestamp
// (seconds). It is required when the request is signed.
func (a *Adapter) checkTimestamp(p *app, ts string, required bool) error {
	if ts == "" {
		if required {
			return refuse(http.StatusUnauthorized, "missing timestamp")
		}
		return nil
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return refuse(http.StatusUnauthorized, "malformed timestamp")
	}
	d := a.now().Sub(time.Unix(sec, 0))
	if d > p.cfg.ReplayWindow || d < -p.cfg.ReplayWindow {
		return refuse(http.StatusUnauthorized, "timestamp outside the replay window")
	}
	return nil
}

// checkCreateTime applies the replay window to an event's
// header.create_time (milliseconds), when present.
func (a *Adapter) checkCreateTime(p *app, ms string) error {
	if ms == "" {
		return nil
	}
	v, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return refuse(http.StatusUnauthorized, "malformed create_time")
	}
	d := a.now().Sub(time.UnixMilli(v))
	if d > p.cfg.ReplayWindow || d < -p.cfg.ReplayWindow {
		return refuse(http.StatusUnauthorized, "event create_time outside the replay window")
	}
	return nil
}

// checkEnvelope checks the decrypted body's app id and verification token.
func checkEnvelope(p *app, env envelope) error {
	if env.Type == string(larkevent.ReqTypeChallenge) {
		if !challengeOK(p, env.Token) {
			return refuse(http.StatusUnauthorized, "verification token mismatch")
		}
		return nil
	}
	token := env.Token
	if env.Header != nil {
		token = env.Header.Token
		if env.Header.AppID != "" && env.Header.AppID != p.cfg.ID {
			return refuse(http.StatusForbidden, "app id mismatch")
		}
	}
	if p.cfg.VerificationToken != "" && !tokenOK(p, token) {
		return refuse(http.StatusUnauthorized, "verification token mismatch")
	}
	return nil
}

// challengeOK checks the token of a URL check that decrypted with p's
// key: knowing the key is proof enough when no token is configured.
func challengeOK(p *app, token string) bool {
	if p.cfg.VerificationToken == "" {
		return p.cfg.EncryptKey != ""
	}
	return tokenOK(p, token)
}

func tokenOK(p *app, token string) bool {
	return p.cfg.VerificationToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(p.cfg.VerificationToken)) == 1
}

func decrypt(ciphertext, key string) (_ []byte, _ envelope, err error) {
	var env envelope
	// The SDK's EventDecrypt slices by the padding byte unchecked and
	// panics on a forged ciphertext with bad padding.
	defer func() {
		if recover() != nil {
			err = refuse(http.StatusBadRequest, "cannot decrypt")
		}
	}()
	plain, err := larkevent.EventDecrypt(ciphertext, key)
	if err != nil {
		return nil, env, refuse(http.StatusBadRequest, "cannot decrypt")
	}
	if err := json.Unmarshal(plain, &env); err != nil {
		return nil, env, refuse(http.StatusBadRequest, "cannot decrypt")
	}
	return plain, env, nil
}

// onMessage handles im.message.receive_v1 (both transports).
func (a *Adapter) onMessage(ctx context.Context, p *app, ev *larkim.P2MessageReceiveV1) error {
	bev, ok := a.messageEvent(p, ev)
	if !ok {
		return nil
	}
	if bev.ChatType == "p2p" {
		p.limits.learnP2P(bev.UserID, bev.ChatID)
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.MessageTimeout)
	defer cancel()
	// The bot made its reply durable in the outbox before returning (the
	// reply rule of bots.Reply): the notifier sends it; nothing is sent
	// from memory here.
	if _, err := a.h.Handle(ctx, bev); err != nil {
		return fmt.Errorf("%w: %w", errHandler, err)
	}
	return nil
}

// messageEvent translates a message; ok is false for messages the bot
// does not take (not text, from a bot, group message not for the bot).
func (a *Adapter) messageEvent(p *app, ev *larkim.P2MessageReceiveV1) (bots.Event, bool) {
	if ev == nil || ev.Event == nil || ev.Event.Message == nil || ev.Event.Sender == nil || ev.EventV2Base == nil || ev.EventV2Base.Header == nil {
		return bots.Event{}, false
	}
	m, s := ev.Event.Message, ev.Event.Sender
	msgType := deref(m.MessageType)
	if (msgType != "text" && msgType != "file" && msgType != "image") || deref(s.SenderType) == "app" {
		return bots.Event{}, false
	}
	var content struct {
		Text     string `json:"text"`
		FileKey  string `json:"file_key"`
		FileName string `json:"file_name"`
		ImageKey string `json:"image_key"`
	}
	if err := json.Unmarshal([]byte(deref(m.Content)), &content); err != nil {
		return bots.Event{}, false
	}
	chatType := deref(m.ChatType)
	botID := p.botOpenID()
	text, mentioned := stripMentions(content.Text, m.Mentions, botID)
	if chatType != "p2p" {
		// In a group the bot takes only messages addressed to it: with its
		// open_id known, those mentioning it; otherwise those with a
		// mention at all (an app that may read every group message would
		// else answer all of them).
		if (botID != "" && !mentioned) || len(m.Mentions) == 0 {
			return bots.Event{}, false
		}
		chatType = "group"
	}
	bev := bots.Event{
		Platform: Platform,
		App:      p.cfg.ID,
		ID:       ev.EventV2Base.Header.EventID,
		ChatID:   deref(m.ChatId),
		ChatType: chatType,
		Text:     text,
		At:       millis(ev.EventV2Base.Header.CreateTime, a.now()),
	}
	if s.SenderId != nil {
		bev.UserID = deref(s.SenderId.OpenId)
		bev.UnionID = deref(s.SenderId.UnionId)
	}
	if bev.UserID == "" {
		return bots.Event{}, false
	}
	if msgType != "text" {
		f, ok := a.inFile(p, deref(m.MessageId), msgType, content.FileKey, content.FileName, content.ImageKey)
		if !ok {
			return bots.Event{}, false
		}
		bev.File = f
	}
	return bev, true
}

// stripMentions removes the bot's mention (or, with no bot id known, the
// leading mentions) and turns other mentions into "@name".
func stripMentions(text string, mentions []*larkim.MentionEvent, botOpenID string) (string, bool) {
	mentioned := false
	leading := true
	for _, m := range mentions {
		if m == nil || deref(m.Key) == "" {
			continue
		}
		key := deref(m.Key)
		isBot := false
		if botOpenID != "" {
			isBot = m.Id != nil && deref(m.Id.OpenId) == botOpenID
		} else {
			isBot = leading && strings.HasPrefix(strings.TrimSpace(text), key)
		}
		if isBot {
			mentioned = true
			text = strings.ReplaceAll(text, key, "")
			continue
		}
		leading = false
		text = strings.ReplaceAll(text, key, "@"+deref(m.Name))
	}
	return strings.TrimSpace(text), mentioned
}

// onClick handles card.action.trigger (both transports) and answers within
// ClickTimeout; a slower bot gets its card sent by delayed update.
func (a *Adapter) onClick(ctx context.Context, p *app, ev *callback.CardActionTriggerEvent) (*callback.CardActionTriggerResponse, error) {
	bev, err := a.clickEvent(p, ev)
	if err != nil {
		return toast(toastError, msgBadButton), nil
	}
	done := make(chan clickResult, 1)
	token := ev.Event.Token
	// Messages of a click's reply go to the card's chat, or to the clicker.
	to := bots.Recipient{ChatID: bev.ChatID, UserID: bev.UserID}
	// kept is closed once a late click was kept (or could not be): the
	// handler marks it done only after that.
	kept := make(chan struct{})
	a.group.Go(func(bg context.Context) {
		hctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		reply, err := a.h.Handle(hctx, bev)
		select {
		case done <- clickResult{reply, err}:
			return
		default:
		}
		// The click was answered already: finish by delayed update.
		a.finishLate(hctx, p, token, to, bev.ID, reply, err)
		<-kept
		if a.inbox != nil && err == nil {
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(hctx), 5*time.Second)
			defer dcancel()
			if derr := a.inbox.Done(dctx, bev); derr != nil {
				a.log.Warn("mark late click done (it will be replayed, and dropped as a duplicate)", "app", p.cfg.ID, "event_id", bev.ID, "err", derr)
			}
		}
	})
	timer := time.NewTimer(a.cfg.ClickTimeout)
	defer timer.Stop()
	var r clickResult
	select {
	case r = <-done:
	case <-timer.C:
		r = a.lateAnswer(done)
	case <-ctx.Done():
		r = a.lateAnswer(done)
	}
	if errors.Is(r.err, errLate) {
		// Feishu takes "processing" as the answer and never delivers the
		// click again: keep it durably first.
		kerr := a.keepLate(ctx, p, bev)
		close(kept)
		if kerr != nil {
			return toast(toastError, msgTryAgain), nil
		}
		return toast(toastInfo, msgProcessing), nil
	}
	if r.err != nil {
		a.log.Error("handle click", "app", p.cfg.ID, "event_id", bev.ID, "err", r.err)
		if r.reply.Toast != "" {
			// The bot's own words for its failure, shown as an error.
			return &callback.CardActionTriggerResponse{Toast: &callback.Toast{Type: toastError, Content: r.reply.Toast}}, nil
		}
		return toast(toastError, msgTryAgain), nil
	}
	return a.clickResponse(r.reply), nil
}

// keepLate writes a click about to be answered "processing" to the inbox.
func (a *Adapter) keepLate(ctx context.Context, p *app, ev bots.Event) error {
	if a.inbox == nil {
		return nil
	}
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.inbox.Keep(kctx, ev); err != nil {
		a.log.Error("keep late click in the inbox: answering \"try again\"", "app", p.cfg.ID, "event_id", ev.ID, "err", err)
		return fmt.Errorf("feishu: keep late click: %w", err)
	}
	return nil
}

// Feishu's toast types.
const (
	toastInfo    = "info"
	toastWarning = "warning"
	toastError   = "error"
)

// toastType maps the bot's toast kind to Feishu's toast type.
func toastType(k bots.ToastKind) string {
	switch k {
	case bots.ToastWarning:
		return toastWarning
	case bots.ToastError:
		return toastError
	default:
		return toastInfo
	}
}

var errLate = errors.New("click answered before the bot finished")

// clickResult is the bot's answer to a click.
type clickResult struct {
	reply bots.Reply
	err   error
}

// lateAnswer claims the slot of the handler's result: if the handler has
// not answered yet it will finish by delayed update.
func (a *Adapter) lateAnswer(done chan clickResult) clickResult {
	select {
	case r := <-done:
		return r
	default:
	}
	// Fill the buffer so the handler's send fails and it goes late.
	select {
	case done <- clickResult{err: errLate}:
		return clickResult{err: errLate}
	default:
		return <-done
	}
}

func (a *Adapter) finishLate(ctx context.Context, p *app, token string, to bots.Recipient, eventID string, reply bots.Reply, err error) {
	if err != nil {
		a.log.Error("handle click (late)", "app", p.cfg.ID, "event_id", eventID, "err", err)
		return
	}
	if reply.Card != nil && token != "" {
		if err := a.delayedUpdate(ctx, p, token, *reply.Card); err != nil {
			a.log.Error("delayed card update", "app", p.cfg.ID, "event_id", eventID, "err", err)
		}
	}
}

func (a *Adapter) clickResponse(r bots.Reply) *callback.CardActionTriggerResponse {
	out := &callback.CardActionTriggerResponse{}
	if r.Toast != "" {
		out.Toast = &callback.Toast{Type: toastType(r.ToastKind), Content: r.Toast}
	}
	if r.Card != nil {
		b, err := RenderCard(*r.Card)
		if err != nil {
			a.log.Error("render card", "err", err)
			return toast(toastError, msgTryAgain)
		}
		out.Card = &callback.Card{Type: "raw", Data: json.RawMessage(b)}
	}
	return out
}

// clickEvent translates a click; an error means a value this adapter did
// not render.
func (a *Adapter) clickEvent(p *app, ev *callback.CardActionTriggerEvent) (bots.Event, error) {
	if ev == nil || ev.Event == nil || ev.Event.Action == nil || ev.Event.Operator == nil || ev.EventV2Base == nil || ev.EventV2Base.Header == nil {
		return bots.Event{}, errors.New("incomplete click")
	}
	act := ev.Event.Action
	name, values, err := decodeValue(act.Value)
	if err != nil {
		return bots.Event{}, err
	}
	inputs := formInputs(act.FormValue)
	if act.InputValue != "" && act.Name != "" {
		inputs[act.Name] = act.InputValue
	}
	bev := bots.Event{
		Platform: Platform,
		App:      p.cfg.ID,
		ID:       ev.EventV2Base.Header.EventID,
		UserID:   ev.Event.Operator.OpenID,
		At:       millis(ev.EventV2Base.Header.CreateTime, a.now()),
		Action:   &bots.Action{Name: name, Value: values, Inputs: inputs},
	}
	if c := ev.Event.Context; c != nil {
		bev.ChatID = c.OpenChatID
		if c.OpenMessageID != "" {
			bev.Action.MessageRef = p.cfg.ID + refSep + c.OpenMessageID
		}
	}
	if bev.UserID == "" {
		return bots.Event{}, errors.New("click without operator")
	}
	return bev, nil
}

// decodeValue reads a button value rendered by renderButtons.
func decodeValue(v map[string]any) (string, map[string]string, error) {
	name, ok := v[valueAction].(string)
	if !ok || name == "" || len(name) > 64 {
		return "", nil, errors.New("button value without action")
	}
	values := map[string]string{}
	switch raw := v[valueValues].(type) {
	case nil:
	case map[string]any:
		for k, x := range raw {
			s, ok := x.(string)
			if !ok {
				return "", nil, fmt.Errorf("button value %q is not a string", k)
			}
			values[k] = s
		}
	default:
		return "", nil, errors.New("button values are not an object")
	}
	for k := range v {
		if k != valueAction && k != valueValues {
			return "", nil, fmt.Errorf("unexpected button value key %q", k)
		}
	}
	return name, values, nil
}

func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// Texts of the toasts the adapter itself shows.
var (
	msgBadButton  = i18n{zh: "按钮已失效，请刷新后重试", en: "This button is no longer valid, please refresh"}
	msgTryAgain   = i18n{zh: "系统繁忙，请稍后重试", en: "Something went wrong, please try again"}
	msgProcessing = i18n{zh: "正在处理，请稍候", en: "Processing, please wait"}
)

type i18n struct{ zh, en string }

func toast(kind string, m i18n) *callback.CardActionTriggerResponse {
	return &callback.CardActionTriggerResponse{Toast: &callback.Toast{
		Type:        kind,
		Content:     m.zh,
		I18nContent: map[string]string{"zh_cn": m.zh, "en_us": m.en},
	}}
}

func millis(s string, def time.Time) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return def
	}
	return time.UnixMilli(ms)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"msg":"internal error"}`)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) { writeRaw(w, status, mustJSON(v)) }

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
