package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// TestDemoModeNextToRealPlatforms runs every combination of demo mode,
// a real IM and the explicit permission: demo next to a real IM is refused
// (by Validate and by newApp) unless allowed, with a loud warning; out of
// demo mode the playground is off, and the log says why.
func TestDemoModeNextToRealPlatforms(t *testing.T) {
	t.Parallel()
	fake := feishutest.NewServer()
	t.Cleanup(fake.Close)
	tests := []struct {
		name       string
		demo       bool
		feishu     bool
		allow      bool
		refused    bool
		playground bool   // /ui/ is served
		log        string // a line the log must hold
	}{
		{name: "demo alone", demo: true, playground: true, log: "DEMO mode"},
		{name: "demo next to feishu", demo: true, feishu: true, refused: true},
		{name: "demo next to feishu, allowed", demo: true, feishu: true, allow: true, playground: true, log: "DANGER: playground.allow_demo_with_real_platforms"},
		{name: "no demo, feishu", feishu: true, log: "playground off: outside demo mode it needs sign-in"},
		{name: "no demo, nothing else", log: "playground off: outside demo mode it needs sign-in"},
		{name: "allowed but no demo", feishu: true, allow: true, log: "playground off"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t.TempDir())
			cfg.Log.Level = "info"
			cfg.Playground.Demo = tc.demo
			cfg.Playground.AllowDemoWithRealPlatforms = tc.allow
			if tc.feishu {
				feishuApp(&cfg, fake)
			}
			verr := cfg.Validate()
			logs := &syncBuffer{}
			a, err := newApp(context.Background(), cfg, logs)
			if tc.refused {
				require.ErrorContains(t, verr, "playground.demo")
				require.ErrorContains(t, verr, "feishu")
				require.ErrorContains(t, err, "playground.allow_demo_with_real_platforms")
				return
			}
			require.NoError(t, verr)
			require.NoError(t, err)
			a.close()
			require.Contains(t, logs.String(), tc.log)
			r := startApp(t, cfg)
			code, _, body := getBody(t, r.base+"/ui/")
			if tc.playground {
				require.Equal(t, http.StatusOK, code, body)
			} else {
				require.Equal(t, http.StatusNotFound, code, "the playground is off: got %d, want 404", code)
			}
		})
	}
}

// TestDemoRefusedByConfigFile: a config file asking for demo mode next to
// Feishu is refused when it is read, unless it allows it explicitly.
func TestDemoRefusedByConfigFile(t *testing.T) {
	t.Parallel()
	_, err := parseConfigString(t, "playground: {demo: true}\nfeishu: {apps: [{app_id: a, app_secret: s, mode: websocket}]}\n")
	require.ErrorContains(t, err, "config: playground.demo: is true while feishu is configured")
	_, err = parseConfigString(t, "playground: {demo: true, allow_demo_with_real_platforms: true}\nfeishu: {apps: [{app_id: a, app_secret: s, mode: websocket}]}\n")
	require.NoError(t, err)
}
