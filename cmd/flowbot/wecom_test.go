package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
)

// TestServeWeCom: serve wires the WeCom adapter: the URL check and
// callbacks on /webhook/wecom, replies through the notifier, /readyz and
// metrics per app.
func TestServeWeCom(t *testing.T) {
	t.Parallel()
	fake := wecomtest.NewServer()
	t.Cleanup(fake.Close)
	cfg := testConfig(t.TempDir())
	cfg.Playground.AllowDemoWithRealPlatforms = true // a closed test setup: the playground next to a fake platform
	wa := WeComApp{Name: "hq", CorpID: "wwflowbot", AgentID: 1000002, Secret: "s3cret", Token: "tok", EncodingAESKey: wecomtest.NewAESKey(), BaseURL: fake.URL}
	cfg.WeCom.Apps = []WeComApp{wa}
	require.NoError(t, cfg.Validate())
	r := startApp(t, cfg)
	app := wecomtest.App{CorpID: wa.CorpID, AgentID: wa.AgentID, Secret: wa.Secret, Token: wa.Token, EncodingAESKey: wa.EncodingAESKey, Webhook: r.base + "/webhook/wecom"}
	fake.AddApp(app)
	ctx := context.Background()

	v, err := wecomtest.VerifyURL(ctx, app, "echo-123")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, v.Status)
	require.Equal(t, "echo-123", v.Body)

	resp, err := fake.SendText(ctx, wa.CorpID, wa.AgentID, "HanMeimei", "/help")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, resp.Body)
	require.Empty(t, resp.Body)
	waitFor(t, 10*time.Second, "the bot's answer through the notifier", func() bool { return len(fake.MessagesTo("HanMeimei")) > 0 })
	require.Contains(t, fake.MessagesTo("HanMeimei")[0].Text, "/todo")

	code, _, body := getBody(t, r.base+"/readyz")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "wecom")
	_, _, metrics := getBody(t, r.base+"/metrics")
	require.Contains(t, metrics, `flowbot_wecom_callbacks_total{app="hq",outcome="ok"} 1`)
	require.Contains(t, metrics, `flowbot_wecom_api_calls_total{app="hq",op="send",outcome="ok"}`)
}

func TestWeComConfigNamesBadKeys(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	cfg.Playground.AllowDemoWithRealPlatforms = true // a closed test setup: the playground next to a fake platform
	cfg.WeCom.HandleTimeout = 10 * time.Second
	cfg.WeCom.Apps = []WeComApp{{CorpID: "ww1", EncodingAESKey: "short"}, {CorpID: "ww1", AgentID: 2, Secret: "s", Token: "t", EncodingAESKey: strings.Repeat("a", 43)}}
	err := cfg.Validate()
	require.Error(t, err)
	for _, key := range []string{"wecom.handle_timeout", "wecom.apps[0].agent_id", "wecom.apps[0].secret", "wecom.apps[0].token", "wecom.apps[0].encoding_aes_key"} {
		require.Contains(t, err.Error(), key)
	}
}
