package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// TestFeishuAdapterLogsThroughTheAppLogger: with log.format json, the
// Feishu adapter's lines (here: its warning that the bot's open_id could
// not be fetched) are JSON lines of the app's log, at its level.
func TestFeishuAdapterLogsThroughTheAppLogger(t *testing.T) {
	t.Parallel()
	fake := feishutest.NewServer()
	t.Cleanup(fake.Close)
	cfg := testConfig(t.TempDir())
	cfg.Playground.Demo = false
	cfg.Log.Format = "json"
	feishuApp(&cfg, fake)
	fake.AddApp(feishutest.App{ID: "cli_hardening", Secret: "another secret"}) // the bot info call fails: a warning
	logs := &syncBuffer{}
	a, err := newApp(context.Background(), cfg, logs)
	require.NoError(t, err)
	t.Cleanup(a.close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, start := range a.starters {
		require.NoError(t, start(ctx))
	}
	waitFor(t, 10*time.Second, "the adapter's warning", func() bool { return strings.Contains(logs.String(), "feishu") })
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &v), "not a JSON line: %s", line)
	}
	require.Contains(t, logs.String(), `"feishu":{`)
}
