package feishu_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

func TestSend(t *testing.T) {
	t.Parallel()
	card := samples()["task"]
	tests := []struct {
		name     string
		to       bots.Recipient
		msg      bots.Message
		idType   string
		id       string
		msgType  string
		contains string
	}{
		{"text to user", bots.Recipient{UserID: "ou_alice"}, bots.Message{Text: "你好 hello"}, "open_id", "ou_alice", "text", "你好 hello"},
		{"card to chat", bots.Recipient{ChatID: "oc_team"}, bots.Message{Card: &card}, "chat_id", "oc_team", "interactive", "请假审批"},
		{"card wins over text", bots.Recipient{UserID: "ou_bob"}, bots.Message{Text: "x", Card: &card}, "open_id", "ou_bob", "interactive", "update_multi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			tt.to.App = b.app.ID
			ref, err := b.adapter.Send(context.Background(), tt.to, tt.msg, "key-1")
			require.NoError(t, err)
			msgs := b.fake.Messages()
			require.Len(t, msgs, 1)
			m := msgs[0]
			require.Equal(t, b.app.ID+":"+m.ID, ref)
			require.Equal(t, tt.idType, m.ReceiveIDType)
			require.Equal(t, tt.id, m.ReceiveID)
			require.Equal(t, tt.msgType, m.MsgType)
			require.Contains(t, m.Content, tt.contains)
			require.NotEmpty(t, m.UUID)
			require.LessOrEqual(t, len(m.UUID), 50)
		})
	}
}

func TestSendIsIdempotentByKey(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	to := bots.Recipient{UserID: "ou_alice"}
	ref1, err := b.adapter.Send(ctx, to, bots.Message{Text: "one"}, "notify:task:42:v3")
	require.NoError(t, err)
	ref2, err := b.adapter.Send(ctx, to, bots.Message{Text: "one"}, "notify:task:42:v3")
	require.NoError(t, err)
	require.Equal(t, ref1, ref2, "a retried send returns the first message")
	require.Len(t, b.fake.Messages(), 1, "and is not shown twice")
	_, err = b.adapter.Send(ctx, to, bots.Message{Text: "two"}, "notify:task:43:v1")
	require.NoError(t, err)
	require.Len(t, b.fake.Messages(), 2)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	task := samples()["task"]
	ref, err := b.adapter.Send(ctx, bots.Recipient{UserID: "ou_lilei"}, bots.Message{Card: &task}, "k")
	require.NoError(t, err)
	done := samples()["approved"]
	require.NoError(t, b.adapter.Update(ctx, ref, bots.Message{Card: &done}))
	patches := b.fake.Patches()
	require.Len(t, patches, 1)
	require.Equal(t, strings.TrimPrefix(ref, b.app.ID+":"), patches[0].MessageID)
	m, _ := b.fake.Message(patches[0].MessageID)
	require.Contains(t, m.Content, "Approved by Li Lei")
	require.Equal(t, 1, m.Updates)

	// A copy Feishu no longer knows (deleted, or another app's) is gone:
	// the notifier skips it instead of retrying every copy.
	err = b.adapter.Update(ctx, b.app.ID+":om_deleted", bots.Message{Card: &done})
	require.ErrorIs(t, err, bots.ErrMessageGone, "code 230001 means the copy is gone: %v", err)
	require.Len(t, b.fake.Patches(), 1, "nothing else changed")
}

func TestOutboundBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	card := bots.Card{Title: "x"}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown app", func() error {
			_, err := b.adapter.Send(ctx, bots.Recipient{App: "cli_nope", UserID: "ou_a"}, bots.Message{Text: "x"}, "")
			return err
		}, feishu.ErrUnknownApp},
		{"no recipient", func() error {
			_, err := b.adapter.Send(ctx, bots.Recipient{}, bots.Message{Text: "x"}, "")
			return err
		}, feishu.ErrNoRecipient},
		{"empty message", func() error {
			_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "ou_a"}, bots.Message{}, "")
			return err
		}, feishu.ErrEmptyMessage},
		{"malformed ref", func() error { return b.adapter.Update(ctx, "om_without_app", bots.Message{Card: &card}) }, feishu.ErrBadRef},
		{"ref of unknown app", func() error { return b.adapter.Update(ctx, "cli_nope:om_1", bots.Message{Card: &card}) }, feishu.ErrUnknownApp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.call(), tt.want)
		})
	}
	t.Run("update of an unknown message", func(t *testing.T) {
		err := b.adapter.Update(ctx, b.app.ID+":om_missing", bots.Message{Card: &card})
		var apiErr *feishu.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, 230001, apiErr.Code)
	})
	require.Empty(t, b.fake.Messages(), "nothing was sent")
}

func TestTokenExpiresMidRun(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	to := bots.Recipient{UserID: "ou_alice"}
	_, err := b.adapter.Send(ctx, to, bots.Message{Text: "before"}, "")
	require.NoError(t, err)
	require.Equal(t, 1, b.fake.TokensIssued())
	b.fake.ExpireTokens()
	_, err = b.adapter.Send(ctx, to, bots.Message{Text: "after"}, "")
	require.NoError(t, err, "an expired token is renewed and the call retried")
	require.Equal(t, 2, b.fake.TokensIssued())
	require.Len(t, b.fake.Messages(), 2)
}

func TestRateLimitStorm(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: feishu.RateLimits{
		AppPerSecond: 5000, AppPerMinute: 300000, ChatPerSecond: 1000,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
	}})
	b.fake.RateLimitNext(50, -1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 500
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			to := bots.Recipient{UserID: fmt.Sprintf("ou_%d", i%50)}
			_, err := b.adapter.Send(ctx, to, bots.Message{Text: fmt.Sprintf("msg %d", i)}, fmt.Sprintf("burst:%d", i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	msgs := b.fake.Messages()
	require.Len(t, msgs, n, "every message arrives exactly once")
	seen := map[string]bool{}
	for _, m := range msgs {
		require.False(t, seen[m.Text()], "duplicate %q", m.Text())
		seen[m.Text()] = true
	}
	require.Equal(t, n+50, b.fake.Calls(), "each rate-limited call was retried once")
}

func TestRateLimitHonoursResetHeader(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: feishu.RateLimits{BackoffMin: time.Millisecond}})
	b.fake.RateLimitNext(1, 1)
	start := time.Now()
	_, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: "ou_a"}, bots.Message{Text: "x"}, "")
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), time.Second, "x-ogw-ratelimit-reset: 1 means wait a second")
}

func TestRateLimitBoundedByContext(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: feishu.RateLimits{BackoffMin: 10 * time.Millisecond}})
	b.fake.RateLimitNext(1000, -1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "ou_a"}, bots.Message{Text: "x"}, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Empty(t, b.fake.Messages())
}
