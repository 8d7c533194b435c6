package dingtalk_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
)

func TestHTTPCallbackRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mode: dingtalk.ModeHTTP})
	genuine := b.fake.MessageData(b.app.Key, dingtalktest.Message{StaffID: "u1", Text: "/help"})
	tests := []struct {
		name   string
		body   []byte
		at     time.Time
		secret string
		want   int
	}{
		{"forged", genuine, time.Now(), "not-the-secret", http.StatusForbidden},
		{"stale", genuine, time.Now().Add(-61 * time.Minute), "", http.StatusForbidden},
		{"future", genuine, time.Now().Add(time.Hour), "", http.StatusForbidden},
		{"oversized", append(genuine[:len(genuine)-1:len(genuine)-1], []byte(`,"pad":"`+strings.Repeat("x", 70<<10)+`"}`)...), time.Now(), "", http.StatusRequestEntityTooLarge},
		{"malformed", []byte(`{"msgId":`), time.Now(), "", http.StatusBadRequest},
		{"missing fields", []byte(`{"msgtype":"text"}`), time.Now(), "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		r, err := b.fake.PostCallback(b.app.Key, tt.body, tt.at, tt.secret)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, r.Status, "%s: got %d, want %d", tt.name, r.Status, tt.want)
	}
	require.Empty(t, b.rec.Events(), "refused requests reach no handler")

	// No headers at all.
	resp, err := http.Post(strings.Replace(b.fake.URL, b.fake.URL, webhookOf(t, b), 1), "application/json", bytes.NewReader(genuine))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	// The genuine one, delivered twice, is handled once.
	for range 2 {
		r, err := b.fake.PostCallback(b.app.Key, genuine, time.Now(), "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
	}
	require.Len(t, b.rec.Events(), 1)
}

// webhookOf finds the adapter's webhook through a signed probe.
func webhookOf(t *testing.T, b *testBundle) string {
	t.Helper()
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	require.NotEmpty(t, dingtalk.Sign(ts, b.app.Secret))
	require.Equal(t, dingtalktest.Sign(ts, b.app.Secret), dingtalk.Sign(ts, b.app.Secret), "adapter and fake sign alike")
	return b.webhook
}
