package webhooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGuardRefusesPrivateTargets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	tests := []struct {
		name string
		url  string
	}{
		{"loopback v4", srv.URL},
		{"loopback v6", "http://[::1]:" + port},
		{"hostname resolving to loopback", "http://localhost:" + port},
		{"rfc1918 10/8", "http://10.1.2.3:8080/hook"},
		{"rfc1918 192.168/16", "http://192.168.0.10/hook"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/"},
		{"unspecified", "http://0.0.0.0:" + port},
		{"v4-mapped v6 loopback", "http://[::ffff:127.0.0.1]:" + port},
		{"ula", "http://[fd00::1]:80"},
		{"multicast", "http://224.0.0.1:80"},
	}
	c := NewClient(ClientConfig{Timeout: 2 * time.Second})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Post(tt.url, "application/json", strings.NewReader("{}"))
			if resp != nil {
				resp.Body.Close()
			}
			require.ErrorIs(t, err, ErrPrivateAddress)
		})
	}

	t.Run("allowed when allow_private", func(t *testing.T) {
		resp, err := NewClient(ClientConfig{AllowPrivate: true}).Post(srv.URL, "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	})
}

func TestGuardRefusesRedirectToPrivate(t *testing.T) {
	t.Parallel()
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect target was reached")
	}))
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/internal", http.StatusTemporaryRedirect)
	}))
	defer outer.Close()
	u, err := url.Parse(outer.URL)
	require.NoError(t, err)
	public := netip.MustParseAddrPort(u.Host)
	// Treat the outer server as a public address; everything else goes
	// through the real guard.
	c := NewClient(ClientConfig{allow: func(ap netip.AddrPort) bool { return ap == public || !Private(ap.Addr()) }})
	resp, err := c.Post(outer.URL, "application/json", strings.NewReader("{}"))
	if resp != nil {
		resp.Body.Close()
	}
	require.ErrorIs(t, err, ErrPrivateAddress)
}

func TestPrivateRanges(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "fc00::1": true, "0.0.0.0": true, "::": true,
		"224.0.0.251": true, "ff02::1": true, "100.64.0.1": true, "::ffff:10.0.0.1": true,
		"8.8.8.8": false, "1.1.1.1": false, "2606:4700:4700::1111": false, "93.184.216.34": false,
	} {
		require.Equal(t, want, Private(netip.MustParseAddr(addr)), addr)
	}
}

func TestResponseExcerptCapped(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(strings.Repeat("界", 100000)))
	}))
	defer srv.Close()
	d := &Dispatcher{cfg: Config{Client: NewClient(ClientConfig{AllowPrivate: true}), ResponseCap: 100}}
	code, excerpt := d.post(context.Background(), &Subscription{URL: srv.URL, Secret: "x"}, &Delivery{ID: 1}, []byte("{}"), time.Now())
	require.Equal(t, http.StatusTeapot, code)
	require.LessOrEqual(t, len(excerpt), 100)
	require.Equal(t, strings.Repeat("界", 33), excerpt, "cut on a rune boundary")
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	t.Parallel()
	d := &Dispatcher{cfg: Config{MinBackoff: time.Second, MaxBackoff: time.Minute}}
	for n, base := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 20: time.Minute} {
		for range 50 {
			w := d.backoff(n)
			require.GreaterOrEqual(t, w, base/2, "attempt %d", n)
			require.LessOrEqual(t, w, base, "attempt %d", n)
		}
	}
}
