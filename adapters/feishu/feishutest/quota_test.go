package feishutest_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// TestEnforceQuota checks the fake refuses message creates over the app's
// per-second and per-minute quota and a chat's per-second quota with
// Feishu's 429, lets them through once the window moved on, and counts
// the refusals.
func TestEnforceQuota(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s, tok := newFake(t, feishutest.WithClock(clock), feishutest.WithTokenTTL(time.Hour))
	s.EnforceQuota(feishutest.Quota{PerSecond: 4, PerMinute: 6, ChatPerSecond: 2})
	url := s.URL + "/open-apis/im/v1/messages?receive_id_type=open_id"
	send := func(to string) answer {
		return call(t, http.MethodPost, url, tok, map[string]string{"receive_id": to, "msg_type": "text", "content": `{"text":"hi"}`})
	}
	steps := []struct {
		name   string
		to     string
		after  time.Duration // clock moved before the send
		status int
	}{
		{"first to a", "ou_a", 0, http.StatusOK},
		{"second to a", "ou_a", 0, http.StatusOK},
		{"third to a in the same second: chat quota", "ou_a", 0, http.StatusTooManyRequests},
		{"to b", "ou_b", 0, http.StatusOK},
		{"to c", "ou_c", 0, http.StatusOK},
		{"fifth in the second: app quota", "ou_d", 0, http.StatusTooManyRequests},
		{"next second, a again", "ou_a", 1100 * time.Millisecond, http.StatusOK},
		{"sixth in the minute", "ou_e", 0, http.StatusOK},
		{"seventh in the minute: minute quota", "ou_f", 2 * time.Second, http.StatusTooManyRequests},
		{"a minute later", "ou_f", 58 * time.Second, http.StatusOK},
	}
	for _, st := range steps {
		advance(st.after)
		a := send(st.to)
		require.Equal(t, st.status, a.Status, st.name)
		if st.status == http.StatusTooManyRequests {
			require.Equal(t, 99991400, a.Code, st.name)
		}
	}
	require.Equal(t, 3, s.Limited())
	require.Len(t, s.Messages(), 7, "a refused call creates nothing")
}
