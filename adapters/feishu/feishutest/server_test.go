package feishutest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

type answer struct {
	Status int
	Header http.Header
	Code   int            `json:"code"`
	Msg    string         `json:"msg"`
	Token  string         `json:"tenant_access_token"`
	Expire int            `json:"expire"`
	Data   map[string]any `json:"data"`
}

func call(t *testing.T, method, url, token string, body any) answer {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), "the SDK parses only JSON answers")
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var a answer
	require.NoError(t, json.Unmarshal(raw, &a), "%s", raw)
	a.Status, a.Header = resp.StatusCode, resp.Header
	return a
}

func newFake(t *testing.T, opts ...feishutest.Option) (*feishutest.Server, string) {
	t.Helper()
	s := feishutest.NewServer(opts...)
	t.Cleanup(s.Close)
	s.AddApp(feishutest.App{ID: "cli_1", Secret: "sec"})
	a := call(t, http.MethodPost, s.URL+"/open-apis/auth/v3/tenant_access_token/internal", "", map[string]string{"app_id": "cli_1", "app_secret": "sec"})
	require.Equal(t, 0, a.Code)
	require.True(t, strings.HasPrefix(a.Token, "t-"))
	return s, a.Token
}

func TestToken(t *testing.T) {
	t.Parallel()
	s, tok := newFake(t, feishutest.WithTokenTTL(time.Hour))
	require.Equal(t, 1, s.TokensIssued())
	bad := call(t, http.MethodPost, s.URL+"/open-apis/auth/v3/tenant_access_token/internal", "", map[string]string{"app_id": "cli_1", "app_secret": "nope"})
	require.NotZero(t, bad.Code)
	require.Empty(t, bad.Token)

	send := map[string]string{"receive_id": "ou_a", "msg_type": "text", "content": `{"text":"hi"}`}
	url := s.URL + "/open-apis/im/v1/messages?receive_id_type=open_id"
	require.Equal(t, 0, call(t, http.MethodPost, url, tok, send).Code)
	require.Equal(t, 99991661, call(t, http.MethodPost, url, "", send).Code, "no token")
	require.Equal(t, 99991663, call(t, http.MethodPost, url, "t-forged", send).Code, "unknown token")
	s.ExpireTokens()
	require.Equal(t, 99991663, call(t, http.MethodPost, url, tok, send).Code, "expired token")
	require.Len(t, s.Messages(), 1)
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	s, tok := newFake(t)
	card := `{"schema":"2.0","config":{"update_multi":true},"body":{"elements":[{"tag":"markdown","content":"x"}]}}`
	tests := []struct {
		name   string
		idType string
		body   map[string]string
		code   int
	}{
		{"text", "open_id", map[string]string{"receive_id": "ou_a", "msg_type": "text", "content": `{"text":"hi"}`}, 0},
		{"card", "chat_id", map[string]string{"receive_id": "oc_a", "msg_type": "interactive", "content": card}, 0},
		{"bad id type", "phone", map[string]string{"receive_id": "ou_a", "msg_type": "text", "content": `{"text":"hi"}`}, 99992402},
		{"no receiver", "open_id", map[string]string{"msg_type": "text", "content": `{"text":"hi"}`}, 99992402},
		{"text not json", "open_id", map[string]string{"receive_id": "ou_a", "msg_type": "text", "content": "hi"}, 99992402},
		{"card 1.0", "open_id", map[string]string{"receive_id": "ou_a", "msg_type": "interactive", "content": `{"elements":[]}`}, 99992402},
		{"card without update_multi", "open_id", map[string]string{"receive_id": "ou_a", "msg_type": "interactive", "content": `{"schema":"2.0","body":{"elements":[]}}`}, 99992402},
		{"card too large", "open_id", map[string]string{"receive_id": "ou_a", "msg_type": "interactive", "content": strings.Repeat(" ", 31*1024) + card}, 230025},
		{"uuid too long", "open_id", map[string]string{"receive_id": "ou_a", "msg_type": "text", "content": `{"text":"hi"}`, "uuid": strings.Repeat("u", 51)}, 99992402},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, http.MethodPost, s.URL+"/open-apis/im/v1/messages?receive_id_type="+tt.idType, tok, tt.body)
			require.Equal(t, tt.code, a.Code, a.Msg)
			if tt.code == 0 {
				require.True(t, strings.HasPrefix(a.Data["message_id"].(string), "om_"))
			}
		})
	}
	require.Len(t, s.Messages(), 2, "refused messages are not recorded")
}

func TestUUIDDedupesAndPatch(t *testing.T) {
	t.Parallel()
	s, tok := newFake(t)
	card := `{"schema":"2.0","config":{"update_multi":true},"body":{"elements":[]}}`
	body := map[string]string{"receive_id": "ou_a", "msg_type": "interactive", "content": card, "uuid": "u1"}
	url := s.URL + "/open-apis/im/v1/messages?receive_id_type=open_id"
	first := call(t, http.MethodPost, url, tok, body)
	again := call(t, http.MethodPost, url, tok, body)
	require.Equal(t, first.Data["message_id"], again.Data["message_id"])
	require.Len(t, s.Messages(), 1)

	id := first.Data["message_id"].(string)
	newCard := `{"schema":"2.0","config":{"update_multi":true},"body":{"elements":[{"tag":"markdown","content":"done"}]}}`
	require.Equal(t, 0, call(t, http.MethodPatch, s.URL+"/open-apis/im/v1/messages/"+id, tok, map[string]string{"content": newCard}).Code)
	require.NotZero(t, call(t, http.MethodPatch, s.URL+"/open-apis/im/v1/messages/om_nope", tok, map[string]string{"content": newCard}).Code)
	m, ok := s.Message(id)
	require.True(t, ok)
	require.Equal(t, newCard, m.Content)
	require.Equal(t, 1, m.Updates)
	require.Len(t, s.Patches(), 1)
}

func TestRateLimitNext(t *testing.T) {
	t.Parallel()
	s, tok := newFake(t)
	s.RateLimitNext(2, 3)
	body := map[string]string{"receive_id": "ou_a", "msg_type": "text", "content": `{"text":"hi"}`}
	url := s.URL + "/open-apis/im/v1/messages?receive_id_type=open_id"
	for range 2 {
		a := call(t, http.MethodPost, url, tok, body)
		require.Equal(t, http.StatusTooManyRequests, a.Status)
		require.Equal(t, 99991400, a.Code)
		require.Equal(t, "3", a.Header.Get("x-ogw-ratelimit-reset"))
	}
	require.Equal(t, 0, call(t, http.MethodPost, url, tok, body).Code)
	require.Equal(t, 3, s.Calls())
	require.Len(t, s.Messages(), 1)
}

// TestSealMatchesSDK checks the fake encrypts and signs the way the SDK
// decrypts and verifies.
func TestSealMatchesSDK(t *testing.T) {
	t.Parallel()
	s := feishutest.NewServer()
	t.Cleanup(s.Close)
	s.AddApp(feishutest.App{ID: "cli_1", Secret: "sec", EncryptKey: "ek", VerificationToken: "vt"})
	payload := s.MessageEvent(feishutest.Delivery{App: "cli_1", OpenID: "ou_a", ChatID: "oc_1", Text: "请假"})
	body, hdr, err := s.Seal("cli_1", payload, time.Now())
	require.NoError(t, err)
	var env struct {
		Encrypt string `json:"encrypt"`
	}
	require.NoError(t, json.Unmarshal(body, &env))
	plain, err := larkevent.EventDecrypt(env.Encrypt, "ek")
	require.NoError(t, err)
	require.JSONEq(t, string(payload), string(plain))
	want := larkevent.Signature(hdr.Get("X-Lark-Request-Timestamp"), hdr.Get("X-Lark-Request-Nonce"), "ek", string(body))
	require.Equal(t, want, hdr.Get("X-Lark-Signature"))
}

func TestButtons(t *testing.T) {
	t.Parallel()
	var card map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"body":{"elements":[{"tag":"column_set","columns":[
		{"elements":[{"tag":"button","name":"btn_1","text":{"content":"No"},"behaviors":[{"type":"callback","value":{"a":"reject"}}]}]},
		{"elements":[{"tag":"button","name":"btn_0","text":{"content":"Yes"},"behaviors":[{"type":"callback","value":{"a":"approve"}}]}]}]}]}}`), &card))
	bs := feishutest.Buttons(card)
	require.Len(t, bs, 2)
	require.Equal(t, "Yes", bs[0].Label)
	v, ok := feishutest.ButtonValue(card, "No")
	require.True(t, ok)
	require.Equal(t, map[string]any{"a": "reject"}, v)
	_, ok = feishutest.ButtonValue(card, "Maybe")
	require.False(t, ok)
}
