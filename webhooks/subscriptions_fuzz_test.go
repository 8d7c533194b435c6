package webhooks_test

import (
	"net/netip"
	"net/url"
	"testing"

	"github.com/flowbot/flowbot/webhooks"
)

// FuzzPrivateTarget: the check of a subscription's URL never panics, and
// never lets through a URL whose host is a refused address literally.
func FuzzPrivateTarget(f *testing.F) {
	for _, s := range []string{"https://erp.example.com/x", "http://127.0.0.1:8080/", "http://[::1]/", "http://10.0.0.1/",
		"http://169.254.169.254/latest", "http://localhost/", "http://LOCALHOST./", "http://[::ffff:127.0.0.1]/", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if webhooks.PrivateTarget(raw) {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%q: unparsable URL accepted", raw)
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && webhooks.Private(a) {
			t.Fatalf("%q: private address %s accepted", raw, a)
		}
	})
}

func TestPrivateTarget(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		"https://erp.example.com/x": false, "http://8.8.8.8/": false,
		"http://127.0.0.1:8080/": true, "http://[::1]/": true, "http://10.0.0.1/": true, "http://192.168.0.9/": true,
		"http://169.254.169.254/latest": true, "http://localhost/": true, "http://api.localhost/": true, "http://LOCALHOST./": true, "%zz": true,
	} {
		if got := webhooks.PrivateTarget(raw); got != want {
			t.Errorf("PrivateTarget(%q) = %v, want %v", raw, got, want)
		}
	}
}
