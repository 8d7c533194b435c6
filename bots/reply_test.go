package bots_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
)

// chatMessenger records each message shown, keyed by idempotency key as a
// platform that dedupes by key would.
type chatMessenger struct {
	mu    sync.Mutex
	sends []chatSend
	keys  map[string]string
}

type chatSend struct {
	to  bots.Recipient
	msg bots.Message
	key string
}

func (m *chatMessenger) Send(_ context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string]string{}
	}
	if ref, ok := m.keys[key]; ok {
		return ref, nil
	}
	m.sends = append(m.sends, chatSend{to: to, msg: msg, key: key})
	ref := "om_" + key
	m.keys[key] = ref
	return ref, nil
}

func (m *chatMessenger) Update(context.Context, string, bots.Message) error { return nil }

func (m *chatMessenger) shown() []chatSend {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]chatSend(nil), m.sends...)
}

// restart is a fresh notifier over the same database: the process that
// acknowledged the event died before it sent anything.
func restart(t *testing.T, b *bundle, ms bots.Messenger) {
	t.Helper()
	n := notify.New(notify.Config{Store: b.db, Renderer: b.bot, Clock: b.clock.Now, Workers: 1,
		Messengers: map[string]bots.Messenger{"feishu": ms}})
	for range 10 {
		got, err := n.DrainOnce(b.ctx)
		require.NoError(t, err)
		if got == 0 {
			return
		}
	}
	t.Fatal("outbox not drained after 10 batches")
}

// TestReplyDurableBeforeAck kills the process between the ack of an event
// and the send of its reply: the reply still arrives, once, in the chat
// the event came from.
func TestReplyDurableBeforeAck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	feishu := bots.Event{Platform: "feishu", App: "cli_a", UserID: "ou_dev1", ChatID: "oc_dev1", ChatType: "p2p"}

	ev := feishu
	ev.ID, ev.Text = "m-help", "/help"
	rep, err := b.bot.Handle(b.ctx, ev) // acknowledged here, then the process dies
	require.NoError(t, err)
	require.NotEmpty(t, rep.Messages)
	for _, m := range rep.Messages {
		require.NotEmpty(t, m.Key, "a reply is in the outbox before Handle returns")
	}
	pending, err := b.db.Outbox(b.ctx, flows.OutboxPending, 10)
	require.NoError(t, err)
	require.Len(t, pending, len(rep.Messages))
	require.Equal(t, flows.MsgReply, pending[0].Kind)

	ms := &chatMessenger{}
	restart(t, b, ms)
	restart(t, b, ms) // and once more: nothing is sent twice
	got := ms.shown()
	require.Len(t, got, len(rep.Messages), "each reply sent exactly once after the restart")
	require.Equal(t, bots.Recipient{Platform: "feishu", App: "cli_a", UserID: "ou_dev1", ChatID: "oc_dev1"}, got[0].to)
	require.Equal(t, rep.Messages[0].Key, got[0].key, "sent with the key the reply carried")
	require.Equal(t, rep.Messages[0].Text, got[0].msg.Text)

	// A redelivery of the same event (the platform did not get the ack)
	// adds no second reply.
	_, err = b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	restart(t, b, ms)
	require.Len(t, ms.shown(), len(rep.Messages))
}

// TestSubmitConfirmationInSubmitTransaction files a request by typing
// 提交: its confirmation is written with the request, so a crash right
// after the filing cannot lose the applicant's only confirmation.
func TestSubmitConfirmationInSubmitTransaction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	feishu := bots.Event{Platform: "feishu", App: "cli_a", UserID: "ou_dev1", ChatID: "oc_dev1", ChatType: "p2p"}
	say := func(id, text string) bots.Reply {
		ev := feishu
		ev.ID, ev.Text = id, text
		rep, err := b.bot.Handle(b.ctx, ev)
		require.NoError(t, err)
		return rep
	}
	say("m1", "/leave type=annual period=2026-12-01~2026-12-02 reason=family")
	rep := say("m2", "提交")
	ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	require.Len(t, ins, 1, "filed")
	require.Len(t, rep.Messages, 1)
	require.NotEmpty(t, rep.Messages[0].Key)

	var confirm *flows.OutboxMessage
	pending, err := b.db.Outbox(b.ctx, flows.OutboxPending, 50)
	require.NoError(t, err)
	for _, m := range pending {
		if m.Kind == flows.MsgSubmitted && m.Recipient == "dev1" {
			confirm = m
		}
	}
	require.NotNil(t, confirm, "the engine wrote the confirmation with the request")
	require.Equal(t, ins[0].ID, confirm.InstanceID)
	require.Equal(t, bots.OutboxKey(confirm.ID), rep.Messages[0].Key, "the reply is that message, not a second one")

	ms := &chatMessenger{}
	restart(t, b, ms)
	var toChat []chatSend
	for _, s := range ms.shown() {
		if s.to.ChatID == "oc_dev1" && s.msg.Card != nil && strings.Contains(s.msg.Card.Title+s.msg.Card.Markdown, ins[0].Number) {
			toChat = append(toChat, s)
		}
	}
	require.Len(t, toChat, 1, "one confirmation in the chat the request was filed in")
	require.Equal(t, rep.Messages[0].Key, toChat[0].key)
	refs, err := b.db.MessageRefs(b.ctx, ins[0].ID, 0)
	require.NoError(t, err)
	require.NotEmpty(t, refs, "the confirmation card is kept current like every copy")
	require.Equal(t, "feishu:cli_a", refs[0].Platform)
}

// TestNotifierStopDelivers stops a running notifier as SIGTERM does: what
// is due is delivered within the grace period and Run returns.
func TestNotifierStopDelivers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	feishu := bots.Event{Platform: "feishu", App: "cli_a", UserID: "ou_dev1", ChatID: "oc_dev1", ChatType: "p2p"}
	for _, id := range []string{"a", "b", "c"} {
		ev := feishu
		ev.ID, ev.Text = id, "/help"
		_, err := b.bot.Handle(b.ctx, ev)
		require.NoError(t, err)
	}
	ms := &chatMessenger{}
	n := notify.New(notify.Config{Store: b.db, Renderer: b.bot, Clock: b.clock.Now, Poll: time.Hour,
		Messengers: map[string]bots.Messenger{"feishu": ms}})
	n.Stop(5 * time.Second) // before Run: Run only flushes
	require.NoError(t, n.Run(b.ctx))
	require.Len(t, ms.shown(), 3)
	left, err := b.db.OutboxDepth(b.ctx)
	require.NoError(t, err)
	require.Zero(t, left)
}
