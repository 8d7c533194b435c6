package schedule_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

var shanghai, london = mustZone("Asia/Shanghai"), mustZone("Europe/London")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// now is 09:00 in Shanghai on 2026-11-26 (01:00 UTC).
var now = time.Date(2026, 11, 26, 9, 0, 0, 0, shanghai)

// sh returns a time in Shanghai relative to now's day.
func sh(dayOffset, hour, minute int) time.Time {
	return time.Date(2026, 11, 26+dayOffset, hour, minute, 0, 0, shanghai)
}

func ptr(t time.Time) *time.Time { return &t }

// ticker is a fake engine Tick that can hold a call until released.
type ticker struct {
	mu      sync.Mutex
	calls   []time.Time
	entered chan struct{} // receives on each call, if set
	release chan struct{} // a call waits for it, if set
}

func (k *ticker) Tick(ctx context.Context, now time.Time) (flows.TickResult, error) {
	k.mu.Lock()
	k.calls = append(k.calls, now)
	entered, release := k.entered, k.release
	k.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return flows.TickResult{}, ctx.Err()
		}
	}
	return flows.TickResult{Reminded: 1}, nil
}

func (k *ticker) count() int { k.mu.Lock(); defer k.mu.Unlock(); return len(k.calls) }

type bundle struct {
	ctx    context.Context
	path   string
	db     *sqlite.DB
	clock  *testkit.Clock
	ticker *ticker
	// numbers of seeded requests by name
	numbers map[string]string
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{ctx: ctx, path: filepath.Join(t.TempDir(), "flowbot.db"), clock: testkit.NewClock(now), ticker: &ticker{}, numbers: map[string]string{}}
	b.db = testkit.OpenSQLiteFile(t, b.path)
	users := []*flows.User{
		{ID: "ceo", Name: "王总", Dept: "exec", Roles: []string{"admin"}, Locale: "zh-CN", TZ: "Asia/Shanghai"},
		{ID: "cto", Name: "李雷", Dept: "eng", Manager: "ceo", Locale: "zh-CN", TZ: "Asia/Shanghai"},
		{ID: "dev1", Name: "韩梅梅", Dept: "eng", Manager: "cto"},
		{ID: "dev2", Name: "Tom", Dept: "eng", Manager: "cto"},
		{ID: "hr1", Name: "刘人事", Dept: "hr", Manager: "ceo"},
		{ID: "uklead", Name: "Liz", Dept: "uk", Manager: "ceo", Locale: "en", TZ: "Europe/London"},
		{ID: "ukdev", Name: "Sam", Dept: "uk", Manager: "uklead", TZ: "Europe/London"},
	}
	depts := []*flows.Department{
		{ID: "exec", Name: "总经办", Head: "ceo"},
		{ID: "eng", Name: "研发部", Head: "cto", Parent: "exec"},
		{ID: "hr", Name: "人事部", Head: "hr1", Parent: "exec"},
		{ID: "uk", Name: "英国", Parent: "exec"}, // no head: uklead manages by reporting line
	}
	require.NoError(t, b.db.ReplaceDirectory(ctx, users, depts))
	return b
}

// seedHistory files the requests the digest tests expect:
//   - A: dev1, yesterday 10:00, mgr (cto) 1h, hr (hr1) 3h, approved 14:00
//   - B: dev2, yesterday 09:30, rejected by cto 11:30
//   - C: dev1, yesterday 16:00, waits for cto, reminder due 17:00 (overdue)
//   - D: dev2, three days ago 08:00, waits for cto, no deadline (oldest)
//   - E: ukdev, yesterday 10:00 London, waits for uklead
func (b *bundle) seedHistory(t testing.TB) {
	t.Helper()
	b.seed(t, "A", &flows.Instance{FlowID: "leave", Applicant: "dev1", Status: flows.StatusApproved, CreatedAt: sh(-1, 10, 0), ClosedAt: ptr(sh(-1, 14, 0))},
		&flows.Task{StepID: "mgr", Assignee: "cto", Status: flows.TaskApproved, CreatedAt: sh(-1, 10, 0), StartedAt: ptr(sh(-1, 10, 0)), DecidedAt: ptr(sh(-1, 11, 0))},
		&flows.Task{StepID: "hr", Assignee: "hr1", Status: flows.TaskApproved, CreatedAt: sh(-1, 11, 0), StartedAt: ptr(sh(-1, 11, 0)), DecidedAt: ptr(sh(-1, 14, 0))})
	b.seed(t, "B", &flows.Instance{FlowID: "leave", Applicant: "dev2", Status: flows.StatusRejected, CreatedAt: sh(-1, 9, 30), ClosedAt: ptr(sh(-1, 11, 30))},
		&flows.Task{StepID: "mgr", Assignee: "cto", Status: flows.TaskRejected, CreatedAt: sh(-1, 9, 30), StartedAt: ptr(sh(-1, 9, 30)), DecidedAt: ptr(sh(-1, 11, 30))})
	b.seed(t, "C", &flows.Instance{FlowID: "leave", Applicant: "dev1", Status: flows.StatusPending, CreatedAt: sh(-1, 16, 0)},
		&flows.Task{StepID: "mgr", Assignee: "cto", Status: flows.TaskPending, CreatedAt: sh(-1, 16, 0), StartedAt: ptr(sh(-1, 16, 0)), RemindAt: ptr(sh(-1, 17, 0)), DueAt: ptr(sh(-1, 17, 0))})
	b.seed(t, "D", &flows.Instance{FlowID: "expense", Applicant: "dev2", Status: flows.StatusPending, CreatedAt: sh(-3, 8, 0)},
		&flows.Task{StepID: "boss", Assignee: "cto", Status: flows.TaskPending, CreatedAt: sh(-3, 9, 0), StartedAt: ptr(sh(-3, 9, 0))})
	ukYesterday := time.Date(2026, 11, 25, 10, 0, 0, 0, london)
	b.seed(t, "E", &flows.Instance{FlowID: "leave", Applicant: "ukdev", Status: flows.StatusPending, CreatedAt: ukYesterday},
		&flows.Task{StepID: "mgr", Assignee: "uklead", Status: flows.TaskPending, CreatedAt: ukYesterday, StartedAt: ptr(ukYesterday)})
}

func (b *bundle) seed(t testing.TB, name string, in *flows.Instance, tasks ...*flows.Task) {
	t.Helper()
	require.NoError(t, b.db.Update(b.ctx, func(tx flows.Tx) error {
		in.Number = "REQ-" + name
		in.CreatedAt = in.CreatedAt.UTC()
		if err := tx.CreateInstance(in); err != nil {
			return err
		}
		for _, tk := range tasks {
			tk.InstanceID = in.ID
			if err := tx.CreateTask(tk); err != nil {
				return err
			}
		}
		if in.ClosedAt != nil {
			return tx.AppendEvent(&flows.Event{InstanceID: in.ID, FlowID: in.FlowID, Type: flows.EvCompleted, Actor: "system", At: *in.ClosedAt})
		}
		return nil
	}))
	b.numbers[name] = in.Number
}

func (b *bundle) scheduler(cfg schedule.Config) *schedule.Scheduler {
	if cfg.Store == nil {
		cfg.Store = b.db
	}
	if cfg.Deduper == nil {
		cfg.Deduper = b.db.Deduper()
	}
	if cfg.Locker == nil {
		cfg.Locker = b.db.Locker()
	}
	if cfg.Ticker == nil {
		cfg.Ticker = b.ticker
	}
	if cfg.Clock == nil {
		cfg.Clock = b.clock.Now
	}
	if cfg.StepName == nil {
		cfg.StepName = func(_ context.Context, flow, step string) (flowdef.Text, bool) {
			if flow == "leave" && step == "hr" {
				return flowdef.Text{ZH: "人事审批", EN: "HR review"}, true
			}
			return flowdef.Text{}, false
		}
	}
	return schedule.New(cfg)
}

// texts returns the text messages in the outbox by recipient, oldest first.
func (b *bundle) texts(t *testing.T) map[string][]flowdef.Text {
	t.Helper()
	ms, err := b.db.Outbox(b.ctx, "", 1000)
	require.NoError(t, err)
	out := map[string][]flowdef.Text{}
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		require.Equal(t, flows.MsgText, m.Kind)
		require.Equal(t, flows.OutboxPending, m.Status)
		var d struct {
			Text flowdef.Text `json:"text"`
		}
		require.NoError(t, json.Unmarshal(m.Data, &d))
		out[m.Recipient] = append(out[m.Recipient], d.Text)
	}
	return out
}
