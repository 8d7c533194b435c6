package feishu_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

// TestRateLimitWaitPastDeadline: a call the rate limit would hold past
// the caller's deadline fails at once, as a timeout callers can detect.
func TestRateLimitWaitPastDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: feishu.RateLimits{ChatPerSecond: 1}})
	to := bots.Recipient{ChatID: "oc_team"}
	_, err := b.adapter.Send(context.Background(), to, bots.Message{Text: "first"}, "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.adapter.Send(ctx, to, bots.Message{Text: "second"}, "")
	require.ErrorIs(t, err, context.DeadlineExceeded, "got %v", err)
	require.Less(t, time.Since(start), 90*time.Millisecond, "it does not wait for a slot it cannot use")
	require.Len(t, b.fake.Messages(), 1)
}

// TestChatRateDefault: at Feishu's 5 messages/s per chat, 15 sends to one
// chat take at least 2 s.
func TestChatRateDefault(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	start := time.Now()
	for i := range 15 {
		_, err := b.adapter.Send(context.Background(), bots.Recipient{ChatID: "oc_team"}, bots.Message{Text: fmt.Sprint("m", i)}, "")
		require.NoError(t, err)
	}
	require.GreaterOrEqual(t, time.Since(start), 2*time.Second)
	require.Len(t, b.fake.Messages(), 15)
}

// TestChatRateSharedByUserAndP2PChat: sends to a user's open_id and to
// their p2p chat id count against one per-chat limit.
func TestChatRateSharedByUserAndP2PChat(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: feishu.RateLimits{ChatPerSecond: 20}})
	start := time.Now()
	for i := range 30 {
		to := bots.Recipient{UserID: "ou_alice"}
		if i%2 == 1 {
			to = bots.Recipient{ChatID: feishutest.P2PChatID("ou_alice")}
		}
		_, err := b.adapter.Send(context.Background(), to, bots.Message{Text: fmt.Sprint("m", i)}, "")
		require.NoError(t, err)
	}
	// 1 send keyed by open_id before the chat is known, then 29 in the
	// chat's bucket (burst 20, 20/s): at least 9/20 s.
	require.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "got %s", time.Since(start))
}
