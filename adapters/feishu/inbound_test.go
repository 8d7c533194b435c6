package feishu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	ok := feishu.App{ID: "cli_1", Secret: "s", EncryptKey: "k"}
	tests := []struct {
		name string
		apps []feishu.App
		key  string
	}{
		{"no apps", nil, "feishu.apps"},
		{"no id", []feishu.App{{Secret: "s", EncryptKey: "k"}}, "feishu.apps[0].app_id"},
		{"no secret", []feishu.App{{ID: "cli_1", EncryptKey: "k"}}, "feishu.apps[0].app_secret"},
		{"http app without key or token", []feishu.App{ok, {ID: "cli_2", Secret: "s"}}, "feishu.apps[1].encrypt_key"},
		{"bad mode", []feishu.App{{ID: "cli_1", Secret: "s", EncryptKey: "k", Mode: "smoke"}}, "feishu.apps[0].mode"},
		{"duplicate", []feishu.App{ok, ok}, "feishu.apps[1].app_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := feishu.New(feishu.Config{Apps: tt.apps}, &recorderStub{})
			var ce *feishu.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tt.key, ce.Key)
			require.Contains(t, err.Error(), tt.key)
		})
	}
	t.Run("websocket app needs no key", func(t *testing.T) {
		t.Parallel()
		_, err := feishu.New(feishu.Config{Apps: []feishu.App{{ID: "cli_1", Secret: "s", Mode: feishu.ModeWebSocket}}}, &recorderStub{})
		require.NoError(t, err)
	})
}

type recorderStub struct{}

func (recorderStub) Handle(context.Context, bots.Event) (bots.Reply, error) { return bots.Reply{}, nil }

func TestMessageP2P(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	r := b.fake.Deliver(t, feishutest.Delivery{App: b.app.ID, OpenID: "ou_alice", ChatID: "oc_p2p_alice", Text: " 请假 "})
	require.Equal(t, http.StatusOK, r.Status, "body %s", r.Body)
	evs := b.rec.Events()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, "feishu", ev.Platform)
	require.Equal(t, b.app.ID, ev.App)
	require.Equal(t, r.EventID, ev.ID)
	require.Equal(t, "ou_alice", ev.UserID)
	require.Equal(t, "on_alice", ev.UnionID)
	require.Equal(t, "oc_p2p_alice", ev.ChatID)
	require.Equal(t, "p2p", ev.ChatType)
	require.Equal(t, "请假", ev.Text)
	require.Nil(t, ev.Action)
	require.WithinDuration(t, time.Now(), ev.At, time.Minute)
	// The reply is sent into the chat after the ack.
	waitFor(t, 5*time.Second, "reply", func() bool { return len(b.fake.Messages()) == 1 })
	m := b.fake.Messages()[0]
	require.Equal(t, "chat_id", m.ReceiveIDType)
	require.Equal(t, "oc_p2p_alice", m.ReceiveID)
	require.Equal(t, "echo: 请假", m.Text())
}

func TestMessageGroupMentions(t *testing.T) {
	t.Parallel()
	const bot = "ou_bot"
	tests := []struct {
		name      string
		botOpenID string
		text      string
		mentions  []feishutest.Mention
		want      string // "" = ignored
	}{
		{"leading mention stripped", "", "@_user_1 /todo", []feishutest.Mention{{Key: "@_user_1", OpenID: bot, Name: "flowbot"}}, "/todo"},
		{"bot mention anywhere", bot, "转交 @_user_2 给 @_user_1", []feishutest.Mention{{Key: "@_user_1", OpenID: bot, Name: "flowbot"}, {Key: "@_user_2", OpenID: "ou_lilei", Name: "李雷"}}, "转交 @李雷 给"},
		{"no mention at all", "", "hello everyone", nil, ""},
		{"not for the bot", bot, "hello @_user_1", []feishutest.Mention{{Key: "@_user_1", OpenID: "ou_lilei", Name: "李雷"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{appMutator: func(a *feishu.App) { a.BotOpenID = tt.botOpenID }})
			r := b.fake.Deliver(t, feishutest.Delivery{App: b.app.ID, OpenID: "ou_alice", ChatID: "oc_group", ChatType: "group", Text: tt.text, Mentions: tt.mentions})
			require.Equal(t, http.StatusOK, r.Status)
			evs := b.rec.Events()
			if tt.want == "" {
				require.Empty(t, evs)
				return
			}
			require.Len(t, evs, 1)
			require.Equal(t, tt.want, evs[0].Text)
			require.Equal(t, "group", evs[0].ChatType)
		})
	}
}

func TestRedeliveryKeepsEventID(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{feishu.ModeHTTP, feishu.ModeWebSocket} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{mode: mode})
			d := feishutest.Delivery{App: b.app.ID, EventID: "ev_same", OpenID: "ou_alice", ChatID: "oc_p2p_alice", Text: "/todo"}
			for range 3 {
				require.Equal(t, http.StatusOK, b.fake.Deliver(t, d).Status)
			}
			evs := b.rec.Events()
			require.Len(t, evs, 3, "the adapter passes redeliveries on; the bot dedupes")
			for _, ev := range evs {
				require.Equal(t, "ev_same", ev.ID)
			}
		})
	}
}

func TestURLVerification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		encryptKey string
		token      string // sent
		want       int
	}{
		{"encrypted", "", "", http.StatusOK},
		{"encrypted, no token configured", "", "-", http.StatusOK},
		{"plain", "-", "", http.StatusOK},
		{"encrypted wrong token", "", "wrong", http.StatusUnauthorized},
		{"plain wrong token", "-", "wrong", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{encryptKey: tt.encryptKey, token: tt.token})
			tok := tt.token
			if tok == "" || tok == "-" {
				tok = b.app.VerificationToken
			}
			payload, _ := json.Marshal(map[string]string{"type": "url_verification", "challenge": "ch-123", "token": tok})
			body, hdr, err := b.fake.Seal(b.app.ID, payload, time.Now())
			require.NoError(t, err)
			hdr.Del("X-Lark-Signature") // Feishu does not sign the URL check
			r := b.fake.Post(t, b.app.ID, body, hdr)
			require.Equal(t, tt.want, r.Status, "body %s", r.Body)
			if tt.want == http.StatusOK {
				require.JSONEq(t, `{"challenge":"ch-123"}`, string(r.Body))
			}
		})
	}
}

func TestClick(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{reply: func(ev bots.Event) (bots.Reply, error) {
		return bots.Reply{
			Toast: "已同意 Approved",
			Card:  &bots.Card{Title: "请假审批 LEAVE-1", Color: bots.ColorGreen, Note: "Approved by " + ev.UserID},
		}, nil
	}})
	card := sampleCard(t, "task")
	value, ok := feishutest.ButtonValue(card, "同意")
	require.True(t, ok)
	r := b.fake.Click(t, b.app.ID, "ou_lilei", "om_task", value, map[string]any{"comment": "ok 好"})
	require.Equal(t, http.StatusOK, r.Status, "body %s", r.Body)
	require.NotNil(t, r.Toast)
	require.Equal(t, "已同意 Approved", r.Toast.Content)
	require.Equal(t, "raw", r.CardType)
	require.Equal(t, "green", r.Card["header"].(map[string]any)["template"])
	require.Contains(t, mustJSON(t, r.Card), "Approved by ou_lilei")
	require.Empty(t, feishutest.Buttons(r.Card), "a decided card has no buttons")

	evs := b.rec.Events()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, r.EventID, ev.ID)
	require.Equal(t, "ou_lilei", ev.UserID)
	require.Equal(t, b.app.ID, ev.App)
	require.Equal(t, &bots.Action{
		Name:       "approve",
		Value:      map[string]string{"task": "42", "v": "3"},
		Inputs:     map[string]string{"comment": "ok 好"},
		MessageRef: b.app.ID + ":om_task",
	}, ev.Action)
}

func TestClickNonAssigneeToastPassesThrough(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{reply: func(ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Toast: "你不是该任务的审批人 / You are not an approver of this task"}, nil
	}})
	value, _ := feishutest.ButtonValue(sampleCard(t, "task"), "同意")
	r := b.fake.Click(t, b.app.ID, "ou_stranger", "om_task", value, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "你不是该任务的审批人 / You are not an approver of this task", r.Toast.Content)
	require.Nil(t, r.Card, "the card stays as it is")
}

func TestHandlerErrorAsksForRedelivery(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{reply: func(bots.Event) (bots.Reply, error) {
		return bots.Reply{}, errors.New("database down")
	}})
	r := b.fake.DeliverMessage(t, b.app.ID, "ou_alice", "oc_p2p_alice", "/todo")
	require.Equal(t, http.StatusInternalServerError, r.Status, "Feishu redelivers on 5xx")
	require.NotContains(t, string(r.Body), "database", "internal errors are not shown")

	value, _ := feishutest.ButtonValue(sampleCard(t, "task"), "同意")
	c := b.fake.Click(t, b.app.ID, "ou_lilei", "om_task", value, nil)
	require.Equal(t, http.StatusOK, c.Status)
	require.Equal(t, "error", c.Toast.Type)
	require.Equal(t, "Something went wrong, please try again", c.Toast.I18n["en_us"])
	require.Equal(t, "系统繁忙，请稍后重试", c.Toast.I18n["zh_cn"])
}

func TestSlowClickFinishesByDelayedUpdate(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	b := setup(t, setupOpts{clickWait: 50 * time.Millisecond, reply: func(ev bots.Event) (bots.Reply, error) {
		<-release
		return bots.Reply{Card: &bots.Card{Title: "Approved late", Color: bots.ColorGreen}}, nil
	}})
	ref, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: "ou_lilei"}, bots.Message{Card: &bots.Card{Title: "task"}}, "k1")
	require.NoError(t, err)
	msgID := strings.TrimPrefix(ref, b.app.ID+":")
	value := map[string]any{"a": "approve"}
	r := b.fake.Click(t, b.app.ID, "ou_lilei", msgID, value, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "Processing, please wait", r.Toast.I18n["en_us"])
	require.Nil(t, r.Card)
	close(release)
	waitFor(t, 5*time.Second, "delayed update", func() bool { return len(b.fake.CardUpdates()) == 1 })
	u := b.fake.CardUpdates()[0]
	require.Equal(t, r.CardToken, u.Token)
	m, ok := b.fake.Message(msgID)
	require.True(t, ok)
	require.Contains(t, m.Content, "Approved late")
}

// TestRefused sends bad requests: each is refused with the right status or
// toast, reaches no handler and changes nothing.
func TestRefused(t *testing.T) {
	t.Parallel()
	type req struct {
		body []byte
		hdr  http.Header
	}
	clickPayload := func(b *testBundle, value map[string]any) []byte {
		p, _ := b.fake.ClickEvent(feishutest.Click{App: b.app.ID, OpenID: "ou_x", MessageID: "om_1", Value: value})
		return p
	}
	seal := func(t *testing.T, b *testBundle, payload []byte, at time.Time) req {
		body, hdr, err := b.fake.Seal(b.app.ID, payload, at)
		require.NoError(t, err)
		return req{body, hdr}
	}
	msg := func(b *testBundle) []byte {
		return b.fake.MessageEvent(feishutest.Delivery{App: b.app.ID, OpenID: "ou_x", ChatID: "oc_1", Text: "/todo"})
	}
	tests := []struct {
		name       string
		encryptKey string
		build      func(t *testing.T, b *testBundle) req
		method     string
		status     int
		toast      string // expected error toast (en), for clicks
	}{
		{name: "forged signature", build: func(t *testing.T, b *testBundle) req {
			r := seal(t, b, msg(b), time.Now())
			r.hdr.Set("X-Lark-Signature", strings.Repeat("ab", 32))
			return r
		}, status: http.StatusUnauthorized},
		{name: "missing signature", build: func(t *testing.T, b *testBundle) req {
			r := seal(t, b, msg(b), time.Now())
			r.hdr.Del("X-Lark-Signature")
			return r
		}, status: http.StatusUnauthorized},
		{name: "old timestamp", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, msg(b), time.Now().Add(-6*time.Minute))
		}, status: http.StatusUnauthorized},
		{name: "future timestamp", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, msg(b), time.Now().Add(6*time.Minute))
		}, status: http.StatusUnauthorized},
		{name: "tampered after signing", build: func(t *testing.T, b *testBundle) req {
			r := seal(t, b, msg(b), time.Now())
			enc, err := feishutest.Encrypt(bytes.Replace(msg(b), []byte("/todo"), []byte("/withdraw 1"), 1), b.app.EncryptKey)
			require.NoError(t, err)
			r.body, _ = json.Marshal(map[string]string{"encrypt": enc})
			return r
		}, status: http.StatusUnauthorized},
		{name: "wrong verification token inside signed body", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, bytes.Replace(msg(b), []byte(b.app.VerificationToken), []byte("vt-wrong"), 1), time.Now())
		}, status: http.StatusUnauthorized},
		{name: "wrong verification token, no encrypt key", encryptKey: "-", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, bytes.Replace(msg(b), []byte(b.app.VerificationToken), []byte("vt-wrong"), 1), time.Now())
		}, status: http.StatusUnauthorized},
		{name: "old timestamp, no encrypt key", encryptKey: "-", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, msg(b), time.Now().Add(-time.Hour))
		}, status: http.StatusUnauthorized},
		{name: "plain body for an app with encrypt key", build: func(t *testing.T, b *testBundle) req {
			r := seal(t, b, msg(b), time.Now())
			return req{msg(b), r.hdr}
		}, status: http.StatusUnauthorized},
		{name: "unknown app", encryptKey: "-", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, bytes.Replace(msg(b), []byte(`"app_id":"`+b.app.ID), []byte(`"app_id":"cli_other`), 1), time.Now())
		}, status: http.StatusForbidden},
		{name: "invalid json", build: func(t *testing.T, b *testBundle) req {
			return req{[]byte(`{"encrypt":`), http.Header{}}
		}, status: http.StatusBadRequest},
		{name: "undecryptable", build: func(t *testing.T, b *testBundle) req {
			body := []byte(`{"encrypt":"bm90IGEgY2lwaGVydGV4dA=="}`)
			hdr := http.Header{}
			ts := time.Now().Unix()
			hdr.Set("X-Lark-Request-Timestamp", itoa(ts))
			hdr.Set("X-Lark-Request-Nonce", "n")
			hdr.Set("X-Lark-Signature", feishutest.Sign(itoa(ts), "n", b.app.EncryptKey, body))
			return req{body, hdr}
		}, status: http.StatusBadRequest},
		{name: "10 MB body", build: func(t *testing.T, b *testBundle) req {
			return req{bytes.Repeat([]byte("x"), 10<<20), http.Header{}}
		}, status: http.StatusRequestEntityTooLarge},
		{name: "GET", method: http.MethodGet, build: func(t *testing.T, b *testBundle) req {
			return req{nil, http.Header{}}
		}, status: http.StatusMethodNotAllowed},
		{name: "unknown event type is acknowledged", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, bytes.Replace(msg(b), []byte("im.message.receive_v1"), []byte("contact.user.created_v3"), 1), time.Now())
		}, status: http.StatusOK},
		{name: "non-text message is acknowledged", build: func(t *testing.T, b *testBundle) req {
			p := b.fake.MessageEvent(feishutest.Delivery{App: b.app.ID, OpenID: "ou_x", ChatID: "oc_1", MsgType: "image"})
			return seal(t, b, p, time.Now())
		}, status: http.StatusOK},
		{name: "click value not rendered by us", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, clickPayload(b, map[string]any{"task": "42"}), time.Now())
		}, status: http.StatusOK, toast: "This button is no longer valid, please refresh"},
		{name: "click values not strings", build: func(t *testing.T, b *testBundle) req {
			return seal(t, b, clickPayload(b, map[string]any{"a": "approve", "v": map[string]any{"task": 42}}), time.Now())
		}, status: http.StatusOK, toast: "This button is no longer valid, please refresh"},
		{name: "click value is a string", build: func(t *testing.T, b *testBundle) req {
			p := clickPayload(b, map[string]any{"a": "approve"})
			p = bytes.Replace(p, []byte(`"value":{"a":"approve"}`), []byte(`"value":"approve"`), 1)
			return seal(t, b, p, time.Now())
		}, status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{encryptKey: tt.encryptKey})
			r := tt.build(t, b)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			hreq, err := http.NewRequest(method, b.webhook, bytes.NewReader(r.body))
			require.NoError(t, err)
			for k, v := range r.hdr {
				hreq.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(hreq)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tt.status, resp.StatusCode)
			require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
			if tt.toast != "" {
				var body struct {
					Toast feishutest.Toast `json:"toast"`
				}
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
				require.Equal(t, "error", body.Toast.Type)
				require.Equal(t, tt.toast, body.Toast.I18n["en_us"])
			}
			require.Empty(t, b.rec.Events(), "nothing may reach the handler")
			require.Empty(t, b.fake.Messages(), "nothing may be sent")
		})
	}
}

func sampleCard(t testing.TB, name string) map[string]any {
	t.Helper()
	c, ok := samples()[name]
	require.True(t, ok, name)
	b, err := feishu.RenderCard(c)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func itoa(n int64) string { return strconvFormat(n) }

// slowHandler answers a click only when released, and records whether its
// context was still alive then.
type slowHandler struct {
	release  chan struct{}
	finished chan error
}

func (h *slowHandler) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	<-h.release
	h.finished <- ctx.Err()
	return bots.Reply{Card: &bots.Card{Title: "Approved late", Color: bots.ColorGreen}}, nil
}

// A click answered "processing" was acknowledged to Feishu, which will not
// send it again: closing the adapter (a deploy's SIGTERM) lets its handler
// finish instead of cancelling it.
func TestCloseLetsAnAcknowledgedSlowClickFinish(t *testing.T) {
	t.Parallel()
	h := &slowHandler{release: make(chan struct{}), finished: make(chan error, 1)}
	b := setup(t, setupOpts{clickWait: 50 * time.Millisecond, handler: h, noNotifier: true})
	r := b.fake.Click(t, b.app.ID, "ou_lilei", "om_task", map[string]any{"a": "approve"}, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "Processing, please wait", r.Toast.I18n["en_us"])

	closed := make(chan struct{})
	go func() {
		_ = b.adapter.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while an acknowledged click was still being handled")
	case <-time.After(100 * time.Millisecond):
	}
	close(h.release)
	require.NoError(t, <-h.finished, "the handler's context was cancelled by Close")
	<-closed
}
