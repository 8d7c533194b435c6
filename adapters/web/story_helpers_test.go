package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

// The people of the stories, from examples/org.yaml: 韩梅梅 reports to 李雷;
// 陈静 (HR) approves leave of more than 3 days; 李雷 reports to 王总.
const (
	employee = "hanmeimei"
	manager  = "lilei"
	hr       = "chenjing"
	boss     = "wangzong" // 王总, 李雷's manager: overdue leave escalates to him
)

// story wires the real pieces behind the playground: SQLite store, engine,
// bot, and a tiny outbox drain standing in for the notifier.
type story struct {
	ctx      context.Context
	db       *sqlite.DB
	engine   *flows.Engine
	bot      *bots.Bot
	clock    *testkit.Clock
	adapter  *web.Adapter
	srv      *httptest.Server
	notifier *notify.Notifier
}

func setupStory(t *testing.T) *story {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	// Thursday 10:00 in Shanghai, the example calendar's zone: deadlines
	// count working time from here (09:00-18:00, Monday to Friday).
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	s := &story{ctx: ctx, db: db, clock: testkit.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai))}
	s.engine = flows.New(flows.Config{Store: db, Clock: s.clock, Calendar: testkit.ExampleCalendar(t), Logger: slog.New(slog.DiscardHandler)})
	// The example company and flows, as `flowbot serve` runs with no config.
	testkit.LoadExampleOrg(t, ctx, db)
	testkit.PublishExampleFlows(t, ctx, s.engine)
	s.bot = bots.New(bots.Config{
		Engine: s.engine, Store: db, State: db.StateStore(), Dedupe: db.Deduper(),
		Logger: slog.New(slog.DiscardHandler),
	})
	s.adapter = web.New(web.Config{
		Handler: s.bot, Demo: true, Now: s.clock.Now, Logger: slog.New(slog.DiscardHandler),
		Users: func(ctx context.Context) ([]web.User, error) {
			us, err := db.Users(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]web.User, 0, len(us))
			for _, u := range us {
				dept := u.Dept
				if d, err := db.Department(ctx, u.Dept); err == nil {
					dept = d.Name
				}
				out = append(out, web.User{ID: u.ID, Name: u.Name, Department: dept, Roles: u.Roles, Locale: u.Locale, TZ: u.TZ})
			}
			return out, nil
		},
		Advance: func(ctx context.Context, d time.Duration) (time.Time, error) {
			now := s.clock.Add(d)
			if _, err := s.engine.Tick(ctx, now); err != nil {
				return now, err
			}
			return now, s.drain(ctx)
		},
	})
	s.notifier = notify.New(notify.Config{
		Store: db, Renderer: s.bot, HTTP: s.engine, Clock: s.clock.Now,
		Messengers: map[string]bots.Messenger{web.Platform: s.adapter},
		Logger:     slog.New(slog.DiscardHandler),
	})
	s.srv = httptest.NewServer(s.adapter.Handler())
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() {
		// What the notifier did, for a failed story: a message not on the
		// page was either never delivered or delivered and changed since.
		if !t.Failed() {
			return
		}
		for _, st := range []flows.OutboxStatus{flows.OutboxPending, flows.OutboxDelivered, flows.OutboxFailed} {
			ms, _ := db.Outbox(context.Background(), st, 1000)
			for _, m := range ms {
				t.Logf("outbox %d %s to=%s inst=%d task=%d status=%s attempts=%d next=%s err=%q data=%.200s", m.ID, m.Kind, m.Recipient, m.InstanceID, m.TaskID, m.Status, m.Attempts, m.NextAt.Format(time.RFC3339Nano), m.LastError, m.Data)
			}
		}
		t.Logf("clock %s", s.clock.Now().Format(time.RFC3339Nano))
	})
	return s
}

// drain delivers every due outbox message through the real notifier
// (bots/notify) and the adapter; it reports the first delivery error.
func (s *story) drain(ctx context.Context) error {
	for {
		n, err := s.notifier.DrainOnce(ctx)
		if err != nil {
			return fmt.Errorf("drain outbox: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

// drainLoop drains the outbox until the test ends (the browser story's
// notifier).
func (s *story) drainLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := s.drain(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("drain outbox: %v", err)
					return
				}
			}
		}
	}()
}
