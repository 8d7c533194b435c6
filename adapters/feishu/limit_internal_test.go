package feishu

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLimiterDefaultQuota runs the default limits on a simulated clock
// under saturated demand: no 60 s window holds more than Feishu's
// 1000/min per app, no 1 s window more than 50, and the quota is used.
func TestLimiterDefaultQuota(t *testing.T) {
	t.Parallel()
	cfg := Config{}.withDefaults()
	l := newLimiter(cfg.Rate)
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var sent []time.Time
	for now := start; now.Before(start.Add(3 * time.Minute)); {
		at, ok := l.reserveApp(now, time.Time{})
		require.True(t, ok)
		sent = append(sent, at)
		now = at
	}
	windows := []struct {
		d   time.Duration
		max int
	}{{time.Minute, 1000}, {time.Second, 50}}
	for _, w := range windows {
		j := 0
		for i := range sent {
			for j < len(sent) && sent[j].Sub(sent[i]) < w.d {
				j++
			}
			require.LessOrEqual(t, j-i, w.max, "window of %s from %s: got %d sends, limit %d", w.d, sent[i].Sub(start), j-i, w.max)
		}
	}
	require.GreaterOrEqual(t, len(sent), 2*950, "the quota is used: got %d sends in 3 minutes", len(sent))
}

// TestLimiterChatRate checks the default 5/s per chat: 15 sends at once
// to one chat are spread over at least 2 s.
func TestLimiterChatRate(t *testing.T) {
	t.Parallel()
	l := newLimiter(Config{}.withDefaults().Rate)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var last time.Time
	for range 15 {
		at, ok := l.reserveChat(now, "oc_team", time.Time{})
		require.True(t, ok)
		last = at
	}
	require.GreaterOrEqual(t, last.Sub(now), 2*time.Second, "got the 15th send %s after the first", last.Sub(now))
	at, ok := l.reserveChat(now, "oc_other", time.Time{})
	require.True(t, ok)
	require.Equal(t, now, at, "another chat is not held up")
	_, ok = l.reserveChat(now, "oc_team", now.Add(time.Second))
	require.False(t, ok, "a slot past the deadline is refused")
}
