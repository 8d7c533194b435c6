package teams

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowbot/flowbot/adapters/internal/apiclient"
	"github.com/flowbot/flowbot/adapters/internal/seen"
	"github.com/flowbot/flowbot/bots"
)

// Platform is the bots.Event.Platform of this adapter.
const Platform = "teams"

// Handler is what the adapter needs from the bot.
type Handler interface {
	Handle(ctx context.Context, ev bots.Event) (bots.Reply, error)
}

var (
	_ bots.Messenger = (*Adapter)(nil)
	_ http.Handler   = (*Adapter)(nil)
)

// Stats are the adapter's counters (for metrics).
type Stats struct {
	Accepted, Refused, Duplicates, Sent, Updated, Retried uint64
}

// Adapter connects one Teams bot to the bot core.
type Adapter struct {
	cfg    Config
	h      Handler
	log    *slog.Logger
	now    func() time.Time
	client *http.Client
	keys   *keyCache
	tok    tokenSource
	seen   *seen.Set
	sends  *ttlMap
	refs   *convRefs
	emails *emailCache

	accepted, refused, duplicates, sent, updated, retried atomic.Uint64

	closeOnce sync.Once
	done      chan struct{}
}

// New checks cfg and builds an adapter; it makes no network call.
func New(cfg Config, h Handler, opts ...Option) (*Adapter, error) {
	if h == nil {
		return nil, errors.New("teams: new adapter: nil handler")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := options{log: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = apiclient.New(10 * time.Second)
	}
	a := &Adapter{
		cfg: cfg, h: h, log: o.log.WithGroup("teams"), now: o.now, client: o.httpClient,
		seen: seen.New(o.now, 10*time.Minute), sends: newTTLMap(o.now, cfg.SendKeyTTL),
		refs: newConvRefs(), emails: &emailCache{m: map[string]string{}}, done: make(chan struct{}),
	}
	a.keys = &keyCache{cfg: cfg, client: o.httpClient, now: o.now}
	a.tok = tokenSource{cfg: cfg, client: o.httpClient, now: o.now}
	return a, nil
}

// Ready fetches the signing keys if none are cached and a connector token:
// it answers nil when the adapter can check and answer activities.
func (a *Adapter) Ready(ctx context.Context) error {
	if err := a.keys.ready(ctx); err != nil {
		return err
	}
	_, err := a.tok.token(ctx)
	return err
}

// Stats returns the counters.
func (a *Adapter) Stats() Stats {
	return Stats{Accepted: a.accepted.Load(), Refused: a.refused.Load(), Duplicates: a.duplicates.Load(),
		Sent: a.sent.Load(), Updated: a.updated.Load(), Retried: a.retried.Load()}
}

// Close stops the adapter: sends waiting to retry give up at once. The
// adapter starts no background work, so there is nothing to wait for.
func (a *Adapter) Close() error {
	a.closeOnce.Do(func() { close(a.done) })
	return nil
}

// ServeHTTP serves the messaging endpoint (/api/messages).
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.ContentLength > a.cfg.MaxBodyBytes {
		a.refuse(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.refuse(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		a.refuse(w, http.StatusBadRequest, "read body")
		return
	}
	status, ctype, resp := a.Inbound(r.Context(), r.Header.Get("Authorization"), body)
	if ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

func (a *Adapter) refuse(w http.ResponseWriter, status int, reason string) {
	a.refused.Add(1)
	a.log.Warn("activity refused", "status", status, "reason", reason)
	http.Error(w, reason, status)
}

// Inbound authenticates and handles one activity (the Authorization header
// and the raw body) and returns the HTTP status, content type and body to
// answer. A refused activity reaches no handler and nothing is sent.
func (a *Adapter) Inbound(ctx context.Context, authz string, body []byte) (status int, ctype string, resp []byte) {
	// The token is checked before anything else of the body is trusted;
	// the body is decoded first only to read serviceUrl and channelId,
	// which the token must vouch for.
	act, err := DecodeActivity(body)
	if err != nil {
		if authz == "" {
			return a.refused401("no bearer token")
		}
		a.refused.Add(1)
		a.log.Warn("activity refused", "reason", err)
		return http.StatusBadRequest, "text/plain", []byte("malformed activity")
	}
	if err := a.authenticate(ctx, authz, act.ChannelID, act.ServiceURL); err != nil {
		return a.refused401(err.Error())
	}
	switch {
	case act.Type == "message":
		return a.onMessage(ctx, act)
	case act.Type == "invoke" && act.Name == "adaptiveCard/action":
		return a.onInvoke(ctx, act)
	case act.Type == "conversationUpdate" || act.Type == "installationUpdate":
		a.remember(act)
		return http.StatusOK, "", nil
	default:
		return http.StatusOK, "", nil
	}
}

func (a *Adapter) refused401(reason string) (int, string, []byte) {
	a.refused.Add(1)
	a.log.Warn("activity refused", "status", http.StatusUnauthorized, "reason", reason)
	return http.StatusUnauthorized, "text/plain", []byte("unauthorized")
}

// remember stores the conversation reference of a verified activity.
func (a *Adapter) remember(act *Activity) {
	personal := act.Conversation.ConversationType == "" || act.Conversation.ConversationType == "personal"
	a.refs.put(act.Conversation.ID, act.ServiceURL)
	if personal {
		a.refs.putUser(act.From.ID, act.Conversation.ID)
		if act.From.AADObjectID != "" {
			a.refs.putUser(act.From.AADObjectID, act.Conversation.ID)
		}
	}
}

// event builds the bots.Event common part of an activity.
func (a *Adapter) event(act *Activity) bots.Event {
	ev := bots.Event{
		Platform: Platform, ID: act.ID, ChatID: act.Conversation.ID, ChatType: "p2p",
		UserID: act.From.ID, At: a.now(),
	}
	if act.From.AADObjectID != "" {
		// Identity by AAD object id; the Teams user id (29:...) is the
		// fallback the directory may hold instead.
		ev.UserID, ev.UnionID = act.From.AADObjectID, act.From.ID
	}
	if t := act.Conversation.ConversationType; t != "" && t != "personal" {
		ev.ChatType = "group"
	}
	if ts, err := time.Parse(time.RFC3339Nano, act.Timestamp); err == nil {
		ev.At = ts
	}
	return ev
}

// firstSeen dedupes by activity id.
func (a *Adapter) firstSeen(act *Activity) bool {
	if act.ID == "" {
		return true
	}
	if !a.seen.First(act.Conversation.ID + "|" + act.ID) {
		a.duplicates.Add(1)
		return false
	}
	return true
}

func (a *Adapter) onMessage(ctx context.Context, act *Activity) (int, string, []byte) {
	a.remember(act)
	if !a.firstSeen(act) {
		return http.StatusOK, "", nil
	}
	ev := a.event(act)
	if len(act.Value) > 0 && string(act.Value) != "null" {
		// Action.Submit (the fallback of Action.Execute on old clients).
		ac, err := DecodeAction(act.Value)
		if err != nil {
			a.log.Warn("card submit refused", "err", err)
			return http.StatusBadRequest, "text/plain", []byte("malformed card action")
		}
		ac.MessageRef = a.refOf(act.ServiceURL, act.Conversation.ID, act.ReplyToID)
		ev.Action = ac
	} else {
		ev.Text = stripMentions(act)
		if ev.Text == "" {
			return http.StatusOK, "", nil
		}
	}
	hctx, cancel := context.WithTimeout(ctx, a.cfg.MessageTimeout)
	defer cancel()
	ev.Email = a.email(hctx, act)
	// The reply's messages are durable in the outbox once Handle returns;
	// the notifier sends them through Send (the reply rule).
	if _, err := a.h.Handle(hctx, ev); err != nil {
		a.seen.Forget(act.Conversation.ID + "|" + act.ID)
		a.log.Error("handle message", "id", act.ID, "err", err)
		return http.StatusInternalServerError, "text/plain", []byte("internal error")
	}
	a.accepted.Add(1)
	return http.StatusOK, "", nil
}

// invokeResponse is the answer to an adaptiveCard/action invoke.
type invokeResponse struct {
	StatusCode int    `json:"statusCode"`
	Type       string `json:"type"`
	Value      any    `json:"value"`
}

const (
	typeCard    = "application/vnd.microsoft.card.adaptive"
	typeMessage = "application/vnd.microsoft.activity.message"
	typeError   = "application/vnd.microsoft.error"
)

func (a *Adapter) onInvoke(ctx context.Context, act *Activity) (int, string, []byte) {
	a.remember(act)
	var iv invokeValue
	if err := json.Unmarshal(act.Value, &iv); err != nil || iv.Action.Type != "Action.Execute" {
		return invokeAnswer(invokeResponse{StatusCode: 400, Type: typeError, Value: map[string]string{"code": "BadRequest", "message": "malformed action"}})
	}
	ac, err := DecodeAction(iv.Action.Data)
	if err != nil || (iv.Action.Verb != "" && iv.Action.Verb != ac.Name) {
		a.log.Warn("card action refused", "err", err, "verb", iv.Action.Verb)
		return invokeAnswer(invokeResponse{StatusCode: 400, Type: typeError, Value: map[string]string{"code": "BadRequest", "message": "malformed action"}})
	}
	if !a.firstSeen(act) {
		// A redelivered invoke: the first delivery's answer stands.
		return invokeAnswer(invokeResponse{StatusCode: 200, Type: typeMessage, Value: ""})
	}
	ev := a.event(act)
	ac.MessageRef = a.refOf(act.ServiceURL, act.Conversation.ID, act.ReplyToID)
	ev.Action = ac
	hctx, cancel := context.WithTimeout(ctx, a.cfg.InvokeTimeout)
	defer cancel()
	ev.Email = a.email(hctx, act)
	rep, err := a.h.Handle(hctx, ev)
	if err != nil {
		a.seen.Forget(act.Conversation.ID + "|" + act.ID)
		a.log.Error("handle card action", "id", act.ID, "err", err)
		return invokeAnswer(invokeResponse{StatusCode: 500, Type: typeError, Value: map[string]string{"code": "InternalError", "message": "internal error"}})
	}
	a.accepted.Add(1)
	if rep.Card != nil {
		card, err := renderCardMap(*rep.Card)
		if err == nil {
			return invokeAnswer(invokeResponse{StatusCode: 200, Type: typeCard, Value: card})
		}
		a.log.Error("render card", "err", err)
	}
	return invokeAnswer(invokeResponse{StatusCode: 200, Type: typeMessage, Value: rep.Toast})
}

// invokeAnswer is always HTTP 200: the invoke's own status is in the body.
func invokeAnswer(r invokeResponse) (int, string, []byte) {
	b, err := json.Marshal(r)
	if err != nil {
		b = []byte(`{"statusCode":500,"type":"application/vnd.microsoft.error","value":{"code":"InternalError","message":"encode"}}`)
	}
	return http.StatusOK, "application/json", b
}
