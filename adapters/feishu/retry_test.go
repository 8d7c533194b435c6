package feishu_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

var fastRetry = feishu.RateLimits{BackoffMin: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond}

// TestSendRetriesTransientFailures: 5xx answers, bare 429s and dropped
// connections are retried; the message shows once.
func TestSendRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
	}{
		{"bad gateway", http.StatusBadGateway},
		{"service unavailable", http.StatusServiceUnavailable},
		{"429 without json", http.StatusTooManyRequests},
		{"connection dropped", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{rate: fastRetry})
			b.fake.FailNext(3, tt.status)
			ref, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: "ou_alice"}, bots.Message{Text: "hello"}, "k1")
			require.NoError(t, err)
			require.NotEmpty(t, ref)
			require.Len(t, b.fake.Messages(), 1)
			require.Equal(t, 4, b.fake.Calls(), "3 failures then the success")
		})
	}
}

func TestSendRetryBoundedByContext(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: fastRetry})
	b.fake.FailNext(1_000_000, http.StatusInternalServerError)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "ou_alice"}, bots.Message{Text: "x"}, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Empty(t, b.fake.Messages())
}

func TestSendDoesNotRetryRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: fastRetry})
	err := b.adapter.Update(context.Background(), b.app.ID+":om_missing", bots.Message{Card: &bots.Card{Title: "x"}})
	var apiErr *feishu.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 1, b.fake.Calls(), "a 4xx refusal is final")
}

// TestReplyMessagesSurviveTransientFailures: a reply's messages all
// arrive, in order, through gateway errors.
func TestReplyMessagesSurviveTransientFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: fastRetry, reply: func(ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Messages: []bots.Message{{Text: "one"}, {Text: "two"}, {Text: "three"}}}, nil
	}})
	b.fake.FailNext(2, http.StatusBadGateway)
	r := b.fake.DeliverMessage(t, b.app.ID, "ou_alice", "oc_p2p_alice", "/todo")
	require.Equal(t, http.StatusOK, r.Status)
	waitFor(t, 5*time.Second, "three replies", func() bool { return len(b.fake.Messages()) == 3 })
	var got []string
	for _, m := range b.fake.Messages() {
		got = append(got, m.Text())
	}
	require.Equal(t, []string{"one", "two", "three"}, got)
}
