package feishu_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

type harness struct{}

func (harness) NewTarget(t *testing.T, rec *adaptertest.Recorder) adaptertest.Target {
	return &target{b: setup(t, setupOpts{handler: rec, noNotifier: true})}
}

// RenderCard returns the request body that sends the card, as the SDK
// encodes it: Feishu's limit applies to that body, where the card JSON is
// an escaped string.
func (harness) RenderCard(c bots.Card) ([]byte, error) {
	card, err := feishu.RenderCard(c)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{
		"receive_id": "ou_" + strings.Repeat("0", 32), "msg_type": "interactive",
		"content": string(card), "uuid": strings.Repeat("f", 32),
	})
}
func (harness) MaxCardBytes() int { return feishu.MaxCardBytes }

type target struct{ b *testBundle }

func (tg *target) Click(t *testing.T, c adaptertest.ClickSpec, attack adaptertest.Attack) bool {
	f := tg.b.fake
	card, err := feishu.RenderCard(bots.Card{Title: "t", Buttons: []bots.Button{{Label: "go", Action: c.Action, Value: c.Value}}})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(card, &m))
	value, ok := feishutest.ButtonValue(m, "go")
	require.True(t, ok)
	form := nativeForm(c.Inputs)
	payload, _ := f.ClickEvent(feishutest.Click{App: tg.b.app.ID, OpenID: c.UserID, MessageID: "om_x", Value: value, FormValue: form})
	at := time.Now()
	if attack == adaptertest.Replayed {
		at = at.Add(-10 * time.Minute)
	}
	body, hdr, err := f.Seal(tg.b.app.ID, payload, at)
	require.NoError(t, err)
	switch attack {
	case adaptertest.ForgedSignature:
		hdr.Set("X-Lark-Signature", feishutest.Sign(hdr.Get("X-Lark-Request-Timestamp"), hdr.Get("X-Lark-Request-Nonce"), "guessed-key", body))
	case adaptertest.Tampered:
		// Re-encrypt a changed payload but keep the original signature.
		changed := bytes.Replace(payload, []byte(c.Action), []byte("reject"), 1)
		enc, err := feishutest.Encrypt(changed, tg.b.app.EncryptKey)
		require.NoError(t, err)
		body, _ = json.Marshal(map[string]string{"encrypt": enc})
	}
	r := f.Post(t, tg.b.app.ID, body, hdr)
	cr := feishutest.DecodeClick(r, "")
	return r.Status == http.StatusOK && (cr.Toast == nil || cr.Toast.Type != "error")
}

// Message delivers a signed text message in a 1:1 chat.
func (tg *target) Message(t *testing.T, userID, text string) bool {
	f := tg.b.fake
	payload := f.MessageEvent(feishutest.Delivery{App: tg.b.app.ID, OpenID: userID, ChatID: "oc_" + userID, ChatType: "p2p", Text: text})
	body, hdr, err := f.Seal(tg.b.app.ID, payload, time.Now())
	require.NoError(t, err)
	return f.Post(t, tg.b.app.ID, body, hdr).Status == http.StatusOK
}

func (tg *target) Messenger() bots.Messenger { return tg.b.adapter }

func (tg *target) ReplyTo(userID string) bots.Recipient {
	return bots.Recipient{Platform: feishu.Platform, App: tg.b.app.ID, UserID: userID, ChatID: "oc_" + userID}
}

func (tg *target) Shown(t *testing.T, to bots.Recipient) int {
	n := 0
	for _, m := range tg.b.fake.Messages() {
		if m.ReceiveID == to.ChatID || m.ReceiveID == to.UserID {
			n++
		}
	}
	return n
}

func TestConformance(t *testing.T) {
	t.Parallel()
	adaptertest.Run(t, harness{})
}

// nativeForm turns input values in bots' string formats into the
// form_value Feishu sends for the widgets RenderCard draws: a multi
// select as an array, a date picker as "2006-01-02 -0700", a date range
// as its two pickers.
func nativeForm(inputs map[string]string) map[string]any {
	kinds := map[string]bots.InputKind{}
	for _, in := range adaptertest.InputKindsCard().Inputs {
		kinds[in.Name] = in.Kind
	}
	form := map[string]any{}
	for k, v := range inputs {
		switch kinds[k] {
		case bots.InputMultiSelect:
			var vals []any
			for _, s := range strings.Split(v, ",") {
				vals = append(vals, s)
			}
			form[k] = vals
		case bots.InputDate:
			form[k] = v + " +0800"
		case bots.InputDateRange:
			from, to, _ := strings.Cut(v, "~")
			form[k+"__from"], form[k+"__to"] = from+" +0800", to+" +0800"
		default:
			form[k] = v
		}
	}
	return form
}

// Restart builds the next process's adapter on the same fake.
func (tg *target) Restart(t *testing.T) bots.Messenger {
	a, err := tg.b.renew()
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}
