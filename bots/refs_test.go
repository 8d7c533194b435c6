package bots_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// recordingMessenger records the updates of sent messages.
type recordingMessenger struct {
	mu      sync.Mutex
	sent    int
	updates map[string][]bots.Message // ref -> updates, in order
	byKey   map[string]string         // idempotency key -> ref
}

func (m *recordingMessenger) Send(_ context.Context, to bots.Recipient, _ bots.Message, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ref, ok := m.byKey[key]; ok && key != "" {
		return ref, nil
	}
	m.sent++
	ref := fmt.Sprintf("sent-%s-%d", to.UserID, m.sent)
	if m.byKey != nil {
		m.byKey[key] = ref
	}
	return ref, nil
}

// webNotifier is a notifier of b's outbox rendering with r and sending
// to a recordingMessenger as the playground; drain delivers until nothing
// is due and returns how many messages it handled.
func webNotifier(t *testing.T, b *bundle, r notify.Renderer, workers int) (wb *recordingMessenger, drain func() int) {
	t.Helper()
	wb = &recordingMessenger{updates: map[string][]bots.Message{}, byKey: map[string]string{}}
	n := notify.New(notify.Config{Store: b.db, Renderer: r, Clock: b.clock.Now, Workers: workers,
		Messengers: map[string]bots.Messenger{"web": wb}})
	return wb, func() int {
		total := 0
		for range 10 {
			got, err := n.DrainOnce(b.ctx)
			require.NoError(t, err)
			if got == 0 {
				break
			}
			total += got
		}
		return total
	}
}

// reachEveryoneOnWeb gives every user of the test company a playground
// id, so that every notice reaches the web messenger.
func reachEveryoneOnWeb(t *testing.T, b *bundle) {
	t.Helper()
	users, depts := testOrg()
	for _, u := range users {
		u.Platforms = map[string]string{"web": u.ID}
	}
	require.NoError(t, b.db.ReplaceDirectory(b.ctx, users, depts))
}

// enqueueCardUpdate writes a card update of task in request inst, due
// now, as a later change of the request would.
func enqueueCardUpdate(t *testing.T, b *bundle, inst, task int64) {
	t.Helper()
	now := b.clock.Now()
	require.NoError(t, b.db.Update(b.ctx, func(tx flows.Tx) error {
		return tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: inst, TaskID: task,
			Status: flows.OutboxPending, NextAt: now, CreatedAt: now})
	}))
}

func (m *recordingMessenger) ref(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byKey[key]
}

func (m *recordingMessenger) Update(_ context.Context, ref string, msg bots.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updates[ref] = append(m.updates[ref], msg)
	return nil
}

func (m *recordingMessenger) last(ref string) *bots.Card {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u := m.updates[ref]; len(u) > 0 {
		return u[len(u)-1].Card
	}
	return nil
}

// clickRef clicks btn on the platform message ref.
func (b *bundle) clickRef(t *testing.T, ev bots.Event, btn bots.Button, inputs map[string]string, ref string) bots.Reply {
	t.Helper()
	ev.ID = fmt.Sprint("e", b.seq.Add(1))
	ev.Action = &bots.Action{Name: btn.Action, Value: btn.Value, Inputs: inputs, MessageRef: ref}
	rep, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	return rep
}

func refsOf(t *testing.T, b *bundle, instID int64) []*flows.MessageRef {
	t.Helper()
	refs, err := b.db.MessageRefs(b.ctx, instID, 0)
	require.NoError(t, err)
	for _, r := range refs {
		r.CreatedAt = r.CreatedAt.UTC()
	}
	return refs
}

// The refs of clicked cards are the same whether they are saved at once
// or with the event's confirmation (SQLite's event holds).
func TestClickedCardsKeepTheirMessageRef(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		dedupe func(b *bundle) bots.Deduper
	}{
		{"saved at once", func(*bundle) bots.Deduper { return testkit.NewMemDedupe() }},
		{"saved with the confirmation", func(b *bundle) bots.Deduper { return b.db.EventDeduper() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: c.dedupe(b), AdminContact: admin})
			clickedCardsKeepTheirMessageRef(t, b)
		})
	}
}

func clickedCardsKeepTheirMessageRef(t *testing.T, b *bundle) {
	now := b.clock.Now()
	feishu := bots.Event{Platform: "feishu", App: "cli_a", UserID: "ou_dev1", ChatID: "oc_1", ChatType: "p2p"}

	// The summary card becomes the request card: its message is kept
	// under the app-qualified platform key the notifier uses.
	ev := feishu
	ev.ID, ev.Text = "m1", "/leave type=annual period=2026-12-01~2026-12-02"
	rep, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	rep = b.clickRef(t, feishu, button(t, lastCard(t, rep), "submit"), nil, "om_summary")
	require.Contains(t, rep.Toast, "LEAVE-20261126-0001")
	ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	inst := ins[0].ID
	want := []*flows.MessageRef{{InstanceID: inst, Recipient: "dev1", Platform: "feishu:cli_a", Ref: "om_summary", CreatedAt: now}}
	require.Equal(t, want, refsOf(t, b, inst))

	// A click without a message ref records nothing.
	ts, err := b.engine.Todo(b.ctx, "cto")
	require.NoError(t, err)
	task := ts[0]
	b.click(t, "cto", taskButton("comment", task), map[string]string{"comment": "看一下"})
	require.Len(t, refsOf(t, b, inst), 1)

	// A refused click shows the task card: kept under the task.
	web := bots.Event{Platform: "web", UserID: "cto", ChatID: "cto"}
	rep = b.clickRef(t, web, taskButton("reject", task), nil, "web-7")
	require.Equal(t, "驳回请填写理由", rep.Toast)
	want = append(want, &flows.MessageRef{InstanceID: inst, TaskID: task.ID, Recipient: "cto", Platform: "web", Ref: "web-7", CreatedAt: now})
	require.ElementsMatch(t, want, refsOf(t, b, inst))
	// The same card clicked again is recorded once.
	rep = b.clickRef(t, web, taskButton("approve", task), nil, "web-7")
	require.Equal(t, "已同意", rep.Toast)
	require.ElementsMatch(t, want, refsOf(t, b, inst))

	// The notifier's card updates now reach both messages.
	fs, wb := &recordingMessenger{updates: map[string][]bots.Message{}}, &recordingMessenger{updates: map[string][]bots.Message{}}
	n := notify.New(notify.Config{Store: b.db, Renderer: b.bot, Clock: b.clock.Now, Workers: 1,
		Messengers: map[string]bots.Messenger{"feishu": fs, "web": wb}})
	for i := 0; i < 10; i++ {
		got, err := n.DrainOnce(b.ctx)
		require.NoError(t, err)
		if got == 0 {
			break
		}
	}
	c := fs.last("om_summary")
	require.NotNil(t, c, "the former summary card was updated")
	require.Contains(t, cardText(c), "状态: 已通过")
	require.Equal(t, bots.ColorGreen, c.Color)
	c = wb.last("web-7")
	require.NotNil(t, c, "the approver's clicked card was updated")
	require.Equal(t, "已由 李雷 同意 · 10:00", c.Note)
}

func TestRenderRequestCardUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	msg, err := b.bot.Render(b.ctx, &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: out.Instance.ID}, mustUser(t, b, "dev1"))
	require.NoError(t, err)
	require.Equal(t, "请假 · LEAVE-20261126-0001", msg.Card.Title)
	require.NotContains(t, msg.Card.Markdown, "已提交", "the bare request card, no headline")
	require.Equal(t, []string{"urge", "withdraw"}, actions(msg.Card))
}

// Cards sent as the answer to a typed command (/todo, /status, the card
// after submitting) are kept too, once the adapter reports where they went.
func TestReplyCardsKeepTheirMessageRef(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	inst := out.Instance.ID
	wb, drain := webNotifier(t, b, b.bot, 1)
	// Replies are durable before Handle returns: each message has the key
	// the notifier sends it with, and no adapter callback is asked for.
	rep := b.say(t, "cto", "/todo")
	require.Nil(t, rep.Sent, "the notifier, not the adapter, keeps reply refs")
	for _, m := range rep.Messages {
		require.NotEmpty(t, m.Key, "every reply message is in the outbox")
		if m.Card != nil && m.Card.About != nil {
			require.Equal(t, inst, m.Card.About.InstanceID)
		}
	}
	status := b.say(t, "dev1", "/status LEAVE-20261126-0001")
	help := b.say(t, "dev1", "/help")
	require.NotEmpty(t, help.Messages[0].Key)
	drain()
	todoRef := wb.ref(rep.Messages[len(rep.Messages)-1].Key)
	statusRef := wb.ref(status.Messages[len(status.Messages)-1].Key)
	require.NotEmpty(t, todoRef, "the /todo reply was sent by the notifier")
	require.NotEmpty(t, statusRef, "the /status reply was sent by the notifier")
	require.NotEmpty(t, wb.ref(help.Messages[0].Key), "a text reply is sent too")
	var kept []string
	for _, r := range refsOf(t, b, inst) {
		kept = append(kept, r.Recipient+":"+r.Ref)
	}
	require.Subset(t, kept, []string{"dev1:" + statusRef, "cto:" + todoRef})
	require.NotContains(t, kept, "dev1:"+wb.ref(help.Messages[0].Key), "a text reply keeps no ref")

	// The approver decides on another copy: every kept copy is updated.
	_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, out, "cto").ID, Approve: true})
	require.NoError(t, err)
	drain()
	c := wb.last(todoRef)
	require.NotNil(t, c, "the /todo copy of the task card was updated")
	require.Empty(t, c.Buttons, "no live buttons on a decided task")
	c = wb.last(statusRef)
	require.NotNil(t, c, "the /status copy of the request card was updated")
	require.Equal(t, bots.ColorGreen, c.Color)
}

// A decision clicked on a card ends with two writes on SQLite: the
// decision, then the event's confirmation with the clicked card's ref. A
// redelivery of the click is a duplicate and writes nothing.
func TestClickEndsWithOneWriteAfterItsDecision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: b.db.EventDeduper(), AdminContact: admin})
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	ev := bots.Event{Platform: "web", ID: "click-1", UserID: "cto", ChatID: "cto",
		Action: &bots.Action{Name: "approve", Value: taskButton("approve", task).Value, MessageRef: "web-9"}}
	_, before := b.db.WriteStats()
	rep, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.Equal(t, "已同意", rep.Toast)
	_, after := b.db.WriteStats()
	require.Equal(t, int64(2), after-before, "the decision, then the confirmation with the ref")
	require.Equal(t, []*flows.MessageRef{{InstanceID: out.Instance.ID, TaskID: task.ID, Recipient: "cto", Platform: "web", Ref: "web-9", CreatedAt: b.clock.Now()}},
		refsOf(t, b, out.Instance.ID))

	rep, err = b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.Equal(t, bots.OutcomeDuplicate, rep.Outcome, "the confirmation was written")
	_, again := b.db.WriteStats()
	require.Equal(t, after, again)
}

// refKeeperDown is SQLite's event deduper whose combined write fails.
type refKeeperDown struct{ d bots.Deduper }

func (r refKeeperDown) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return r.d.FirstSeen(ctx, key, ttl)
}
func (r refKeeperDown) Confirm(ctx context.Context, key string, ttl time.Duration) error {
	return r.d.(bots.DedupeConfirmer).Confirm(ctx, key, ttl)
}
func (r refKeeperDown) Done(ctx context.Context, key string) (bool, error) {
	return r.d.(bots.DedupeConfirmer).Done(ctx, key)
}
func (r refKeeperDown) ConfirmWithRefs(context.Context, string, time.Duration, []*flows.MessageRef) error {
	return errors.New("database is locked")
}

// When the write of the confirmation with the refs fails, the refs are
// still saved on their own: later card updates reach the clicked card.
func TestClickRefSavedWhenItsConfirmationFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: refKeeperDown{b.db.EventDeduper()}, AdminContact: admin})
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	rep := b.clickRef(t, bots.Event{Platform: "web", UserID: "cto", ChatID: "cto"}, taskButton("approve", task), nil, "web-3")
	require.Equal(t, "已同意", rep.Toast)
	refs := refsOf(t, b, out.Instance.ID)
	require.Len(t, refs, 1)
	require.Equal(t, "web-3", refs[0].Ref)
}
