package dingtalktest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
)

func post(t *testing.T, url, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("x-acs-dingtalk-access-token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestFakeChecksCredentials(t *testing.T) {
	t.Parallel()
	s := dingtalktest.NewServer()
	t.Cleanup(s.Close)
	s.AddApp(dingtalktest.App{Key: "k", Secret: "right"})
	sub := []map[string]string{{"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"}}

	code, _ := post(t, s.URL+"/v1.0/gateway/connections/open", "", map[string]any{"clientId": "k", "clientSecret": "wrong", "subscriptions": sub})
	require.Equal(t, http.StatusUnauthorized, code)
	code, out := post(t, s.URL+"/v1.0/gateway/connections/open", "", map[string]any{"clientId": "k", "clientSecret": "right", "subscriptions": sub})
	require.Equal(t, http.StatusOK, code)
	endpoint, ticket := out["endpoint"].(string), out["ticket"].(string)
	require.NotContains(t, endpoint, "?", "the SDK appends ?ticket=")

	ws, _, err := websocket.DefaultDialer.Dial(endpoint+"?ticket="+ticket, nil)
	require.NoError(t, err)
	ws.Close()
	_, resp, err := websocket.DefaultDialer.Dial(endpoint+"?ticket="+ticket, nil)
	require.Error(t, err, "a ticket is good once")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	code, _ = post(t, s.URL+"/v1.0/oauth2/accessToken", "", map[string]string{"appKey": "k", "appSecret": "wrong"})
	require.Equal(t, http.StatusBadRequest, code)
	code, out = post(t, s.URL+"/v1.0/oauth2/accessToken", "", map[string]string{"appKey": "k", "appSecret": "right"})
	require.Equal(t, http.StatusOK, code)
	tok := out["accessToken"].(string)

	send := map[string]any{"robotCode": "k", "userIds": []string{"u"}, "msgKey": "sampleText", "msgParam": `{"content":"hi"}`}
	code, _ = post(t, s.URL+"/v1.0/robot/oToMessages/batchSend", "forged", send)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = post(t, s.URL+"/v1.0/robot/oToMessages/batchSend", tok, map[string]any{"robotCode": "k", "userIds": []string{"u"}, "msgKey": "sampleText", "msgParam": map[string]string{"content": "not a string"}})
	require.Equal(t, http.StatusBadRequest, code, "msgParam must be a JSON string")
	code, _ = post(t, s.URL+"/v1.0/robot/oToMessages/batchSend", tok, send)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, s.Sent(), 1)

	// Tokens expire.
	s.Now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	code, _ = post(t, s.URL+"/v1.0/robot/oToMessages/batchSend", tok, send)
	require.Equal(t, http.StatusUnauthorized, code)
}

func TestFakeCardValuesMustBeStrings(t *testing.T) {
	t.Parallel()
	s := dingtalktest.NewServer()
	t.Cleanup(s.Close)
	s.AddApp(dingtalktest.App{Key: "k", Secret: "right"})
	_, out := post(t, s.URL+"/v1.0/oauth2/accessToken", "", map[string]string{"appKey": "k", "appSecret": "right"})
	tok := out["accessToken"].(string)
	code, out := post(t, s.URL+"/v1.0/card/instances/createAndDeliver", tok, map[string]any{
		"cardTemplateId": "t", "outTrackId": "o", "openSpaceId": "dtv1.card//IM_ROBOT.u",
		"imRobotOpenDeliverModel": map[string]string{"robotCode": "k"},
		"cardData":                map[string]any{"cardParamMap": map[string]any{"n": 3}},
	})
	require.Equal(t, http.StatusBadRequest, code)
	require.True(t, strings.Contains(out["message"].(string), "strings"))
}
