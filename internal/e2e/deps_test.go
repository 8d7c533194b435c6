package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/examples"
)

const (
	pgAdminURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	redisAddr  = "127.0.0.1:6379"
)

// freshPostgres creates an empty database for t and returns its URL and a
// pool on it; the database is dropped in Cleanup.
func freshPostgres(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := pgxpool.New(ctx, pgAdminURL)
	if err == nil {
		err = admin.Ping(ctx)
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		unavailable(t, "PostgreSQL at "+pgAdminURL, err)
	}
	name := "flowbot_e2e_" + randomHex(6)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err, "create database %s", name)
	u, err := url.Parse(pgAdminURL)
	require.NoError(t, err)
	u.Path = "/" + name
	pool, err := pgxpool.New(ctx, u.String())
	// The replicas run with pgx's default pool (max(4, CPUs) connections):
	// an operation reads on its own transaction and never needs a second
	// connection, so a small pool cannot deadlock under concurrent load.
	require.NoError(t, err)
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	return u.String(), pool
}

// redisPrefix checks the shared Redis and returns a fresh key prefix whose
// keys are deleted in Cleanup.
func redisPrefix(t testing.TB) string {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: redisAddr, DialTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		unavailable(t, "Redis at "+redisAddr, err)
	}
	prefix := "flowbot-e2e-" + randomHex(6) + ":"
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		it := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for it.Next(ctx) {
			c.Del(ctx, it.Val())
		}
	})
	return prefix
}

// count runs a count(*) query.
func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	require.NoError(t, pool.QueryRow(ctx, sql, args...).Scan(&n), "query %s", sql)
	return n
}

// waitOutboxDrained waits until no outbox message is pending, card
// updates aside (see requireCardUpdatesDrained).
func waitOutboxDrained(t testing.TB, pool *pgxpool.Pool, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "outbox drained", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var n, attempts int
		var kind, lastErr string
		var next time.Time
		_ = pool.QueryRow(ctx, `SELECT count(*), coalesce(max(kind), ''), coalesce(max(attempts), 0), coalesce(max(last_error), ''), coalesce(min(next_at), now())
			FROM outbox WHERE status = 'pending' AND kind <> 'card_update'`).Scan(&n, &kind, &attempts, &lastErr, &next)
		return n == 0, fmt.Sprintf("%d pending, e.g. kind %q, up to %d attempts, error %q, the first due in %s",
			n, kind, attempts, lastErr, time.Until(next).Round(time.Second))
	})
}

// requireCardUpdatesDrained waits for the card updates. Each replica's
// playground keeps its chat in process memory, but the notifier files the
// playground's message refs in the shared database: a card update claimed
// by the other replica fails with "web: unknown message" and is retried
// for ever (reported to the lead). Checked last, so that the other checks
// still run.
func requireCardUpdatesDrained(t testing.TB, pool *pgxpool.Pool, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "card updates delivered", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var n int
		var lastErr string
		_ = pool.QueryRow(ctx, `SELECT count(*), coalesce(max(last_error), '') FROM outbox
			WHERE kind = 'card_update' AND status = 'pending'`).Scan(&n, &lastErr)
		return n == 0, fmt.Sprintf("%d card updates pending, e.g. error %q", n, lastErr)
	})
}

// feishuApp is the app both replicas use against the fake.
const (
	feishuAppID  = "cli_e2e"
	feishuSecret = "e2e-secret"
	feishuToken  = "e2e-verification-token"
	feishuKey    = "e2e-encrypt-key"
)

// feishuFake is feishutest's server behind a counting proxy: the proxy sees
// every message create call (retries included) before the fake
// de-duplicates it by uuid, as Feishu does, and keeps what it shows.
type feishuFake struct {
	*feishutest.Server
	URL     string // what the replicas use as base_url
	creates createLog
}

// createLog records the message create calls per uuid.
type createLog struct {
	mu     sync.Mutex
	calls  map[string]int             // uuid -> create calls
	toWhom map[string]map[string]bool // uuid -> receive ids
}

func (c *createLog) add(uuid, receiveID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls, c.toWhom = map[string]int{}, map[string]map[string]bool{}
	}
	c.calls[uuid]++
	if c.toWhom[uuid] == nil {
		c.toWhom[uuid] = map[string]bool{}
	}
	c.toWhom[uuid][receiveID] = true
}

// snapshot returns the create calls and the number of recipients per uuid.
func (c *createLog) snapshot() (calls, recipients map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls, recipients = maps.Clone(c.calls), map[string]int{}
	for u, to := range c.toWhom {
		recipients[u] = len(to)
	}
	return calls, recipients
}

func newFeishuFake(t testing.TB) *feishuFake {
	t.Helper()
	f := &feishuFake{Server: feishutest.NewServer()}
	t.Cleanup(f.Server.Close)
	f.AddApp(feishutest.App{ID: feishuAppID, Secret: feishuSecret, EncryptKey: feishuKey, VerificationToken: feishuToken})
	target, err := url.Parse(f.Server.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/open-apis/im/v1/messages" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var m struct {
				UUID      string `json:"uuid"`
				ReceiveID string `json:"receive_id"`
			}
			_ = json.Unmarshal(body, &m)
			f.creates.add(m.UUID, m.ReceiveID)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// config is the feishu section pointing at the fake.
func (f *feishuFake) config() map[string]any {
	return map[string]any{"apps": []map[string]any{{
		"app_id": feishuAppID, "app_secret": feishuSecret, "encrypt_key": feishuKey,
		"verification_token": feishuToken, "mode": "http", "base_url": f.URL,
	}}}
}

// outboxUUID is the Feishu uuid the notifier's send of outbox message id
// carries: the adapter hashes the notifier's key "outbox-<id>-feishu"
// (adapters/feishu uuidFor).
func outboxUUID(id int64) string {
	sum := sha256.Sum256([]byte("outbox-" + strconv.FormatInt(id, 10) + "-feishu"))
	return hex.EncodeToString(sum[:16])
}

// replyUUID is the Feishu uuid of a reply sent into a chat.
func replyUUID(id int64) string {
	sum := sha256.Sum256([]byte("outbox-" + strconv.FormatInt(id, 10)))
	return hex.EncodeToString(sum[:16])
}

// flowDir writes a one-step expense flow with a short reminder: a request
// left undecided for remindAfter gets exactly one reminder.
func flowDir(t testing.TB, remindAfter string) string {
	t.Helper()
	dir := t.TempDir()
	src := `id: expense
name: {zh: 报销, en: Expense claim}
aliases: [expense, 报销]
number_prefix: EXP
deadline:
  remind_after: ` + remindAfter + `
fields:
  - id: amount
    type: money
    label: {zh: 金额, en: Amount}
    currency: CNY
    required: true
    min: 0.01
  - id: category
    type: select
    label: {zh: 费用类别, en: Category}
    required: true
    options:
      - {value: travel, label: {zh: 差旅, en: Travel}}
      - {value: office, label: {zh: 办公用品, en: Office supplies}}
  - id: description
    type: textarea
    label: {zh: 说明, en: Description}
    required: true
    max: 500
steps:
  - id: manager
    name: {zh: 直属上级审批, en: Manager approval}
    approvers:
      - manager: 1
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "expense.yaml"), []byte(src), 0o600))
	return dir
}

// replicaConfig is the config of one replica of a shared deployment.
func replicaConfig(pgURL, prefix, flows, org string, feishu map[string]any) map[string]any {
	cfg := map[string]any{
		"database":   map[string]any{"driver": "postgres", "postgres": pgURL},
		"redis":      map[string]any{"enabled": true, "addrs": []string{redisAddr}, "prefix": prefix},
		"flows":      map[string]any{"dir": flows},
		"directory":  map[string]any{"file": org},
		"scheduler":  map[string]any{"tick": "@every 1s"},
		"notifier":   map[string]any{"lease": "5s", "poll": "200ms"},
		"playground": map[string]any{"enabled": true, "demo": true, "allow_demo_with_real_platforms": true},
	}
	if feishu != nil {
		cfg["feishu"] = feishu
	}
	return cfg
}

// feishuOnlyOrg writes the example company with Feishu open_ids only (no
// web, WeCom...), so that the notifier delivers every message through the
// Feishu fake, where sends can be counted across processes. The
// playground still acts as any directory user (it speaks directory ids).
func feishuOnlyOrg(t testing.TB) string {
	t.Helper()
	src, err := examples.FS.ReadFile("org.yaml")
	require.NoError(t, err)
	var org struct {
		Departments []map[string]any `yaml:"departments"`
		Users       []map[string]any `yaml:"users"`
	}
	require.NoError(t, yaml.Unmarshal(src, &org))
	for _, u := range org.Users {
		p, _ := u["platforms"].(map[string]any)
		require.NotEmpty(t, p["feishu"], "user %v of the example company has no feishu open_id", u["id"])
		u["platforms"] = map[string]any{"feishu": p["feishu"]}
	}
	out, err := yaml.Marshal(org)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "org.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	return path
}
