package wecom_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots"
)

func TestVerifyURL(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	r, err := wecomtest.VerifyURL(context.Background(), b.app, "1616140317555161061")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "1616140317555161061", r.Body, "the raw plaintext, no quotes or newline")

	forged := b.app
	forged.Token = "guessed"
	r, err = wecomtest.VerifyURL(context.Background(), forged, "x")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, r.Status)
}

// rawEncrypt encrypts plaintext bytes as given (layout and padding
// chosen by the test) with the app's key.
func rawEncrypt(t *testing.T, aesKey string, pt []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(aesKey + "=")
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	out := make([]byte, len(pt))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, pt)
	return base64.StdEncoding.EncodeToString(out)
}

// TestBadCallbacks: every bad callback is refused with a clear status,
// reaches no handler and never panics.
func TestBadCallbacks(t *testing.T) {
	t.Parallel()
	msg := func(b *testBundle) []byte {
		return wecomtest.TextXML(b.app, "u1", "/help", "1234567890", time.Now())
	}
	tests := []struct {
		name   string
		status int
		build  func(t *testing.T, b *testBundle) wecomtest.Sealed
	}{
		{"forged signature", http.StatusUnauthorized, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			s := b.seal(t, msg(b), time.Now())
			forged := b.app
			forged.Token = "guessed"
			return wecomtest.SealCiphertext(forged, s.Encrypt, time.Now())
		}},
		{"replayed timestamp", http.StatusUnauthorized, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			return b.seal(t, msg(b), time.Now().Add(-time.Hour))
		}},
		{"wrong corp id inside the plaintext", http.StatusForbidden, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			other := b.app
			other.CorpID = "wwother"
			s, err := wecomtest.Seal(other, msg(b), time.Now())
			require.NoError(t, err)
			return wecomtest.SealCiphertext(b.app, s.Encrypt, time.Now())
		}},
		{"truncated ciphertext", http.StatusBadRequest, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			s := b.seal(t, msg(b), time.Now())
			raw, _ := base64.StdEncoding.DecodeString(s.Encrypt)
			return wecomtest.SealCiphertext(b.app, base64.StdEncoding.EncodeToString(raw[:len(raw)-7]), time.Now())
		}},
		{"bad padding", http.StatusBadRequest, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			body := msg(b)
			pt := append(append(append(bytes.Repeat([]byte("r"), 16), 0, 0, 0, byte(len(body))), body...), b.app.CorpID...)
			pad := 32 - len(pt)%32
			if pad < 2 {
				pad += 32
			}
			for range pad {
				pt = append(pt, byte(pad))
			}
			pt[len(pt)-2] = 0 // the last byte names the padding, the one before disagrees
			return wecomtest.SealCiphertext(b.app, rawEncrypt(t, b.app.EncodingAESKey, pt), time.Now())
		}},
		{"length past the end", http.StatusBadRequest, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			pt := append(bytes.Repeat([]byte("r"), 16), 0xff, 0xff, 0xff, 0xff)
			pt = append(pt, bytes.Repeat([]byte{12}, 12)...)
			return wecomtest.SealCiphertext(b.app, rawEncrypt(t, b.app.EncodingAESKey, pt), time.Now())
		}},
		{"non-xml body", http.StatusBadRequest, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			s := b.seal(t, msg(b), time.Now())
			s.Body = []byte(`{"encrypt":"` + s.Encrypt + `"}`)
			return s
		}},
		{"non-xml plaintext", http.StatusBadRequest, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			return b.seal(t, []byte(`{"MsgType":"text"}`), time.Now())
		}},
		{"tampered body", http.StatusUnauthorized, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			s := b.seal(t, msg(b), time.Now())
			other := b.seal(t, wecomtest.TextXML(b.app, "u1", "/todo", "1234567891", time.Now()), time.Now())
			s.Body = bytes.Replace(s.Body, []byte(s.Encrypt), []byte(other.Encrypt), 1)
			return s
		}},
		{"unknown button", http.StatusBadRequest, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			return b.seal(t, wecomtest.ClickXML(b.app, "u1", "fb-x", "no-action-here", "rc", time.Now()), time.Now())
		}},
		{"oversized body", http.StatusRequestEntityTooLarge, func(t *testing.T, b *testBundle) wecomtest.Sealed {
			s := b.seal(t, msg(b), time.Now())
			s.Body = append(s.Body, bytes.Repeat([]byte(" "), 300<<10)...)
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			r := b.post(t, tt.build(t, b))
			require.Equal(t, tt.status, r.Status, "body %q", r.Body)
			require.Empty(t, b.rec.Events(), "a refused callback reaches no handler")
			require.Empty(t, b.fake.Messages(), "a refused callback changes nothing")
		})
	}
}

// TestRedeliveredMessageOnce: WeCom retries a callback (same MsgId); the
// bot sees it once.
func TestRedeliveredMessageOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	plain := wecomtest.TextXML(b.app, "u1", "/help", "99887766", time.Now())
	for range 3 {
		r := b.post(t, b.seal(t, plain, time.Now()))
		require.Equal(t, http.StatusOK, r.Status)
		require.Empty(t, r.Body)
	}
	require.Len(t, b.rec.Events(), 1)
}

// TestSecondClickAndReusedCode: a second click on the same button (and a
// replayed click event) reaches the bot once; the clicked card is updated
// with the click's code, which cannot be used again.
func TestSecondClickAndReusedCode(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{reply: func(ev bots.Event) (bots.Reply, error) {
		return adaptertest.DefaultReply(ev), nil
	}})
	card := bots.Card{Title: "审批", Buttons: []bots.Button{{Label: "同意", Action: "approve", Value: map[string]string{"task": "7", "v": "1"}}}}
	_, m := b.sendCard(t, "LiLei", card, "outbox-1")
	key := keyOf(t, m.Card, "同意")
	rc, ok := b.fake.IssueCode(b.app.CorpID, b.app.AgentID, m.TaskID, "LiLei")
	require.True(t, ok)
	plain := wecomtest.ClickXML(b.app, "LiLei", m.TaskID, key, rc, time.Now())
	for range 2 {
		require.Equal(t, http.StatusOK, b.post(t, b.seal(t, plain, time.Now())).Status)
	}
	r, err := b.fake.Click(b.ctx, b.app.CorpID, b.app.AgentID, "LiLei", m.TaskID, key)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, b.rec.Events(), 1, "one click reaches the bot")
	waitFor(t, 5*time.Second, "the clicked card updated", func() bool {
		got, _ := b.fake.Task(b.app.CorpID, b.app.AgentID, m.TaskID)
		return got.Updates == 1
	})
	got, _ := b.fake.Task(b.app.CorpID, b.app.AgentID, m.TaskID)
	require.Empty(t, wecomtest.Buttons(got.Card))
	require.Contains(t, wecomtest.CardText(got.Card), "Done")
}

// TestClickOnDecidedTask: the bot refuses a click (warning toast, no
// card): WeCom has no toast, so the bot's words come as a text.
func TestClickOnDecidedTask(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{reply: func(ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Toast: "该审批已处理 already decided", ToastKind: bots.ToastWarning}, nil
	}})
	card := bots.Card{Title: "审批", Buttons: []bots.Button{{Label: "同意", Action: "approve", Value: map[string]string{"task": "7"}}}}
	_, m := b.sendCard(t, "LiLei", card, "")
	r, err := b.fake.Click(b.ctx, b.app.CorpID, b.app.AgentID, "LiLei", m.TaskID, keyOf(t, m.Card, "同意"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	waitFor(t, 5*time.Second, "the refusal", func() bool { return len(b.fake.MessagesTo("LiLei")) == 2 })
	require.Contains(t, b.fake.MessagesTo("LiLei")[1].Text, "already decided")
	got, _ := b.fake.Task(b.app.CorpID, b.app.AgentID, m.TaskID)
	require.Zero(t, got.Updates, "the card is left as it is")
}

// TestFollowUpInputs: a click on a card with a required input asks it in
// the chat and binds the answer to the click.
func TestFollowUpInputs(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	opts := []bots.Option{{Value: "annual", Label: "年假"}, {Value: "sick", Label: "病假"}}
	card := bots.Card{Title: "拒绝", Inputs: []bots.Input{
		{Name: "reason", Label: "拒绝理由", Error: "请填写拒绝理由"},
		{Name: "type", Label: "类型", Kind: bots.InputSelect, Options: opts, Required: true},
		{Name: "note", Label: "备注"},
	}, Buttons: []bots.Button{{Label: "拒绝", Action: "reject", Value: map[string]string{"task": "9"}}}}
	_, m := b.sendCard(t, "LiLei", card, "")
	r, err := b.fake.Click(b.ctx, b.app.CorpID, b.app.AgentID, "LiLei", m.TaskID, keyOf(t, m.Card, "拒绝"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	require.Empty(t, b.rec.Events(), "the click waits for its inputs")
	waitFor(t, 5*time.Second, "the first question", func() bool { return len(b.fake.MessagesTo("LiLei")) == 2 })
	require.Contains(t, b.fake.MessagesTo("LiLei")[1].Text, "请填写拒绝理由")
	for _, answer := range []string{"预算不足", "2"} {
		r, err := b.fake.SendText(b.ctx, b.app.CorpID, b.app.AgentID, "LiLei", answer)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
	}
	evs := b.rec.WaitEvents(t, 1, 5*time.Second)
	require.Equal(t, "reject", evs[0].Action.Name)
	require.Equal(t, map[string]string{"reason": "预算不足", "type": "sick"}, evs[0].Action.Inputs)
	waitFor(t, 5*time.Second, "the second question", func() bool {
		ms := b.fake.MessagesTo("LiLei")
		return len(ms) >= 3 && strings.Contains(ms[2].Text, "2. 病假")
	})
}

func TestGetAndUnknownMethods(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	req, err := http.NewRequest(http.MethodPut, b.app.Webhook, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = http.Get(b.app.Webhook + "?msg_signature=x&timestamp=1&nonce=n")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "no echostr")
}

// TestFollowUpCancelledByCommand: a command instead of an answer drops
// the waiting click and reaches the bot.
func TestFollowUpCancelledByCommand(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	card := bots.Card{Title: "拒绝", Inputs: []bots.Input{{Name: "reason", Label: "拒绝理由", Required: true}},
		Buttons: []bots.Button{{Label: "拒绝", Action: "reject", Value: map[string]string{"task": "9"}}}}
	_, m := b.sendCard(t, "LiLei", card, "")
	_, err := b.fake.Click(b.ctx, b.app.CorpID, b.app.AgentID, "LiLei", m.TaskID, keyOf(t, m.Card, "拒绝"))
	require.NoError(t, err)
	_, err = b.fake.SendText(b.ctx, b.app.CorpID, b.app.AgentID, "LiLei", "/cancel")
	require.NoError(t, err)
	evs := b.rec.WaitEvents(t, 1, 5*time.Second)
	require.Equal(t, "/cancel", evs[0].Text)
	require.Nil(t, evs[0].Action)
	_, err = b.fake.SendText(b.ctx, b.app.CorpID, b.app.AgentID, "LiLei", "later text")
	require.NoError(t, err)
	require.Equal(t, "later text", b.rec.WaitEvents(t, 2, 5*time.Second)[1].Text)
}
