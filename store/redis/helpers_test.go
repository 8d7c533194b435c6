package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/flowbot/flowbot/internal/testkit"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/store/redis"
)

// testAddr is the shared test server; FLOWBOT_TEST_REDIS overrides it.
func testAddr() string {
	if a := os.Getenv("FLOWBOT_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// unavailable skips the test loudly, or fails it under CI=true.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	testkit.Unavailable(tb, format, args...)
}

// testBundle is one test's view of the shared Redis: a raw client and a
// Store whose keys start with a prefix no other test uses.
type testBundle struct {
	raw    *goredis.Client
	store  *redis.Store
	prefix string
}

// setup connects to the test Redis with a fresh key prefix and deletes the
// prefix's keys when the test ends.
func setup(tb testing.TB) *testBundle {
	tb.Helper()
	raw := goredis.NewClient(&goredis.Options{Addr: testAddr(), DialTimeout: time.Second, MaxRetries: -1})
	tb.Cleanup(func() { _ = raw.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := raw.Ping(ctx).Err(); err != nil {
		unavailable(tb, "redis at %s not reachable: %v", testAddr(), err)
	}
	prefix := "flowbot_test:" + randomHex(tb) + ":"
	tb.Cleanup(func() { deletePrefix(tb, raw, prefix) })
	s, err := redis.Open(redis.Config{Addrs: []string{testAddr()}, Prefix: prefix})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	return &testBundle{raw: raw, store: s, prefix: prefix}
}

func deletePrefix(tb testing.TB, raw *goredis.Client, prefix string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := raw.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			require.NoError(tb, raw.Del(ctx, keys...).Err())
			keys = keys[:0]
		}
	}
	require.NoError(tb, iter.Err())
	if len(keys) > 0 {
		require.NoError(tb, raw.Del(ctx, keys...).Err())
	}
}

func randomHex(tb testing.TB) string {
	tb.Helper()
	var b [8]byte
	_, err := rand.Read(b[:])
	require.NoError(tb, err)
	return hex.EncodeToString(b[:])
}

// freePort returns a TCP port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// redisServer is a redis-server process this test started.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

// startRedis starts redis-server on port (no persistence) and waits until
// it answers; it is killed in Cleanup.
func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server not on PATH: %v", err)
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir())
	require.NoError(t, cmd.Start())
	srv := &redisServer{t: t, port: port, cmd: cmd}
	t.Cleanup(srv.stop)
	raw := goredis.NewClient(&goredis.Options{Addr: srv.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer raw.Close()
	end := time.Now().Add(10 * time.Second)
	for raw.Ping(t.Context()).Err() != nil {
		require.Truef(t, time.Now().Before(end), "redis-server on port %d did not answer within 10s", port)
		waitFor(t, 20*time.Millisecond)
	}
	return srv
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// stop kills the server and waits for it to exit (idempotent).
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// waitFor blocks for d or until the test ends.
func waitFor(t *testing.T, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.Context().Done():
	}
}
