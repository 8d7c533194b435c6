package botstest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Timing used by the expiry subtests. shortTTL is the lease or entry life;
// early is how much sooner than shortTTL an expiry may be observed (clock
// granularity of the store); deadline bounds every poll.
const (
	shortTTL = 1200 * time.Millisecond
	longTTL  = time.Minute
	early    = 100 * time.Millisecond
	deadline = 10 * time.Second
	pollStep = 20 * time.Millisecond
)

// uniqueKey returns a key no other test run uses: the suite's name, the
// subtest's name and random bytes.
func uniqueKey(t *testing.T, parts ...string) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	name := strings.NewReplacer("/", ":", " ", "_").Replace(t.Name())
	return strings.Join(append([]string{"botstest", name, hex.EncodeToString(b[:])}, parts...), ":")
}

// pollUntil calls cond every pollStep until it returns true and returns the
// time it first did; it fails the test when deadline passes first.
func pollUntil(t *testing.T, what string, cond func() bool) time.Time {
	t.Helper()
	end := time.Now().Add(deadline)
	tick := time.NewTicker(pollStep)
	defer tick.Stop()
	for {
		if cond() {
			return time.Now()
		}
		if time.Now().After(end) {
			t.Fatalf("%s: still not true after %s", what, deadline)
		}
		<-tick.C
	}
}

// requireNotBefore fails when at is earlier than start+ttl-early: an entry
// vanished (or a lease was freed) before its TTL ended.
func requireNotBefore(t *testing.T, what string, start, at time.Time, ttl time.Duration) {
	t.Helper()
	got := at.Sub(start)
	require.GreaterOrEqualf(t, got, ttl-early, "%s after %s, want not before the ttl %s", what, got, ttl)
}
