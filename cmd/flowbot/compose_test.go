package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestComposeConfigIsValid renders compose.yaml as docker compose reads it
// (no Docker needed): every flowbot replica mounts a config that the same
// validator as serve accepts, points at the compose file's PostgreSQL and
// Redis, and the proxy sends to each replica.
func TestComposeConfigIsValid(t *testing.T) { // not parallel: t.Setenv
	raw, err := os.ReadFile("../../compose.yaml")
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       string            `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose))
	caddy, err := os.ReadFile("../../deploy/Caddyfile")
	require.NoError(t, err)
	replicas := 0
	for name, svc := range compose.Services {
		if svc.Build == "" {
			continue
		}
		replicas++
		require.Contains(t, string(caddy), name+":8080", "the proxy sends to %s", name)
		require.Equal(t, "serve", svc.Command[0])
		var cfgPath, hostPath string
		for i, a := range svc.Command {
			if a == "--config" {
				cfgPath = svc.Command[i+1]
			}
		}
		for _, v := range svc.Volumes {
			host, inside, _ := strings.Cut(strings.TrimSuffix(v, ":ro"), ":")
			if inside == cfgPath {
				hostPath = host
			}
		}
		require.NotEmpty(t, hostPath, "%s mounts its config %s", name, cfgPath)
		f, err := os.Open(filepath.Join("../..", hostPath))
		require.NoError(t, err)
		for k, v := range svc.Environment {
			t.Setenv(k, v)
		}
		cfg, err := ParseConfig(f, true)
		f.Close()
		require.NoError(t, err, "%s's config", name)
		require.NoError(t, cfg.Validate(), "%s's config", name)
		require.Equal(t, "postgres", cfg.Database.Driver)
		require.Contains(t, cfg.Database.Postgres, "@postgres:5432/")
		require.True(t, cfg.Redis.Enabled)
		require.Equal(t, []string{"redis:6379"}, cfg.Redis.Addrs)
		require.NotEmpty(t, svc.Environment["PGPASSWORD"], "the password comes from the environment")
		_, hasPG := compose.Services["postgres"]
		_, hasRedis := compose.Services["redis"]
		require.True(t, hasPG && hasRedis)
	}
	require.GreaterOrEqual(t, replicas, 2, "several replicas")
}
