package chaos

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

type noHandler struct{}

func (noHandler) Handle(context.Context, bots.Event) (bots.Reply, error) { return bots.Reply{}, nil }

// TestCutCreateIsNotACreateCall: a sender that dies while writing a
// create call's body (kill -9, or a drain cancelling the send) delivers a
// part of the JSON. The proxy used to count it as a create call with an
// empty uuid, which the checker reported as "doubled" (the 2026-12-05
// two-replica run); it reached neither Feishu nor the fake.
func TestCutCreateIsNotACreateCall(t *testing.T) {
	t.Parallel()
	f, err := NewFake("", "")
	require.NoError(t, err)
	defer f.Close()

	body := `{"receive_id":"ou_a","msg_type":"text","content":"{\"text\":\"hi\"}","uuid":"` + uuidOf("outbox-7") + `"}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.URL, "http://"))
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "POST /open-apis/im/v1/messages?receive_id_type=open_id HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:40])
	require.NoError(t, err)
	require.NoError(t, conn.Close()) // the sender is gone

	require.Eventually(t, func() bool { return f.Cut() == 1 }, 5*time.Second, 10*time.Millisecond)
	calls, _ := f.Creates()
	require.Empty(t, calls, "a cut body is no create call")
	require.Empty(t, f.Messages())
}

// TestRedeliveredCreateShownOnce: the notifier of a process killed after
// its create call reached Feishu (but before the outbox row was marked
// delivered) sends it again from the next process with the same outbox
// key; the real adapter derives the same uuid from it, so Feishu shows it
// once. The checker counts the second call as a resend, not a double.
func TestRedeliveredCreateShownOnce(t *testing.T) {
	t.Parallel()
	f, err := NewFake("", "")
	require.NoError(t, err)
	defer f.Close()
	app := feishu.App{ID: AppID, Secret: appSecret, EncryptKey: encryptKey, VerificationToken: verificationToken, Mode: "http", BaseURL: f.URL}
	to := bots.Recipient{Platform: "feishu", App: AppID, UserID: "ou_alice"}
	card := bots.Message{Card: &bots.Card{Title: "Expense 42", Markdown: "approve?"}}
	key := bots.OutboxKey(42)
	for range 2 { // two incarnations of flowbot, one outbox row
		a, err := feishu.New(feishu.Config{Apps: []feishu.App{app}}, noHandler{})
		require.NoError(t, err)
		ref, err := a.Send(context.Background(), to, card, key)
		require.NoError(t, err)
		require.NotEmpty(t, ref)
		require.NoError(t, a.Close())
	}
	calls, recipients := f.Creates()
	require.Equal(t, map[string]int{uuidOf(key): 2}, calls, "both calls carry the uuid of the outbox row")
	require.Equal(t, 1, recipients[uuidOf(key)])
	shown := 0
	for _, m := range f.Messages() {
		if m.UUID == uuidOf(key) {
			shown++
		}
	}
	require.Equal(t, 1, shown, "Feishu shows the redelivered card once")
}
