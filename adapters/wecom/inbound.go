package wecom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// envelope is the outer XML of a POSTed callback.
type envelope struct {
	ToUserName string `xml:"ToUserName"`
	AgentID    string `xml:"AgentID"`
	Encrypt    string `xml:"Encrypt"`
}

// callback is the decrypted XML of a message or an event.
type callback struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Content      string `xml:"Content"`
	MsgID        string `xml:"MsgId"`
	AgentID      int64  `xml:"AgentID"`
	Event        string `xml:"Event"`
	EventKey     string `xml:"EventKey"`
	TaskID       string `xml:"TaskId"`
	CardType     string `xml:"CardType"`
	ResponseCode string `xml:"ResponseCode"`

	raw []byte // the decrypted XML
}

// refusal is a callback the adapter will not process.
type refusal struct {
	status int
	reason string
}

func (r *refusal) Error() string { return r.reason }

func refuse(status int, reason string) *refusal { return &refusal{status: status, reason: reason} }

// ServeHTTP serves /webhook/wecom: GET is WeCom's URL check, POST a callback.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		status, body := a.Verify(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	case http.MethodPost:
		if r.ContentLength > a.cfg.MaxBodyBytes {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		status, reason := a.Inbound(r.Context(), q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), body)
		if status != http.StatusOK {
			http.Error(w, reason, status)
			return
		}
		w.WriteHeader(http.StatusOK) // empty 200: acknowledged, no passive reply
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// Verify answers WeCom's URL check: the decrypted echostr when the
// signature of one configured app matches.
func (a *Adapter) Verify(sig, ts, nonce, echostr string) (int, []byte) {
	if echostr == "" {
		return http.StatusBadRequest, []byte("missing echostr")
	}
	for _, p := range a.apps {
		if !signatureOK(p.cfg.Token, ts, nonce, echostr, sig) {
			continue
		}
		if err := a.checkTimestamp(ts); err != nil {
			return err.status, []byte(err.reason)
		}
		msg, recv, err := decryptMsg(echostr, p.key)
		if err != nil || recv != p.cfg.CorpID {
			return http.StatusBadRequest, []byte("cannot decrypt")
		}
		return http.StatusOK, msg
	}
	return http.StatusUnauthorized, []byte("signature mismatch")
}

// Inbound authenticates and handles one POSTed callback. It returns 200
// (the empty acknowledgement) or the status and reason of a refusal; it
// never panics on bad input, and refused callbacks reach no handler.
func (a *Adapter) Inbound(ctx context.Context, sig, ts, nonce string, body []byte) (int, string) {
	p, cb, err := a.authenticate(sig, ts, nonce, body)
	if err != nil {
		var rf *refusal
		if !errors.As(err, &rf) {
			rf = refuse(http.StatusBadRequest, "bad request")
		}
		a.log.Warn("callback refused", "status", rf.status, "reason", rf.reason)
		a.metrics.Callback("", "refused")
		return rf.status, rf.reason
	}
	switch {
	case cb.MsgType == "text":
		return a.onText(ctx, p, cb)
	case cb.MsgType == "event" && cb.Event == "template_card_event":
		return a.onClick(ctx, p, cb)
	case cb.MsgType == "event" && cb.Event == "change_contact" && a.dir != nil:
		return a.onContact(ctx, p, cb)
	}
	a.metrics.Callback(p.cfg.Name, "ignored")
	return http.StatusOK, ""
}

func (a *Adapter) authenticate(sig, ts, nonce string, body []byte) (*app, callback, error) {
	var env envelope
	var cb callback
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		return nil, cb, refuse(http.StatusBadRequest, "malformed xml")
	}
	var p *app
	for _, c := range a.apps {
		if signatureOK(c.cfg.Token, ts, nonce, env.Encrypt, sig) {
			p = c
			break
		}
	}
	if p == nil {
		return nil, cb, refuse(http.StatusUnauthorized, "signature mismatch")
	}
	if err := a.checkTimestamp(ts); err != nil {
		return nil, cb, err
	}
	msg, recv, err := decryptMsg(env.Encrypt, p.key)
	if err != nil {
		return nil, cb, refuse(http.StatusBadRequest, "cannot decrypt")
	}
	if recv != p.cfg.CorpID {
		return nil, cb, refuse(http.StatusForbidden, "receiveid is not the corp id")
	}
	if err := xml.Unmarshal(msg, &cb); err != nil {
		return nil, cb, refuse(http.StatusBadRequest, "malformed message xml")
	}
	cb.raw = msg
	if cb.ToUserName != p.cfg.CorpID || (cb.AgentID != 0 && cb.AgentID != p.cfg.AgentID) {
		return nil, cb, refuse(http.StatusForbidden, "message for another corp or agent")
	}
	if cb.FromUserName == "" {
		return nil, cb, refuse(http.StatusBadRequest, "message without sender")
	}
	return p, cb, nil
}

func (a *Adapter) checkTimestamp(ts string) *refusal {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return refuse(http.StatusUnauthorized, "malformed timestamp")
	}
	d := a.now().Sub(time.Unix(sec, 0))
	if d > a.cfg.ReplayWindow || d < -a.cfg.ReplayWindow {
		return refuse(http.StatusUnauthorized, "timestamp outside the replay window")
	}
	return nil
}

// onText handles a text message: the answer of a pending follow-up, or
// an event for the bot (whose reply goes through the outbox).
func (a *Adapter) onText(ctx context.Context, p *app, cb callback) (int, string) {
	id := p.cfg.Name + ":msg:" + cb.MsgID
	if cb.MsgID == "" {
		id = p.cfg.Name + ":msg:" + hash(cb.FromUserName, strconv.FormatInt(cb.CreateTime, 10), cb.Content)
	}
	if !a.seen.First(id) {
		a.metrics.Callback(p.cfg.Name, "duplicate")
		return http.StatusOK, ""
	}
	if ev, done, ok := a.follow.answer(p.cfg.Name, cb.FromUserName, cb.Content, a.now()); ok {
		if !done {
			a.askNext(p, cb.FromUserName)
			a.metrics.Callback(p.cfg.Name, "ok")
			return http.StatusOK, ""
		}
		return a.dispatchClick(ctx, p, ev, "")
	}
	ev := bots.Event{
		Platform: Platform, App: p.cfg.Name, ID: "wecom:" + id,
		UserID: cb.FromUserName, ChatID: cb.FromUserName, ChatType: "p2p",
		Text: strings.TrimSpace(cb.Content), At: unix(cb.CreateTime, a.now()),
	}
	hctx, cancel := context.WithTimeout(ctx, a.cfg.HandleTimeout)
	defer cancel()
	if _, err := a.h.Handle(hctx, ev); err != nil {
		a.seen.Forget(id) // WeCom retries: let the retry through
		a.log.Error("handle message", "app", p.cfg.Name, "event_id", ev.ID, "err", err)
		a.metrics.Callback(p.cfg.Name, "error")
		return http.StatusInternalServerError, "internal error, retry later"
	}
	a.metrics.Callback(p.cfg.Name, "ok")
	return http.StatusOK, ""
}

// onClick handles a template_card_event.
func (a *Adapter) onClick(ctx context.Context, p *app, cb callback) (int, string) {
	name, values, err := decodeKey(cb.EventKey)
	if err != nil {
		a.metrics.Callback(p.cfg.Name, "refused")
		return http.StatusBadRequest, "unknown button"
	}
	id := p.cfg.Name + ":click:" + hash(cb.TaskID, cb.EventKey, cb.FromUserName)
	if !a.seen.First(id) {
		a.metrics.Callback(p.cfg.Name, "duplicate")
		return http.StatusOK, ""
	}
	a.cards.clicked(p.cfg.Name, cb.FromUserName, cb.TaskID, cb.ResponseCode, a.now())
	ev := bots.Event{
		Platform: Platform, App: p.cfg.Name, ID: "wecom:" + id,
		UserID: cb.FromUserName, ChatID: cb.FromUserName, ChatType: "p2p",
		At:     unix(cb.CreateTime, a.now()),
		Action: &bots.Action{Name: name, Value: values, Inputs: map[string]string{}},
	}
	if st := a.cards.byTask(cb.TaskID); st != nil {
		ev.Action.MessageRef = st.ref
		if asks := followUps(st.inputs); len(asks) > 0 {
			a.follow.start(p.cfg.Name, cb.FromUserName, pending{ev: ev, inputs: asks, task: cb.TaskID}, a.now().Add(a.cfg.FollowUpTTL))
			a.askNext(p, cb.FromUserName)
			a.metrics.Callback(p.cfg.Name, "ok")
			return http.StatusOK, ""
		}
	}
	return a.dispatchClick(ctx, p, ev, cb.TaskID)
}

// dispatchClick hands a click to the bot and applies its card to the
// clicked copy with the click's response code (in the background: the
// callback is answered at once).
func (a *Adapter) dispatchClick(ctx context.Context, p *app, ev bots.Event, task string) (int, string) {
	if task == "" && ev.Action != nil {
		task = a.cards.taskOfRef(ev.Action.MessageRef)
	}
	hctx, cancel := context.WithTimeout(ctx, a.cfg.HandleTimeout)
	defer cancel()
	reply, err := a.h.Handle(hctx, ev)
	if err != nil {
		a.seen.Forget(strings.TrimPrefix(ev.ID, "wecom:"))
		a.log.Error("handle click", "app", p.cfg.Name, "event_id", ev.ID, "err", err)
		a.metrics.Callback(p.cfg.Name, "error")
		return http.StatusInternalServerError, "internal error, retry later"
	}
	a.metrics.Callback(p.cfg.Name, "ok")
	user := ev.UserID
	a.group.Go(func(bg context.Context) {
		if bg.Err() != nil {
			return // started after Close
		}
		bctx, cancel := context.WithTimeout(bg, 2*time.Minute)
		defer cancel()
		if reply.Card != nil && task != "" {
			if err := a.updateTask(bctx, p, task, bots.Message{Card: reply.Card}); err != nil {
				a.log.Error("update clicked card", "app", p.cfg.Name, "task_id", task, "err", err)
			}
		}
		// WeCom has no toast: a refusal or a failure is said in the chat.
		if reply.Toast != "" && (reply.ToastKind == bots.ToastWarning || reply.ToastKind == bots.ToastError || reply.Card == nil) {
			to := bots.Recipient{Platform: Platform, App: p.cfg.Name, UserID: user}
			if _, err := a.Send(bctx, to, bots.Message{Text: reply.Toast}, ev.ID+":toast"); err != nil {
				a.log.Error("send toast", "app", p.cfg.Name, "event_id", ev.ID, "err", err)
			}
		}
	})
	return http.StatusOK, ""
}

// askNext sends the next follow-up question of user's pending click.
func (a *Adapter) askNext(p *app, user string) {
	q, key, ok := a.follow.question(p.cfg.Name, user)
	if !ok {
		return
	}
	a.group.Go(func(bg context.Context) {
		if bg.Err() != nil {
			return // started after Close
		}
		bctx, cancel := context.WithTimeout(bg, 2*time.Minute)
		defer cancel()
		to := bots.Recipient{Platform: Platform, App: p.cfg.Name, UserID: user}
		if _, err := a.Send(bctx, to, bots.Message{Text: q}, key); err != nil {
			a.log.Error("send follow-up question", "app", p.cfg.Name, "user", user, "err", err)
		}
	})
}

func hash(parts ...string) string {
	h := sha256.New()
	for _, s := range parts {
		_, _ = io.WriteString(h, s)
		_, _ = h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func unix(sec int64, def time.Time) time.Time {
	if sec <= 0 {
		return def
	}
	return time.Unix(sec, 0)
}
