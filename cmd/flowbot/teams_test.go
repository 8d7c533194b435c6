package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/teams/teamstest"
)

func TestTeamsConfigValidation(t *testing.T) {
	t.Setenv("FLOWBOT_TEST_TEAMS_PASSWORD", "pw-from-env")
	cfg, err := parseConfigString(t, `
teams:
  app_id: bot-1
  app_password: ${FLOWBOT_TEST_TEAMS_PASSWORD}
  tenant_id: tenant-1
  leeway: 2m
`)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, "pw-from-env", cfg.Teams.AppPassword)

	cfg, err = parseConfigString(t, `
teams:
  app_id: bot-1
  path: api/messages
  openid_metadata_url: "ftp://x"
  leeway: 1h
  invoke_timeout: -1s
`)
	if err == nil {
		err = cfg.Validate()
	}
	require.Error(t, err)
	for _, key := range []string{"teams.app_password", "teams.tenant_id", "teams.path", "teams.openid_metadata_url", "teams.leeway", "teams.invoke_timeout"} {
		require.Contains(t, err.Error(), key)
	}
}

// TestServeTeams: serve mounts /api/messages; a signed activity is
// accepted and a forged one refused, /readyz checks the adapter and
// /metrics counts both, labelled by app.
func TestServeTeams(t *testing.T) {
	fake := teamstest.NewServer()
	t.Cleanup(fake.Close)
	cfg := testConfig(t.TempDir())
	cfg.Playground.AllowDemoWithRealPlatforms = true // a closed test setup: the playground next to a fake platform
	cfg.Teams = TeamsConfig{AppID: "bot-serve", AppPassword: "pw", TenantID: "tenant-1",
		OpenIDMetadataURL: fake.MetadataURL(), LoginBaseURL: fake.URL, ServiceURL: fake.ServiceURL()}
	r := startApp(t, cfg)
	post := func(tok string) int {
		act := fake.Message("bot-serve", "29:1hanmeimeiAAD", "", "/help")
		res := teamstest.Post(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			out, err := http.NewRequestWithContext(context.Background(), http.MethodPost, r.base+"/api/messages", req.Body)
			require.NoError(t, err)
			out.Header = req.Header
			resp, err := http.DefaultClient.Do(out)
			require.NoError(t, err)
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		}), act, tok)
		return res.Status
	}
	require.Equal(t, http.StatusOK, post(fake.Token("bot-serve", teamstest.Claims{})))
	require.Equal(t, http.StatusUnauthorized, post(fake.Token("bot-serve", teamstest.Claims{Audience: "other"})))

	get := func(path string) (int, string) {
		resp, err := http.Get(r.base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get("/readyz")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "teams: ok")
	_, body = get("/metrics")
	require.Contains(t, body, `flowbot_teams_activities_accepted_total{app="bot-serve"} 1`)
	require.Contains(t, body, `flowbot_teams_activities_refused_total{app="bot-serve"} 1`)
	// The bot's reply goes out through the Connector (the notifier).
	waitFor(t, 10*time.Second, "the reply to /help", func() bool {
		for _, a := range fake.Activities() {
			if strings.Contains(a.Text(), "/todo") {
				return true
			}
		}
		return false
	})
}
