package signin_test

import (
	"strings"
	"testing"

	"github.com/flowbot/flowbot/signin"
)

// FuzzDecodeLoginState: whatever the browser sends back as the sign-in
// cookie, decoding never panics, and what it accepts is complete and
// returns only to a local path.
func FuzzDecodeLoginState(f *testing.F) {
	f.Add("eyJzIjoiYSIsIm4iOiJiIiwidiI6ImMiLCJyIjoiL3VpLyIsInQiOjF9")
	f.Add("e30")
	f.Add("")
	f.Add("eyJzIjoiYSIsIm4iOiJiIiwidiI6ImMiLCJyIjoiLy9ldmlsIiwidCI6MX0")
	f.Fuzz(func(t *testing.T, v string) {
		ls, err := signin.DecodeLoginState(v)
		if err != nil {
			return
		}
		if !signin.LocalPath(ls.Next) {
			t.Fatalf("accepted next %q", ls.Next)
		}
	})
}

// FuzzLocalPath: an accepted path never names another host.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/ui/", "//x", "/\\x", "http://x", "/a?b=//c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !signin.LocalPath(p) {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
			t.Fatalf("accepted %q", p)
		}
	})
}
