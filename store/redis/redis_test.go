package redis_test

import (
	"context"
	"errors"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/botstest"
	"github.com/flowbot/flowbot/store/redis"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	b := setup(t) // one prefix for the whole run: the suites use unique keys
	t.Run("StateStore", func(t *testing.T) {
		t.Parallel()
		botstest.RunStateStore(t, func(*testing.T) bots.StateStore { return b.store })
	})
	t.Run("Deduper", func(t *testing.T) {
		t.Parallel()
		botstest.RunDeduper(t, func(*testing.T) bots.Deduper { return b.store })
	})
	t.Run("Locker", func(t *testing.T) {
		t.Parallel()
		botstest.RunLocker(t, func(*testing.T) bots.Locker { return b.store })
	})
}

func TestPrefixSeparatesStores(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	other := redis.New(b.raw, b.prefix+"other:")

	require.NoError(t, b.store.Set(ctx, "conv", []byte("mine"), time.Minute))
	_, ok, err := other.Get(ctx, "conv")
	require.NoError(t, err)
	require.False(t, ok, "a store with another prefix saw the value")

	first, err := other.FirstSeen(ctx, "evt", time.Minute)
	require.NoError(t, err)
	require.True(t, first)
	first, err = b.store.FirstSeen(ctx, "evt", time.Minute)
	require.NoError(t, err)
	require.True(t, first, "dedupe leaked across prefixes")

	// The value lives under the documented key, with the ttl asked for.
	val, err := b.raw.Get(ctx, b.prefix+"state:conv").Result()
	require.NoError(t, err)
	require.Equal(t, "mine", val)
	ttl, err := b.raw.PTTL(ctx, b.prefix+"state:conv").Result()
	require.NoError(t, err)
	require.InDelta(t, float64(time.Minute), float64(ttl), float64(5*time.Second))
}

func TestNamespacesAreSeparate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	// The same string as state key, dedupe key and lock name: three things.
	require.NoError(t, b.store.Set(ctx, "x", []byte("v"), time.Minute))
	first, err := b.store.FirstSeen(ctx, "x", time.Minute)
	require.NoError(t, err)
	require.True(t, first)
	held, err := b.store.TryLock(ctx, "x", "owner", time.Minute)
	require.NoError(t, err)
	require.True(t, held)
	got, ok, err := b.store.Get(ctx, "x")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []byte("v"), got)
}

func TestReplyErrorIsNotUnavailable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	// Someone else put a list where a state value belongs.
	require.NoError(t, b.raw.LPush(ctx, b.prefix+"state:list", "a").Err())
	_, _, err := b.store.Get(ctx, "list")
	require.Error(t, err)
	require.NotErrorIs(t, err, redis.ErrUnavailable)
	require.ErrorContains(t, err, "WRONGTYPE")
	require.ErrorContains(t, err, `get state "list"`)
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := b.store.Set(ctx, "k", []byte("v"), time.Minute)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, redis.ErrUnavailable)
	_, ok, err := b.store.Get(t.Context(), "k")
	require.NoError(t, err)
	require.False(t, ok, "a cancelled Set wrote the value")
}

func TestConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     redis.Config
		wantErr string
	}{
		{"no addrs", redis.Config{}, "addrs"},
		{"addr without port", redis.Config{Addrs: []string{"localhost"}}, "addrs[0]"},
		{"second addr bad", redis.Config{Addrs: []string{"a:1", "b"}}, "addrs[1]"},
		{"negative db", redis.Config{Addrs: []string{"a:1"}, DB: -1}, "db"},
		{"db on cluster", redis.Config{Addrs: []string{"a:1", "b:2"}, DB: 2}, "Cluster"},
		{"blank master", redis.Config{Addrs: []string{"a:1"}, MasterName: "  "}, "master_name"},
		{"negative timeout", redis.Config{Addrs: []string{"a:1"}, ReadTimeout: -time.Second}, "read_timeout"},
		{"standalone", redis.Config{Addrs: []string{"a:1"}, DB: 3}, ""},
		{"sentinel with db", redis.Config{Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "mymaster", DB: 1}, ""},
		{"cluster", redis.Config{Addrs: []string{"a:1", "b:2", "c:3"}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := redis.Open(tc.cfg)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Nil(t, s)
				return
			}
			require.NoError(t, err)
			require.NoError(t, s.Close())
		})
	}
}

func TestConfigOptions(t *testing.T) {
	t.Parallel()
	o, err := redis.Config{Addrs: []string{"redis.internal:6380"}, TLS: true, Username: "bot", Password: "pw", DB: 2}.Options()
	require.NoError(t, err)
	require.NotNil(t, o.TLSConfig)
	require.Equal(t, "redis.internal", o.TLSConfig.ServerName)
	require.Equal(t, "bot", o.Username)
	require.Equal(t, 2, o.DB)
	require.Equal(t, redis.DefaultDialTimeout, o.DialTimeout)
	require.Equal(t, redis.DefaultReadTimeout, o.ReadTimeout)

	o, err = redis.Config{Addrs: []string{"a:1"}, TLS: true, TLSServerName: "cache.example.com", DialTimeout: time.Second}.Options()
	require.NoError(t, err)
	require.Equal(t, "cache.example.com", o.TLSConfig.ServerName)
	require.Equal(t, time.Second, o.DialTimeout)

	o, err = redis.Config{Addrs: []string{"a:1"}}.Options()
	require.NoError(t, err)
	require.Nil(t, o.TLSConfig, "TLS off by default")
}

func TestServerNeverUp(t *testing.T) {
	t.Parallel()
	s, err := redis.Open(redis.Config{Addrs: []string{"127.0.0.1:" + strconv.Itoa(freePort(t))}})
	require.NoError(t, err, "Open must not need the server")
	t.Cleanup(func() { _ = s.Close() })
	start := time.Now()
	err = s.Ping(t.Context())
	require.ErrorIs(t, err, redis.ErrUnavailable)
	require.Less(t, time.Since(start), 2*time.Second, "Ping on a closed port must fail fast")
}

// TestOutageAndRecovery kills the server under a live Store: every call
// fails fast with ErrUnavailable, and the same Store works again once the
// server is back on the same port.
func TestOutageAndRecovery(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	srv := startRedis(t, port)
	s, err := redis.Open(redis.Config{Addrs: []string{srv.addr()}, Prefix: "outage:"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	ctx := t.Context()
	require.NoError(t, s.Ping(ctx))
	require.NoError(t, s.Set(ctx, "k", []byte("v"), time.Minute))
	held, err := s.TryLock(ctx, "job", "a", time.Minute)
	require.NoError(t, err)
	require.True(t, held)

	// A hung server (stopped process, connections open): calls time out
	// instead of hanging, and work again when it resumes.
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGSTOP))
	start := time.Now()
	err = s.Set(ctx, "k", []byte("hung"), time.Minute)
	require.ErrorIs(t, err, redis.ErrUnavailable)
	require.Less(t, time.Since(start), 3*time.Second, "Set against a hung server must time out fast")
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGCONT))
	end := time.Now().Add(10 * time.Second)
	for s.Ping(ctx) != nil {
		require.True(t, time.Now().Before(end), "store did not recover from the hang within 10s")
		waitFor(t, 50*time.Millisecond)
	}

	srv.stop()

	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Get", func() error { _, _, err := s.Get(ctx, "k"); return err }},
		{"Set", func() error { return s.Set(ctx, "k", []byte("w"), time.Minute) }},
		{"Delete", func() error { return s.Delete(ctx, "k") }},
		{"FirstSeen", func() error { _, err := s.FirstSeen(ctx, "e", time.Minute); return err }},
		{"TryLock", func() error { _, err := s.TryLock(ctx, "job", "a", time.Minute); return err }},
		{"Unlock", func() error { return s.Unlock(ctx, "job", "a") }},
	}
	for _, c := range calls {
		start := time.Now()
		err := c.call()
		took := time.Since(start)
		require.ErrorIsf(t, err, redis.ErrUnavailable, "%s while down", c.name)
		require.Lessf(t, took, 2*time.Second, "%s took %s while down, want a fast failure", c.name, took)
	}

	startRedis(t, port) // same port, empty data (no persistence)
	end = time.Now().Add(10 * time.Second)
	for s.Ping(ctx) != nil {
		require.True(t, time.Now().Before(end), "store did not reconnect within 10s")
		waitFor(t, 50*time.Millisecond)
	}
	require.NoError(t, s.Set(ctx, "k", []byte("back"), time.Minute))
	got, ok, err := s.Get(ctx, "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []byte("back"), got)
	first, err := s.FirstSeen(ctx, "e", time.Minute)
	require.NoError(t, err)
	require.True(t, first)
	held, err = s.TryLock(ctx, "job", "b", time.Minute)
	require.NoError(t, err)
	require.True(t, held, "the restarted server has no lease, so b takes it")
	require.NoError(t, s.Unlock(ctx, "job", "b"))
}

func TestBadInputErrorsClearly(t *testing.T) {
	t.Parallel()
	// Bad input is refused before any I/O: even a Store without a client
	// gives the input error, not ErrUnavailable (and does not panic).
	s := redis.New(nil, "p:")
	ctx := t.Context()
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"get empty key", func() error { _, _, err := s.Get(ctx, ""); return err }, "empty key"},
		{"set zero ttl", func() error { return s.Set(ctx, "k", nil, 0) }, "ttl must be positive"},
		{"dedupe negative ttl", func() error { _, err := s.FirstSeen(ctx, "k", -1); return err }, "ttl must be positive"},
		{"lock empty owner", func() error { _, err := s.TryLock(ctx, "n", "", time.Second); return err }, "empty owner"},
		{"unlock empty name", func() error { return s.Unlock(ctx, "", "a") }, "empty name"},
	}
	for _, tc := range cases {
		err := tc.call()
		require.ErrorContainsf(t, err, tc.want, tc.name)
		require.Falsef(t, errors.Is(err, redis.ErrUnavailable), "%s: bad input reported as unavailable", tc.name)
	}
}
