package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress: a webhook target resolved to an address the guard
// refuses (loopback, link-local, private, unspecified, multicast...).
var ErrPrivateAddress = errors.New("webhook target is a private, loopback, link-local or multicast address")

// refused lists ranges that the Is* methods of netip.Addr do not cover but
// that are no place for a webhook either.
var refused = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: may embed a private v4
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4: may embed a private v4
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("::ffff:0:0/96"),  // v4-mapped, after Unmap never reached
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments (Teredo...)
	netip.MustParsePrefix("192.88.99.0/24"), // 6to4 relay anycast
	netip.MustParsePrefix("169.254.0.0/16"), // link-local (also IsLinkLocalUnicast)
	netip.MustParsePrefix("255.255.255.255/32"),
}

// Private reports whether a is an address the guard refuses.
func Private(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return true
	}
	for _, p := range refused {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientConfig sets up the HTTP client of the dispatcher.
type ClientConfig struct {
	// AllowPrivate lets targets resolve to private addresses (the
	// webhooks.allow_private config key). Off by default.
	AllowPrivate bool
	// Timeout bounds one attempt, response included (default 10s).
	Timeout time.Duration
	// allow, when set, replaces the guard's check (tests).
	allow func(netip.AddrPort) bool
}

// maxRedirects is how many redirects an attempt follows; each target is
// checked again by the guard when it is dialled.
const maxRedirects = 3

// NewClient returns an HTTP client whose every connection, including those
// of redirects, is checked at dial time, on the address actually dialled
// (so DNS rebinding cannot slip a private address past it). It uses no
// proxy from the environment, since a proxy would dial for it.
func NewClient(cfg ClientConfig) *http.Client {
	allow := cfg.allow
	if allow == nil {
		allow = func(ap netip.AddrPort) bool { return cfg.AllowPrivate || !Private(ap.Addr()) }
	}
	d := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook dial %s: %w", address, err)
			}
			if !allow(ap) {
				return fmt.Errorf("dial %s: %w", address, ErrPrivateAddress)
			}
			return nil
		},
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("webhook: stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
}
