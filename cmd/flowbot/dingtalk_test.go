package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
)

func TestDingTalkConfigValidation(t *testing.T) {
	t.Parallel()
	_, err := parseConfigString(t, `
dingtalk:
  click_timeout: 3s
  apps:
    - {app_key: "", app_secret: "", mode: poll}
    - {app_key: dingk, app_secret: s, text_only: true}
    - {app_key: dingk, app_secret: s, card_template_id: tpl}
`)
	require.Error(t, err)
	for _, key := range []string{"dingtalk.click_timeout", "dingtalk.apps[0].app_key", "dingtalk.apps[0].app_secret", "dingtalk.apps[0].mode", "dingtalk.apps[0].card_template_id", "dingtalk.apps[2].app_key"} {
		require.ErrorContains(t, err, key)
	}
}

// TestServeDingTalk: serve with a Stream app against the fake: /readyz
// reports the connection, a 1:1 message is answered through the outbox,
// and /metrics counts the frames.
func TestServeDingTalk(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddApp(dingtalktest.App{Key: "dingserve", Secret: "serve-secret"})
	cfg := testConfig(t.TempDir())
	cfg.Playground.AllowDemoWithRealPlatforms = true // a closed test setup: the playground next to a fake platform
	cfg.DingTalk.Apps = []DingTalkApp{{AppKey: "dingserve", AppSecret: "serve-secret", BaseURL: fake.URL, CardTemplateID: "tpl"}}
	r := startApp(t, cfg)
	waitFor(t, 10*time.Second, "the stream connection", func() bool { return fake.Connected("dingserve") })
	body := get(t, r.base+"/readyz")
	require.Contains(t, body, "dingtalk: ok")

	ack, err := fake.Callback("dingserve", "/v1.0/im/bot/messages/get", "", fake.MessageData("dingserve", dingtalktest.Message{StaffID: "user0004", Text: "/help"}))
	require.NoError(t, err)
	require.Equal(t, "SUCCESS", ack.Status())
	waitFor(t, 10*time.Second, "the reply through the outbox", func() bool {
		for _, s := range fake.Sent() {
			if s.UserID == "user0004" && s.Text != "" {
				return true
			}
		}
		return false
	})
	require.Contains(t, get(t, r.base+"/metrics"), `flowbot_dingtalk_total{app="dingserve",kind="ack"}`)

	fake.Drop("dingserve")
	waitFor(t, 10*time.Second, "the reconnection", func() bool { return fake.Opens("dingserve") >= 2 && fake.Connected("dingserve") })
	require.Contains(t, get(t, r.base+"/metrics"), `kind="reconnect"`)
}

func get(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}
