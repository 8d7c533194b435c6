package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

var errPlatformDown = errors.New("platform down")

// platform is a fake IM platform: it shows a message once per idempotency
// key, as the real ones do, and fails on demand.
type platform struct {
	name string
	mu   sync.Mutex
	// fail makes the next n Sends/Updates fail (-1: all).
	fail    int
	calls   int               // Send calls, accepted or not
	shown   map[string]string // key -> ref
	msgs    map[string]bots.Message
	order   []string // keys in the order shown
	updates map[string]int
}

func newPlatform(name string) *platform {
	return &platform{name: name, shown: map[string]string{}, msgs: map[string]bots.Message{}, updates: map[string]int{}}
}

func (p *platform) failing() error {
	if p.fail == 0 {
		return nil
	}
	if p.fail > 0 {
		p.fail--
	}
	return fmt.Errorf("%s: %w", p.name, errPlatformDown)
}

func (p *platform) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if to.Platform != p.name || to.UserID == "" {
		return "", fmt.Errorf("%s: bad recipient %+v", p.name, to)
	}
	if err := p.failing(); err != nil {
		return "", err
	}
	if ref, ok := p.shown[key]; ok {
		return ref, nil
	}
	ref := fmt.Sprintf("%s-msg-%d", p.name, len(p.shown)+1)
	p.shown[key] = ref
	p.msgs[ref] = msg
	p.order = append(p.order, key)
	return ref, nil
}

func (p *platform) Update(_ context.Context, ref string, msg bots.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.failing(); err != nil {
		return err
	}
	if _, ok := p.msgs[ref]; !ok {
		return fmt.Errorf("%s: unknown message %s", p.name, ref)
	}
	p.msgs[ref] = msg
	p.updates[ref]++
	return nil
}

func (p *platform) setFail(n int) { p.mu.Lock(); p.fail = n; p.mu.Unlock() }

func (p *platform) shownKeys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.order...)
}

func (p *platform) message(key string) bots.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.msgs[p.shown[key]]
}

func (p *platform) sendCalls() int { p.mu.Lock(); defer p.mu.Unlock(); return p.calls }

// renderer renders a card whose note is the request's state, which tests
// change to see card updates.
type renderer struct {
	mu    sync.Mutex
	state map[int64]string // instance id -> note
}

func (r *renderer) set(id int64, s string) { r.mu.Lock(); r.state[id] = s; r.mu.Unlock() }

func (r *renderer) Render(_ context.Context, m *flows.OutboxMessage, to *flows.User) (bots.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case m.Kind == flows.MsgText:
		var d struct {
			Text map[string]string `json:"text"`
		}
		if err := json.Unmarshal(m.Data, &d); err != nil {
			return bots.Message{}, err
		}
		if to.Locale == "en" {
			return bots.Message{Text: d.Text["en"]}, nil
		}
		return bots.Message{Text: d.Text["zh"]}, nil
	case m.Kind == flows.MsgCardUpdate && m.TaskID == 0:
		return bots.Message{}, errors.New("no task") // as bots.Render does today
	case m.Kind == flows.MsgSubmitted:
		c := &bots.Card{Title: fmt.Sprintf("request %d for %s", m.InstanceID, to.ID), Note: r.state[m.InstanceID]}
		if c.Note == "live" { // the applicant can still urge or withdraw
			c.Buttons = []bots.Button{{Label: "Withdraw", Action: "withdraw"}}
		}
		return bots.Message{Card: c}, nil
	}
	c := &bots.Card{Title: fmt.Sprintf("task %d for %s", m.TaskID, to.ID), Note: r.state[m.InstanceID]}
	if c.Note == "live" { // a card one can act on
		c.Buttons = []bots.Button{{Label: "Approve", Action: "approve"}}
	}
	return bots.Message{Card: c}, nil
}

type bundle struct {
	ctx    context.Context
	path   string
	db     *sqlite.DB
	clock  *testkit.Clock
	feishu *platform
	web    *platform
	render *renderer
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{ctx: ctx, path: filepath.Join(t.TempDir(), "flowbot.db"), clock: testkit.NewClock(t0),
		feishu: newPlatform("feishu"), web: newPlatform("web"), render: &renderer{state: map[int64]string{}}}
	b.db = testkit.OpenSQLiteFile(t, b.path)
	users := []*flows.User{
		{ID: "alice", Name: "Alice", Locale: "en", Platforms: map[string]string{"feishu": "ou_alice", "web": "alice"}},
		{ID: "bob", Name: "鲍勃", Locale: "zh-CN", Platforms: map[string]string{"web": "bob"}},
		{ID: "carol", Name: "Carol", Platforms: map[string]string{"teams": "29:carol"}}, // no messenger for teams
		{ID: "dave", Name: "Dave", Platforms: map[string]string{"feishu:cli_b": "ou_dave"}},
	}
	require.NoError(t, b.db.ReplaceDirectory(ctx, users, nil))
	return b
}

func (b *bundle) messengers() map[string]bots.Messenger {
	return map[string]bots.Messenger{"feishu": b.feishu, "web": b.web}
}

// enqueue writes messages as the engine does and returns their ids.
func (b *bundle) enqueue(t *testing.T, ms ...*flows.OutboxMessage) []int64 {
	t.Helper()
	var ids []int64
	require.NoError(t, b.db.Update(b.ctx, func(tx flows.Tx) error {
		for _, m := range ms {
			m.Status, m.NextAt, m.CreatedAt = flows.OutboxPending, b.clock.Now(), b.clock.Now()
			if err := tx.Enqueue(m); err != nil {
				return err
			}
			ids = append(ids, m.ID)
		}
		return nil
	}))
	return ids
}

func (b *bundle) outbox(t *testing.T, status flows.OutboxStatus) map[int64]*flows.OutboxMessage {
	t.Helper()
	ms, err := b.db.Outbox(b.ctx, status, 1000)
	require.NoError(t, err)
	out := map[int64]*flows.OutboxMessage{}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out
}

// metrics counts deliveries per platform.
type metrics struct {
	mu                sync.Mutex
	delivered, failed map[string]int
}

func newMetrics() *metrics            { return &metrics{delivered: map[string]int{}, failed: map[string]int{}} }
func (m *metrics) Delivered(p string) { m.mu.Lock(); m.delivered[p]++; m.mu.Unlock() }
func (m *metrics) Failed(p string)    { m.mu.Lock(); m.failed[p]++; m.mu.Unlock() }
func (m *metrics) get(p string) (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.delivered[p], m.failed[p]
}

// updateCount is the number of updates applied to every message.
func (p *platform) updateCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.updates {
		n += c
	}
	return n
}
