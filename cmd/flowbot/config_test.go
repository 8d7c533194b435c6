package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func parseConfigString(t *testing.T, src string) (Config, error) {
	t.Helper()
	return ParseConfig(strings.NewReader(src), true)
}

// The example documents every key with its default, and its secrets come
// from the environment.
func TestConfigExampleIsTheDefaults(t *testing.T) {
	t.Setenv("FLOWBOT_REDIS_PASSWORD", "s3cret-from-env")
	f, err := os.Open(filepath.Join(moduleRoot(t), "config.example.yaml"))
	require.NoError(t, err)
	defer f.Close()
	cfg, err := ParseConfig(f, true)
	require.NoError(t, err)

	want := DefaultConfig()
	want.Redis.Password = "s3cret-from-env"
	if len(cfg.Feishu.Apps) == 0 {
		cfg.Feishu.Apps = nil // `apps: []` is "no apps", like the default
	}
	require.Equal(t, want, cfg, "config.example.yaml and DefaultConfig disagree")
}

func TestConfigExampleWithoutEnvironment(t *testing.T) {
	t.Setenv("FLOWBOT_REDIS_PASSWORD", "")
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "config.example.yaml"))
	require.NoError(t, err)
	cfg, err := parseConfigString(t, string(b))
	require.NoError(t, err)
	require.Empty(t, cfg.Redis.Password, "an unset variable expands to nothing")

	// Without expansion the reference stays as written.
	cfg, err = ParseConfig(strings.NewReader(string(b)), false)
	require.NoError(t, err)
	require.Equal(t, "${FLOWBOT_REDIS_PASSWORD}", cfg.Redis.Password)
}

func TestConfigExpandsEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FLOWBOT_TEST_DB", filepath.Join(dir, "x.db"))
	t.Setenv("FLOWBOT_TEST_SECRET", "topsecret")
	t.Setenv("FLOWBOT_TEST_PORT", "9123")
	cfg, err := parseConfigString(t, `
http: {addr: "127.0.0.1:${FLOWBOT_TEST_PORT}"}
database: {driver: sqlite, sqlite: $FLOWBOT_TEST_DB}
feishu:
  apps:
    - {app_id: cli_1, app_secret: "${FLOWBOT_TEST_SECRET}", verification_token: tok}
`)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9123", cfg.HTTP.Addr)
	require.Equal(t, filepath.Join(dir, "x.db"), cfg.Database.SQLite)
	require.Equal(t, "topsecret", cfg.Feishu.Apps[0].AppSecret)
	// What the file does not set keeps its default.
	require.Equal(t, DefaultConfig().Notifier, cfg.Notifier)
}

// A secret from the environment is used as it is, whatever characters it
// holds: it is a value, not YAML.
func TestConfigEnvironmentValueIsNotYAML(t *testing.T) {
	for _, secret := range []string{"abc #def", "{x", "*star", "a: b", "'quoted"} {
		t.Setenv("FLOWBOT_TEST_SECRET", secret)
		cfg, err := parseConfigString(t, "redis: {password: ${FLOWBOT_TEST_SECRET}}\n")
		require.NoError(t, err, "secret %q", secret)
		require.Equal(t, secret, cfg.Redis.Password)
	}
}

func TestConfigRefusesUnknownKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, key string
	}{
		{"top level", "htp:\n  addr: 127.0.0.1:1\n", "htp"},
		{"nested", "http:\n  adress: 127.0.0.1:1\n", "adress"},
		{"in a list", "feishu:\n  apps:\n    - {app_id: a, app_secret: b, verification_token: c, secret_key: d}\n", "secret_key"},
		{"misspelt section", "databse: {driver: sqlite}\n", "databse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfigString(t, tc.src)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.key, "the error names the unknown key")
		})
	}
}

func TestConfigRefusesBadYAML(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"http: [", "http: {addr: 1}\n  bad indent: x", "http:\n  shutdown_timeout: soon\n", "notifier: {workers: many}\n", "- a list\n"} {
		_, err := parseConfigString(t, src)
		require.Error(t, err, "%q", src)
		require.Contains(t, err.Error(), "parse config")
	}
}

func TestConfigEmptyFileIsTheDefaults(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "# nothing\n", "---\n"} {
		cfg, err := parseConfigString(t, src)
		require.NoError(t, err, "%q", src)
		require.Equal(t, DefaultConfig(), cfg)
	}
}

func TestConfigValidateNamesTheBadField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		src   string
		field string
	}{
		{"log level", "log: {level: loud}", "log.level"},
		{"log format", "log: {format: xml}", "log.format"},
		{"empty address", `http: {addr: ""}`, "http.addr"},
		{"database driver", "database: {driver: oracle}", "database.driver"},
		{"sqlite path", `database: {driver: sqlite, sqlite: ""}`, "database.sqlite"},
		{"postgres url", "database: {driver: postgres}", "database.postgres"},
		{"redis without address", "redis: {enabled: true, addrs: []}", "redis.addrs"},
		{"feishu app id", "feishu: {apps: [{app_secret: s, verification_token: t}]}", "feishu.apps[0].app_id"},
		{"feishu secret", "feishu: {apps: [{app_id: a, verification_token: t}]}", "feishu.apps[0].app_secret"},
		{"feishu unverifiable", "feishu: {apps: [{app_id: a, app_secret: s}]}", "feishu.apps[0].encrypt_key"},
		{"feishu mode", "feishu: {apps: [{app_id: a, app_secret: s, mode: pigeon}]}", "feishu.apps[0].mode"},
		{"second feishu app", "feishu: {apps: [{app_id: a, app_secret: s, mode: websocket}, {app_id: b, mode: websocket}]}", "feishu.apps[1].app_secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfigString(t, tc.src)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.field+":")
		})
	}

	t.Run("every mistake at once", func(t *testing.T) {
		t.Parallel()
		_, err := parseConfigString(t, "log: {level: loud, format: xml}\ndatabase: {driver: oracle}\n")
		require.Error(t, err)
		for _, f := range []string{"log.level", "log.format", "database.driver"} {
			require.Contains(t, err.Error(), f)
		}
	})

	t.Run("good values pass", func(t *testing.T) {
		t.Parallel()
		cfg, err := parseConfigString(t, `
log: {level: debug, format: json}
http: {addr: ":9000", shutdown_timeout: 3s}
database: {driver: postgres, postgres: "postgres://u@h/db"}
redis: {enabled: true, addrs: [a:1, b:2]}
feishu: {apps: [{app_id: a, app_secret: s, mode: websocket}]}
`)
		require.NoError(t, err)
		require.Equal(t, 3*time.Second, cfg.HTTP.ShutdownTimeout)
		require.Equal(t, []string{"a:1", "b:2"}, cfg.Redis.Addrs)
	})
}

// FuzzParseConfig: any input gives a config or an error, never a panic, and
// an accepted config is valid.
func FuzzParseConfig(f *testing.F) {
	f.Add("log: {level: debug}\n")
	f.Add("http: {addr: ${HOME}}\n")
	f.Add("feishu: {apps: [{app_id: a, app_secret: s, mode: websocket}]}\n")
	f.Add("database: {driver: postgres}\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := ParseConfig(strings.NewReader(src), true)
		if err == nil {
			require.NoError(t, cfg.Validate())
		}
	})
}

// Values that would only fail at run time (a bad cron spec stops serve
// after it printed "running"; a negative worker count delivers nothing)
// must be refused by Validate, naming the field.
func TestConfigValidateRefusesRunTimeMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, field string }{
		{`scheduler: {tick: "every now and then"}`, "scheduler.tick"},
		{`scheduler: {digest: "9 o'clock"}`, "scheduler.digest"},
		{`scheduler: {report: "0 9 32 * *"}`, "scheduler.report"},
		{"notifier: {workers: -1}", "notifier.workers"},
		{"notifier: {batch: -5}", "notifier.batch"},
		{"notifier: {lease: -1m}", "notifier.lease"},
		{"notifier: {poll: -1s}", "notifier.poll"},
		{"http: {shutdown_timeout: -15s}", "http.shutdown_timeout"},
		{"bot: {conversation_ttl: -30m}", "bot.conversation_ttl"},
	}
	for _, tc := range tests {
		_, err := parseConfigString(t, tc.src)
		require.Error(t, err, "%s", tc.src)
		require.Contains(t, err.Error(), tc.field+":")
	}
}
