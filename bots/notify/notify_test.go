package notify_test

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

func (b *bundle) notifier(cfg notify.Config) *notify.Notifier {
	if cfg.Store == nil {
		cfg.Store = b.db
	}
	if cfg.Renderer == nil {
		cfg.Renderer = b.render
	}
	if cfg.Messengers == nil {
		cfg.Messengers = b.messengers()
	}
	cfg.Clock = b.clock.Now
	return notify.New(cfg)
}

func TestDeliversOnceToEveryPlatform(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := newMetrics()
	n := b.notifier(notify.Config{Metrics: m})
	ids := b.enqueue(t,
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 1, TaskID: 10},
		&flows.OutboxMessage{Kind: flows.MsgText, Recipient: "bob", Data: []byte(`{"text":{"zh":"早上好","en":"Good morning"}}`)},
	)
	got, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 2, got)

	// alice is on feishu and web: one copy each, keyed by outbox id and platform.
	require.Equal(t, []string{fmt.Sprintf("outbox-%d-feishu", ids[0])}, b.feishu.shownKeys())
	// Messages are delivered in parallel: their order on a platform is free.
	require.ElementsMatch(t, []string{fmt.Sprintf("outbox-%d-web", ids[0]), fmt.Sprintf("outbox-%d-web", ids[1])}, b.web.shownKeys())
	require.Equal(t, "task 10 for alice", b.feishu.message(fmt.Sprintf("outbox-%d-feishu", ids[0])).Card.Title)
	require.Equal(t, "早上好", b.web.message(fmt.Sprintf("outbox-%d-web", ids[1])).Text, "rendered in bob's locale")

	delivered := b.outbox(t, flows.OutboxDelivered)
	require.Len(t, delivered, 2)
	require.Equal(t, t0, delivered[ids[0]].DeliveredAt.UTC())

	refs, err := b.db.MessageRefs(b.ctx, 1, 10)
	require.NoError(t, err)
	require.Len(t, refs, 2, "both copies of the task card are remembered")

	got, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Zero(t, got, "nothing left to deliver")
	require.Equal(t, 1, b.feishu.sendCalls())
	d, f := m.get("web")
	require.Equal(t, 2, d)
	require.Zero(t, f)
}

func TestRetriesWithBackoffThenFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := newMetrics()
	n := b.notifier(notify.Config{Backoff: []time.Duration{time.Second, 5 * time.Second}, Metrics: m})
	require.Equal(t, 3, n.MaxAttempts())
	b.web.setFail(-1)
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10})[0]

	steps := []struct {
		advance  time.Duration
		handled  int
		attempts int
		status   flows.OutboxStatus
	}{
		{0, 1, 1, flows.OutboxPending},
		{0, 0, 1, flows.OutboxPending},                      // not due before its backoff
		{999 * time.Millisecond, 0, 1, flows.OutboxPending}, // still not
		{time.Millisecond, 1, 2, flows.OutboxPending},       // first backoff over
		{4 * time.Second, 0, 2, flows.OutboxPending},
		{time.Second, 1, 3, flows.OutboxFailed}, // last attempt
		{time.Hour, 0, 3, flows.OutboxFailed},
	}
	for i, s := range steps {
		b.clock.Add(s.advance)
		got, err := n.DrainOnce(b.ctx)
		require.NoError(t, err)
		require.Equal(t, s.handled, got, "step %d", i)
		all := b.outbox(t, "")
		require.Equal(t, s.attempts, all[id].Attempts, "step %d", i)
		require.Equal(t, s.status, all[id].Status, "step %d", i)
		require.Contains(t, all[id].LastError, "platform down", "step %d", i)
	}
	require.Contains(t, b.outbox(t, flows.OutboxFailed), id, "admins see it among the failed messages")
	require.Empty(t, b.web.shownKeys())
	_, f := m.get("web")
	require.Equal(t, 3, f)
}

func TestRetrySucceedsAndShowsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{Backoff: []time.Duration{time.Second}})
	b.feishu.setFail(1) // alice's feishu fails once, web works
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 1, TaskID: 10})[0]
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, flows.OutboxPending, b.outbox(t, "")[id].Status)
	b.clock.Add(time.Second)
	_, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, flows.OutboxDelivered, b.outbox(t, "")[id].Status)
	require.Len(t, b.web.shownKeys(), 1, "the retry is not shown twice on web")
	require.Len(t, b.feishu.shownKeys(), 1)
	require.Equal(t, 2, b.web.sendCalls(), "web was called again with the same key")
}

func TestUnreachableRecipientFails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		msg  *flows.OutboxMessage
		want string
	}{
		{"no configured platform", &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "carol", InstanceID: 1, TaskID: 2}, "recipient carol cannot be reached"},
		{"not in directory", &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "zed", InstanceID: 1, TaskID: 2}, "recipient zed is not in the directory"},
		{"no recipient", &flows.OutboxMessage{Kind: flows.MsgApproved, InstanceID: 1}, "has no recipient"},
		{"card update without task", &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: 1}, "card update without request or task"},
		{"http without runner", &flows.OutboxMessage{Kind: flows.MsgHTTP, InstanceID: 1, StepID: "erp"}, "no http runner"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			n := b.notifier(notify.Config{})
			id := b.enqueue(t, tc.msg)[0]
			got, err := n.DrainOnce(b.ctx)
			require.NoError(t, err)
			require.Equal(t, 1, got)
			failed := b.outbox(t, flows.OutboxFailed)
			require.Contains(t, failed, id, "failed at once: retrying cannot help")
			require.Contains(t, failed[id].LastError, tc.want)
			require.Empty(t, b.web.shownKeys())
			require.Empty(t, b.feishu.shownKeys())
		})
	}
}

func TestAppQualifiedPlatform(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{})
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "dave", InstanceID: 3, TaskID: 4})[0]
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{fmt.Sprintf("outbox-%d-feishu:cli_b", id)}, b.feishu.shownKeys())
	refs, err := b.db.MessageRefs(b.ctx, 3, 4)
	require.NoError(t, err)
	require.Len(t, refs, 1)
	require.Equal(t, "feishu:cli_b", refs[0].Platform)
}

func TestCardUpdateUpdatesEveryCopy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{})
	ids := b.enqueue(t,
		&flows.OutboxMessage{Kind: flows.MsgSubmitted, Recipient: "dave", InstanceID: 1},             // request card
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 1, TaskID: 10},     // 2 copies
		&flows.OutboxMessage{Kind: flows.MsgReminder, Recipient: "alice", InstanceID: 1, TaskID: 10}, // 2 more
		&flows.OutboxMessage{Kind: flows.MsgEscalation, Recipient: "bob", InstanceID: 1, TaskID: 10},
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 11}, // another task
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 2, TaskID: 20}, // another request
	)
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)

	b.render.set(1, "Approved by 李雷 at 10:32")
	upd := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: 1, TaskID: 10})[0]
	_, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Contains(t, b.outbox(t, flows.OutboxDelivered), upd)

	key := func(i int, p string) string { return fmt.Sprintf("outbox-%d-%s", ids[i], p) }
	for _, c := range []struct {
		p     *platform
		key   string
		title string
		note  string
	}{
		{b.feishu, key(0, "feishu:cli_b"), "request 1 for dave", "Approved by 李雷 at 10:32"},
		{b.feishu, key(1, "feishu"), "task 10 for alice", "Approved by 李雷 at 10:32"},
		{b.web, key(1, "web"), "task 10 for alice", "Approved by 李雷 at 10:32"},
		{b.feishu, key(2, "feishu"), "task 10 for alice", "Approved by 李雷 at 10:32"},
		{b.web, key(2, "web"), "task 10 for alice", "Approved by 李雷 at 10:32"},
		{b.web, key(3, "web"), "task 10 for bob", "Approved by 李雷 at 10:32"}, // rendered for bob
		{b.web, key(4, "web"), "task 11 for bob", ""},
		{b.web, key(5, "web"), "task 20 for bob", ""},
	} {
		msg := c.p.message(c.key)
		require.NotNil(t, msg.Card, c.key)
		require.Equal(t, c.title, msg.Card.Title, c.key)
		require.Equal(t, c.note, msg.Card.Note, c.key)
	}
}

func TestCardUpdateRetriesWhenAnUpdateFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{Backoff: []time.Duration{time.Second}})
	ids := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 1, TaskID: 10})
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	b.render.set(1, "Rejected by Bob")
	b.web.setFail(1)
	upd := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: 1, TaskID: 10})[0]
	_, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, "Rejected by Bob", b.feishu.message(fmt.Sprintf("outbox-%d-feishu", ids[0])).Card.Note)
	// The copy that failed is retried on its own; the current one is not
	// updated again.
	require.Equal(t, flows.OutboxDelivered, b.outbox(t, "")[upd].Status)
	require.Len(t, b.outbox(t, flows.OutboxPending), 1, "one retry, for the failed copy")
	feishuUpdates := b.feishu.updateCount()
	b.clock.Add(time.Second)
	_, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Empty(t, b.outbox(t, flows.OutboxPending))
	require.Equal(t, "Rejected by Bob", b.web.message(fmt.Sprintf("outbox-%d-web", ids[0])).Card.Note)
	require.Equal(t, feishuUpdates, b.feishu.updateCount(), "the copy already current was not updated again")
}

func TestRestartResumesAndSendsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The first process is stopped right after the platform accepted the
	// first message: that send is recorded (so it is not sent again), the
	// other claims are given back.
	ctx, crash := context.WithCancel(b.ctx)
	var once sync.Once
	crashing := &crashPlatform{platform: b.web, after: func() { once.Do(crash) }}
	n1 := notify.New(notify.Config{Store: b.db, Renderer: b.render, Clock: b.clock.Now, Workers: 1, Lease: time.Minute,
		Messengers: map[string]bots.Messenger{"web": crashing}})
	ids := b.enqueue(t,
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10},
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 11},
		&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 12},
	)
	_, _ = n1.DrainOnce(ctx)
	require.Len(t, b.outbox(t, flows.OutboxDelivered), 1, "the stopped process recorded the send the platform accepted")
	require.Len(t, b.web.shownKeys(), 1)

	// A new process over the same file: the stopped one gave its claims
	// back, so they are due at once, not after their minute-long lease.
	db2 := testkit.OpenSQLiteFile(t, b.path)
	n2 := notify.New(notify.Config{Store: db2, Renderer: b.render, Clock: b.clock.Now, Messengers: b.messengers()})
	got, err := n2.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 2, got, "claims given back when the first process stopped")
	require.Len(t, b.outbox(t, flows.OutboxDelivered), 3)
	var want []string
	for _, id := range ids {
		want = append(want, fmt.Sprintf("outbox-%d-web", id))
	}
	require.ElementsMatch(t, want, b.web.shownKeys(), "each message shown exactly once")
}

// crashPlatform calls after once a send was accepted.
type crashPlatform struct {
	*platform
	after func()
}

func (c *crashPlatform) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	ref, err := c.platform.Send(ctx, to, msg, key)
	c.after()
	return ref, err
}

func TestTwoNotifiersDeliverEachMessageOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const total = 60
	var ms []*flows.OutboxMessage
	for i := range total {
		ms = append(ms, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: int64(i + 1), TaskID: int64(100 + i)})
	}
	b.enqueue(t, ms...)
	db2 := testkit.OpenSQLiteFile(t, b.path)
	var wg sync.WaitGroup
	for _, db := range []flows.Store{b.db, db2} {
		n := notify.New(notify.Config{Store: db, Renderer: b.render, Clock: b.clock.Now, Messengers: b.messengers(), Batch: 7})
		wg.Go(func() {
			for {
				got, err := n.DrainOnce(b.ctx)
				if err != nil || got == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, b.outbox(t, flows.OutboxDelivered), total)
	require.Len(t, b.web.shownKeys(), total)
	require.Equal(t, total, b.web.sendCalls(), "no message was sent by both notifiers")
}

type httpRunner struct {
	mu    sync.Mutex
	fails int
	ran   []string
}

func (h *httpRunner) RunHTTP(_ context.Context, m *flows.OutboxMessage) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ran = append(h.ran, m.StepID)
	if h.fails > 0 {
		h.fails--
		return errors.New("erp unavailable")
	}
	return nil
}

func TestHTTPStepsGoToTheEngine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &httpRunner{fails: 1}
	n := b.notifier(notify.Config{HTTP: h, Backoff: []time.Duration{time.Second}})
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgHTTP, InstanceID: 1, StepID: "erp"})[0]
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	m := b.outbox(t, "")[id]
	require.Equal(t, flows.OutboxPending, m.Status)
	require.Contains(t, m.LastError, "erp unavailable")
	b.clock.Add(time.Second)
	_, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, flows.OutboxDelivered, b.outbox(t, "")[id].Status)
	require.Equal(t, []string{"erp", "erp"}, h.ran)
}

func TestRunWakesOnKick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{Poll: time.Hour}) // only a Kick can wake it
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	id := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: 1, TaskID: 10})[0]
	n.Kick()
	require.Eventually(t, func() bool {
		ms, err := b.db.Outbox(b.ctx, flows.OutboxDelivered, 10)
		return err == nil && len(ms) == 1 && ms[0].ID == id
	}, 10*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestNoStore(t *testing.T) {
	t.Parallel()
	n := notify.New(notify.Config{})
	_, err := n.DrainOnce(context.Background())
	require.ErrorContains(t, err, "no store")
}

// The real implementations fit the interfaces the notifier declares.
var (
	_ notify.Renderer   = (*bots.Bot)(nil)
	_ notify.HTTPRunner = (*flows.Engine)(nil)
)

// Defect 9: every copy of a task card shows the current state, and only
// the newest copy for a person keeps its buttons.
func TestOnlyTheNewestCopyKeepsButtons(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{})
	first := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 1, TaskID: 10})[0]
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	b.clock.Add(time.Minute)
	second := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgReminder, Recipient: "alice", InstanceID: 1, TaskID: 10})[0]
	_, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)

	b.render.set(1, "live")
	b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: 1, TaskID: 10})
	_, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)
	for _, p := range []*platform{b.feishu, b.web} {
		old := p.message(fmt.Sprintf("outbox-%d-%s", first, p.name))
		newer := p.message(fmt.Sprintf("outbox-%d-%s", second, p.name))
		require.Empty(t, old.Card.Buttons, "%s: the older copy is read-only", p.name)
		require.Equal(t, "There is a newer copy of this card; act on the newest one.", old.Card.Note, "alice reads English")
		require.Equal(t, "task 10 for alice", old.Card.Title, "and shows the same card")
		require.NotEmpty(t, newer.Card.Buttons, "%s: the newest copy keeps its buttons", p.name)
	}
}

// Item 5 of issue 10: the applicant's request cards follow the task
// cards' rule: every copy shows the current state, only the newest copy
// for a person keeps Urge / Withdraw.
func TestOnlyTheNewestRequestCardKeepsButtons(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{})
	var ids []int64
	for range 3 { // the confirmation, then two notices of the same request
		ids = append(ids, b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgSubmitted, Recipient: "dave", InstanceID: 1})[0])
		_, err := n.DrainOnce(b.ctx)
		require.NoError(t, err)
		b.clock.Add(time.Minute)
	}
	other := b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgSubmitted, Recipient: "dave", InstanceID: 2})[0]
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)

	b.render.set(1, "live")
	b.render.set(2, "live")
	b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: 1, TaskID: 10})
	_, err = n.DrainOnce(b.ctx)
	require.NoError(t, err)
	for i, id := range ids {
		msg := b.feishu.message(fmt.Sprintf("outbox-%d-feishu:cli_b", id))
		require.Equal(t, "request 1 for dave", msg.Card.Title, "copy %d shows the request", i)
		if i < len(ids)-1 {
			require.Empty(t, msg.Card.Buttons, "copy %d is older: read-only", i)
			require.Contains(t, msg.Card.Note, "已有更新的一份", "copy %d says where to act (dave reads Chinese)", i)
		} else {
			require.NotEmpty(t, msg.Card.Buttons, "the newest copy keeps its buttons")
		}
	}
	msg := b.feishu.message(fmt.Sprintf("outbox-%d-feishu:cli_b", other))
	require.Empty(t, msg.Card.Note, "another request's card is not touched")
}

// Copies stored in the same instant (a busy second, or a frozen clock):
// the newest is the one stored last, whatever its platform message id
// says when compared as text ("outbox-10-…" sorts before "outbox-9-…").
// Before, the tie went to the larger id as text, so the applicant's
// newest card lost its buttons (the playground's Cancel button gone).
func TestNewestCopyOfTheSameInstantIsTheLastStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.notifier(notify.Config{})
	var ids []int64
	for range 10 { // ids 1 to 10: "10" sorts first as text
		ids = append(ids, b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgSubmitted, Recipient: "dave", InstanceID: 1})[0])
		_, err := n.DrainOnce(b.ctx)
		require.NoError(t, err)
	}
	b.render.set(1, "live")
	b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: 1, TaskID: 10})
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	for i, id := range ids {
		msg := b.feishu.message(fmt.Sprintf("outbox-%d-feishu:cli_b", id))
		if i < len(ids)-1 {
			require.Empty(t, msg.Card.Buttons, "copy %d (message %d) is older: read-only", i, id)
		} else {
			require.NotEmpty(t, msg.Card.Buttons, "the last copy stored (message %d) keeps its buttons", id)
		}
	}
}
