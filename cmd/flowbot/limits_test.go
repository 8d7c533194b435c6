package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// feishuApp configures one http-mode app of fake in cfg and returns its id;
// the fake learns the webhook with hookFeishu once the app listens.
func feishuApp(cfg *Config, fake *feishutest.Server) string {
	cfg.Feishu.Apps = append(cfg.Feishu.Apps, FeishuApp{
		AppID: "cli_hardening", AppSecret: "secret", EncryptKey: "encrypt-key", VerificationToken: "vtoken",
		Mode: "http", BaseURL: fake.URL,
	})
	hookFeishu(fake, "cli_hardening", "")
	return "cli_hardening"
}

func hookFeishu(fake *feishutest.Server, appID, base string) {
	hook := ""
	if base != "" {
		hook = base + "/webhook/feishu"
	}
	fake.AddApp(feishutest.App{ID: appID, Secret: "secret", EncryptKey: "encrypt-key", VerificationToken: "vtoken", Webhook: hook})
}

// slowConn opens a connection that declares a 60,000-byte body on path and
// sends only its first byte.
func slowConn(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: flowbot\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{", path)
	require.NoError(t, err)
	return c
}

// TestServeSlowClients holds 300 connections that trickle their bodies on
// the webhook and the playground's API: /healthz and a signed Feishu
// webhook still answer within a second, and every slow sender is cut off
// once its body is late.
func TestServeSlowClients(t *testing.T) {
	t.Parallel()
	fake := feishutest.NewServer()
	t.Cleanup(fake.Close)
	cfg := testConfig(t.TempDir())
	cfg.HTTP.ReadTimeout = 2 * time.Second
	cfg.Playground.AllowDemoWithRealPlatforms = true // the playground's API is one of the slow targets
	app := feishuApp(&cfg, fake)
	r := startApp(t, cfg)
	hookFeishu(fake, app, r.base)
	addr := strings.TrimPrefix(r.base, "http://")

	paths := []string{"/webhook/feishu", "/ui/api/send", "/ui/api/action"}
	var conns []net.Conn
	for i := range 300 {
		conns = append(conns, slowConn(t, addr, paths[i%len(paths)]))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // one more byte on every connection every 500ms
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, c := range conns {
					_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
					_, _ = c.Write([]byte(" "))
				}
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	start := time.Now()
	code, _, body := getBody(t, r.base+"/healthz")
	require.Equal(t, http.StatusOK, code, body)
	require.Less(t, time.Since(start), time.Second, "/healthz took too long")

	start = time.Now()
	res, err := fake.TryDeliver(feishutest.Delivery{App: app, OpenID: "ou_stranger", ChatID: feishutest.P2PChatID("ou_stranger"), Text: "/help"})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
	require.Less(t, time.Since(start), time.Second, "the signed webhook took too long")

	// Every slow sender is answered (408) or dropped soon after its
	// body is late, not held forever.
	deadline := time.Now().Add(cfg.HTTP.ReadTimeout + 5*time.Second)
	for i, c := range conns {
		require.NoError(t, c.SetReadDeadline(deadline))
		_, err := io.Copy(io.Discard, c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("slow connection %d (%s) still open %s after its body was due", i, paths[i%len(paths)], cfg.HTTP.ReadTimeout+5*time.Second)
		}
	}
}

// TestGuardCapsRequestsInFlight: past a route group's cap the answer is 503
// with Retry-After; other groups and ungrouped paths still run.
func TestGuardCapsRequestsInFlight(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			entered <- struct{}{}
			<-release
		}
		w.Write([]byte("ok"))
	})
	cfg := DefaultConfig().HTTP
	cfg.MaxInFlight = MaxInFlightConfig{Webhooks: 2, UI: 1, API: 1}
	srv := httptest.NewServer(guard(h, cfg))
	t.Cleanup(srv.Close)
	defer close(release)

	for range 2 {
		go http.Post(srv.URL+"/webhook/feishu", "application/json", strings.NewReader("{}"))
		<-entered
	}
	resp, err := http.Post(srv.URL+"/webhook/feishu", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))

	go http.Post(srv.URL+"/ui/api/send", "application/json", strings.NewReader("{}"))
	<-entered // the ui group has its own place
	resp, err = http.Get(srv.URL + "/ui/api/history")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	resp, err = http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "/healthz is in no group")
}

// TestServeCapsConnections: past http.max_conns a new connection is
// answered 503 with Retry-After at once, not left waiting.
func TestServeCapsConnections(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	cfg.HTTP.MaxConns = 5
	r := startApp(t, cfg)
	addr := strings.TrimPrefix(r.base, "http://")
	for range 5 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		_, err = fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: flowbot\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err) // kept alive: it holds its place
		resp.Body.Close()
	}
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: flowbot\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	require.Less(t, time.Since(start), time.Second)
}
