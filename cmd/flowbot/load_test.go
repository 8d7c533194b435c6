package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// TestFeishuRateConfig checks feishu.rate is read from the config file
// and that a negative quota is refused at start with the key named.
func TestFeishuRateConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("feishu:\n  rate: {app_per_second: 100, app_per_minute: 6000, chat_per_second: 10}\n"), 0o600))
	cfg, err := loadConfig(path)
	require.NoError(t, err)
	require.Equal(t, FeishuRate{AppPerSecond: 100, AppPerMinute: 6000, ChatPerSecond: 10}, cfg.Feishu.Rate)

	fake := feishutest.NewServer()
	t.Cleanup(fake.Close)
	bad := testConfig(dir)
	bad.Playground.Demo = false
	feishuApp(&bad, fake)
	bad.Feishu.Rate.AppPerMinute = -1
	_, err = newApp(context.Background(), bad, &syncBuffer{})
	require.ErrorContains(t, err, "feishu.rate.app_per_minute")
}

// TestLoadFlags checks `flowbot load` refuses a bad flag as a usage error
// and answers -h with its flags, without starting anything.
func TestLoadFlags(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	require.ErrorIs(t, run(context.Background(), []string{"load", "-events", "many"}, &out, &errOut), errUsage)
	require.ErrorIs(t, run(context.Background(), []string{"load", "-via", "teams"}, &out, &errOut), errUsage)
	require.Contains(t, errOut.String(), "want feishu or web")
	errOut.Reset()
	require.NoError(t, run(context.Background(), []string{"load", "-h"}, &out, &errOut))
	require.Contains(t, errOut.String(), "-per-applicant")
	require.Contains(t, errOut.String(), "-feishu-quota")
	require.Contains(t, errOut.String(), "-via")
	require.Contains(t, errOut.String(), "-cpuprofile")
}
