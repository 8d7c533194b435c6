package feishutest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	s, tok := newFake(t)
	body, _ := json.Marshal(map[string]string{"receive_id": "ou_a", "msg_type": "text", "content": `{"text":"hi"}`})
	post := func() (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/open-apis/im/v1/messages?receive_id_type=open_id", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		return http.DefaultClient.Do(req)
	}
	s.FailNext(1, http.StatusBadGateway)
	resp, err := post()
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	require.False(t, json.Valid(raw), "a gateway error is not Feishu's JSON: %s", raw)

	s.FailNext(1, 0)
	_, err = post()
	require.Error(t, err, "the connection is dropped")

	resp, err = post()
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, s.Messages(), 1)
	require.Equal(t, 3, s.Calls())
}

func TestBotInfo(t *testing.T) {
	t.Parallel()
	s, tok := newFake(t)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/open-apis/bot/v3/info", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var a struct {
		Code int `json:"code"`
		Bot  struct {
			OpenID string `json:"open_id"`
		} `json:"bot"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	require.Equal(t, 0, a.Code)
	require.Equal(t, "ou_bot_cli_1", a.Bot.OpenID)
	require.Equal(t, 99991661, call(t, http.MethodGet, s.URL+"/open-apis/bot/v3/info", "", nil).Code, "the tenant token is required")
}

func TestCardRequestSizeLimit(t *testing.T) {
	t.Parallel()
	s, tok := newFake(t)
	url := s.URL + "/open-apis/im/v1/messages?receive_id_type=open_id"
	card := func(n int) string {
		return `{"schema":"2.0","config":{"update_multi":true},"body":{"elements":[{"tag":"markdown","content":"` + strings.Repeat(`\"`, n) + `"}]}}`
	}
	// 10000 escaped quotes: 20 KB of card, 40 KB once escaped in the body.
	big := call(t, http.MethodPost, url, tok, map[string]string{"receive_id": "ou_a", "msg_type": "interactive", "content": card(10000)})
	require.Equal(t, 230025, big.Code, "the body, not the card, is measured")
	ok := call(t, http.MethodPost, url, tok, map[string]string{"receive_id": "ou_a", "msg_type": "interactive", "content": card(5000)})
	require.Equal(t, 0, ok.Code)
	require.Len(t, s.Messages(), 1)
}
