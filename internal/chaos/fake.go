package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// The fake's one app.
const (
	AppID             = "cli_chaos"
	appSecret         = "chaos-secret"
	encryptKey        = "chaos-encrypt-key"
	verificationToken = "chaos-verification-token"
)

// Fake is feishutest's server behind a counting front: the front sees
// every message create call (retries included) before the fake
// de-duplicates it by uuid, as Feishu does.
type Fake struct {
	*feishutest.Server
	// URL is the front's address: flowbot's feishu base_url.
	URL string

	proxy *http.Server
	mu    sync.Mutex
	calls map[string]int             // uuid -> create calls
	to    map[string]map[string]bool // uuid -> receive ids
	first map[string]time.Time       // uuid -> first create call
	cut   int                        // create calls whose body was cut by the sender dying

	faultStatus int // while before faultUntil, creates and updates get this
	faultUntil  time.Time
	box         inbox // chat id -> messages shown
}

// Seen is a message the fake showed, with when and its card's buttons
// (decoded once: waits scan the messages often).
type Seen struct {
	feishutest.Message
	At      time.Time
	Buttons []feishutest.Button
}

// seen is the fake's message hook (called with the fake's lock held).
func (f *Fake) seen(m feishutest.Message) {
	seen := Seen{Message: m, At: time.Now()}
	if c := m.Card(); c != nil {
		seen.Buttons = feishutest.Buttons(c)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.box.add(m.ChatID, seen)
}

// Find returns the messages shown in the p2p chat of openID that match
// (sent to the user's open_id or to the chat).
func (f *Fake) Find(openID string, match func(Seen) bool) []Seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.box.find(feishutest.P2PChatID(openID), match)
}

// all visits every message shown.
func (f *Fake) all(visit func(Seen)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.box.each(visit)
}

// WaitFor waits until a message shown to openID matches and returns it.
func (f *Fake) WaitFor(ctx context.Context, openID string, match func(Seen) bool) (Seen, error) {
	return f.WaitSince(ctx, openID, time.Time{}, match)
}

// WaitSince waits until a message shown to openID at or after since
// matches and returns it. The fake signals the wait when the message
// arrives: nothing is polled.
func (f *Fake) WaitSince(ctx context.Context, openID string, since time.Time, match func(Seen) bool) (Seen, error) {
	return waitIn(ctx, &f.mu, &f.box, feishutest.P2PChatID(openID), since, match)
}

// button returns the callback value of the card's first button with
// action a (the value's "a"), if any.
func button(m Seen, action string) (map[string]any, bool) {
	for _, b := range m.Buttons {
		if b.Value["a"] == action {
			return b.Value, true
		}
	}
	return nil, false
}

// NewFake starts the fake on a free port and its proxy on addr ("" or
// "127.0.0.1:0": a free port). webhook is flowbot's /webhook/feishu; it
// may be set later with SetWebhook.
func NewFake(addr, webhook string) (*Fake, error) {
	f := &Fake{calls: map[string]int{}, to: map[string]map[string]bool{}, first: map[string]time.Time{}, box: newInbox()}
	// Events go to flowbot over kept-alive connections, enough of them
	// for every worker at once (the default keeps 2 per host: the others
	// would dial a new connection per event, on both sides).
	srv := feishutest.NewServer(feishutest.WithMessageHook(f.seen), feishutest.WithHTTPClient(keepAliveClient(10*time.Second)))
	f.Server = srv
	f.SetWebhook(webhook)
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("chaos: listen on %s: %w", addr, err)
	}
	// The counting front serves the fake's API itself (no second HTTP
	// hop to the fake's own listener).
	api := srv.Handler()
	f.proxy = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.refuse(w, r) {
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == "/open-apis/im/v1/messages" {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				// The sender died (SIGKILL, or SIGTERM's drain cancelling
				// a send) while writing the body: nothing reached the
				// platform, and the uuid may be in the part never sent.
				// Counting it as a create call "with an empty uuid" was
				// the one "doubled" of the 2026-12-05 two-replica run.
				f.mu.Lock()
				f.cut++
				f.mu.Unlock()
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var m struct {
				UUID      string `json:"uuid"`
				ReceiveID string `json:"receive_id"`
			}
			_ = json.Unmarshal(body, &m)
			f.add(m.UUID, m.ReceiveID)
		}
		api.ServeHTTP(w, r)
	})}
	go func() { _ = f.proxy.Serve(l) }()
	f.URL = "http://" + l.Addr().String()
	return f, nil
}

// Fault makes the fake answer every message create and card update with
// status (429 with Feishu's rate-limit code and a 1 s reset, or a 5xx)
// for d, as a platform under load or in trouble does. The refused calls
// are not counted as create calls (they never reached the platform).
func (f *Fake) Fault(status int, d time.Duration) {
	f.mu.Lock()
	f.faultStatus, f.faultUntil = status, time.Now().Add(d)
	f.mu.Unlock()
}

// refuse answers r with the current fault, if any, and reports whether it did.
func (f *Fake) refuse(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/open-apis/im/v1/messages") || (r.Method != http.MethodPost && r.Method != http.MethodPatch) {
		return false
	}
	f.mu.Lock()
	status, until := f.faultStatus, f.faultUntil
	f.mu.Unlock()
	if status == 0 || !time.Now().Before(until) {
		return false
	}
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("x-ogw-ratelimit-reset", "1")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"code":99991400,"msg":"request trigger frequency limit"}`)
		return true
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"code":1,"msg":"chaos: platform trouble"}`)
	return true
}

// SetWebhook (re)registers the app with flowbot's webhook URL.
func (f *Fake) SetWebhook(webhook string) {
	f.AddApp(feishutest.App{ID: AppID, Secret: appSecret, EncryptKey: encryptKey, VerificationToken: verificationToken, Webhook: webhook})
}

// Close stops the proxy and the fake.
func (f *Fake) Close() {
	_ = f.proxy.Close()
	f.Server.Close()
}

func (f *Fake) add(uuid, receiveID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[uuid]++
	if f.to[uuid] == nil {
		f.to[uuid] = map[string]bool{}
		f.first[uuid] = time.Now()
	}
	f.to[uuid][receiveID] = true
}

// Creates returns the create calls and the number of recipients per uuid.
func (f *Fake) Creates() (calls, recipients map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls, recipients = maps.Clone(f.calls), map[string]int{}
	for u, to := range f.to {
		recipients[u] = len(to)
	}
	return calls, recipients
}

// Cut counts the create calls whose body never arrived whole (the
// sender died while writing it); they reached neither the fake nor the
// counts of Creates.
func (f *Fake) Cut() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut
}

// FirstCreate returns when the message with uuid was first sent.
func (f *Fake) FirstCreate(uuid string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.first[uuid]
	return t, ok
}

// ConfigBlock is the feishu section of flowbot's config for the fake.
func (f *Fake) Config() map[string]any {
	return map[string]any{"apps": []map[string]any{{
		"app_id": AppID, "app_secret": appSecret, "encrypt_key": encryptKey,
		"verification_token": verificationToken, "mode": "http", "base_url": f.URL,
	}}}
}

// valueOf is key of a button's callback value: the adapter nests the
// bots.Button value under "v".
func valueOf(v map[string]any, key string) string {
	if inner, ok := v["v"].(map[string]any); ok {
		if x, ok := inner[key]; ok {
			return fmt.Sprint(x)
		}
	}
	if x, ok := v[key]; ok {
		return fmt.Sprint(x)
	}
	return ""
}

// keepAliveClient is an HTTP client that keeps enough idle connections
// per host for the load's workers.
func keepAliveClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost, t.IdleConnTimeout = 1024, 1024, 90*time.Second
	return &http.Client{Timeout: timeout, Transport: t}
}
