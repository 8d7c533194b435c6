package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConfigCheck: each mistake of a config file is one line with the
// file's line number; a good file (the example) is ok.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", `log:
  level: loud
  colour: red
playground:
  demo: true
feishu:
  apps:
    - app_id: cli_a
      app_secret: ${FLOWBOT_TEST_UNSET_SECRET}
      verification_token: t
http:
  max_conns: -1
`)
	out, _, err := runCLI(t, "config", "check", "--config", bad)
	require.ErrorContains(t, err, "5 mistake(s) in "+bad)
	for _, want := range []string{
		bad + ":3: unknown key colour\n",
		bad + ":2: log.level: must be debug, info, warn or error",
		bad + ":9: feishu.apps[0].app_secret: is empty",
		bad + ":5: playground.demo: is true while feishu is configured",
		bad + ":12: http.max_conns: must be >= 0",
	} {
		require.Contains(t, out, want)
	}

	out, _, err = runCLI(t, "config", "check", "--config", filepath.Join(moduleRoot(t), "config.example.yaml"))
	require.NoError(t, err, out)
	require.Contains(t, out, "ok  ")

	_, _, err = runCLI(t, "config", "check")
	require.ErrorIs(t, err, errUsage)
}
