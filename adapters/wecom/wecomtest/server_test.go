package wecomtest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
)

type bundle struct {
	s   *wecomtest.Server
	app wecomtest.App
	tok string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	s := wecomtest.NewServer()
	t.Cleanup(s.Close)
	app := wecomtest.App{CorpID: "wwc", AgentID: 1000002, Secret: "sec", Token: "t", EncodingAESKey: wecomtest.NewAESKey()}
	s.AddApp(app)
	var tok struct {
		ErrCode     int    `json:"errcode"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	get(t, s.URL+"/cgi-bin/gettoken?corpid=wwc&corpsecret=sec", &tok)
	require.Zero(t, tok.ErrCode)
	require.Greater(t, tok.ExpiresIn, 1500, "the SDK caches for expires_in-1500s")
	return &bundle{s: s, app: app, tok: tok.AccessToken}
}

func get(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
}

func (b *bundle) post(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(b.s.URL+path+"?access_token="+b.tok, "application/json", bytes.NewReader(raw))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func card(task string) map[string]any {
	return map[string]any{"card_type": "button_interaction", "main_title": map[string]any{"title": "t"}, "task_id": task,
		"button_list": []any{map[string]any{"text": "ok", "style": 1, "key": "k"}}}
}

func TestFakeWeCom(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var bad struct{ ErrCode int }
	get(t, b.s.URL+"/cgi-bin/gettoken?corpid=wwc&corpsecret=wrong", &bad)
	require.Equal(t, 40001, bad.ErrCode)

	// agentid as a string (the SDK's way) is accepted.
	out := b.post(t, "/cgi-bin/message/send", map[string]any{"touser": "u1", "agentid": "1000002", "msgtype": "template_card", "template_card": card("task-1")})
	require.EqualValues(t, 0, out["errcode"])
	rc := out["response_code"].(string)
	require.NotEmpty(t, rc)
	out = b.post(t, "/cgi-bin/message/send", map[string]any{"touser": "u1", "agentid": 1000002, "msgtype": "template_card", "template_card": card("task-1")})
	require.EqualValues(t, 42014, out["errcode"], "a task_id is unique per app")
	out = b.post(t, "/cgi-bin/message/send", map[string]any{"touser": "u1", "agentid": 1000002, "msgtype": "template_card", "template_card": card("bad task id!")})
	require.EqualValues(t, 40058, out["errcode"])

	upd := map[string]any{"userids": []string{"u1"}, "agentid": 1000002, "response_code": rc, "button": map[string]any{"replace_name": "已同意"}}
	require.EqualValues(t, 0, b.post(t, "/cgi-bin/message/update_template_card", upd)["errcode"])
	require.EqualValues(t, 40029, b.post(t, "/cgi-bin/message/update_template_card", upd)["errcode"], "a response code is single-use")
	m, ok := b.s.Task("wwc", 1000002, "task-1")
	require.True(t, ok)
	require.Equal(t, 1, m.Updates)
	require.Empty(t, wecomtest.Buttons(m.Card))

	b.s.ExpireTokens()
	out = b.post(t, "/cgi-bin/message/send", map[string]any{"touser": "u1", "agentid": 1000002, "msgtype": "text", "text": map[string]any{"content": "hi"}})
	require.EqualValues(t, 42001, out["errcode"])
}
