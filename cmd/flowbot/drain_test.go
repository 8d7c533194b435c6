package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// TestSIGTERMUnderSaturatedRateLimitLosesNoReply runs the real binary
// with a Feishu app, sends a burst of messages from one chat (Feishu's 5
// messages per second per chat is the adapter's limit, so the replies
// queue behind it), and sends SIGTERM as soon as the last event was
// acknowledged. The process exits 0 within its drain period; the replies
// it could not send in that period are in the outbox, not lost: the next
// process sends them, and each reply reaches Feishu exactly once.
func TestSIGTERMUnderSaturatedRateLimitLosesNoReply(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildFlowbot(t, dir)
	fake := feishutest.NewServer()
	t.Cleanup(fake.Close)
	const appID = "cli_drain"
	db := filepath.Join(dir, "flowbot.db")
	cfg := writeFile(t, dir, "config.yaml", fmt.Sprintf(`log: {level: info}
http: {addr: "127.0.0.1:0", shutdown_timeout: 5s, shutdown_grace: 2s}
database: {driver: sqlite, sqlite: %q}
notifier: {lease: 2s, poll: 50ms, drain_timeout: 1s}
feishu:
  apps:
    - {app_id: %s, app_secret: secret, encrypt_key: encrypt-key, verification_token: vtoken, mode: http, base_url: %q}
`, db, appID, fake.URL))
	const burst = 25
	user := "ou_drain_user"
	chat := feishutest.P2PChatID(user)

	p := startServe(t, bin, cfg)
	hookFeishu(fake, appID, p.base)
	for i := range burst {
		res, err := fake.TryDeliver(feishutest.Delivery{App: appID, OpenID: user, ChatID: chat, Text: "/help", EventID: fmt.Sprintf("ev-drain-%d", i)})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.Status, "event %d: %s", i, res.Body)
	}
	start := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("flowbot did not exit within 20s of SIGTERM")
	}
	require.NoError(t, p.err, "exit status 0 after SIGTERM; stderr: %s", p.stderr.String())
	sentBefore := len(chatMessages(fake, chat))
	t.Logf("SIGTERM: exited in %s; %d of %d replies sent before the exit", time.Since(start).Round(time.Millisecond), sentBefore, burst)
	require.Less(t, sentBefore, burst, "the rate limit was not saturated: the test proves nothing")
	require.Positive(t, sentBefore, "the drain sent nothing")

	// What the drain could not send waits in the outbox.
	store := testkit.OpenSQLiteFile(t, db)
	pending, err := store.Outbox(context.Background(), flows.OutboxPending, 1000)
	require.NoError(t, err)
	require.Len(t, pending, burst-sentBefore, "got %d pending, want every reply not sent yet", len(pending))
	require.NoError(t, store.Close())

	// The next process sends them, once each.
	q := startServe(t, bin, cfg)
	hookFeishu(fake, appID, q.base)
	waitFor(t, 20*time.Second, "the outbox to drain after the restart", func() bool {
		n, err := outboxDepth(q.base)
		return err == nil && n == 0
	})
	msgs := chatMessages(fake, chat)
	require.Len(t, msgs, burst, "got %d replies at Feishu, want one per event", len(msgs))
	seen := map[string]bool{}
	for _, m := range msgs {
		require.False(t, seen[m.UUID], "reply %s shown twice", m.UUID)
		seen[m.UUID] = true
	}
}

func chatMessages(fake *feishutest.Server, chat string) []feishutest.Message {
	var out []feishutest.Message
	for _, m := range fake.Messages() {
		if m.ChatID == chat {
			out = append(out, m)
		}
	}
	return out
}
