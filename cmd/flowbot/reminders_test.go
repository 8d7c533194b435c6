package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/flows"
)

// feishuUUID is the uuid the Feishu adapter gives the message of key.
func feishuUUID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// remindersRun is what runReminders measured.
type remindersRun struct {
	took     time.Duration // clock moved -> the fake has every reminder
	limited  int           // message calls the fake refused over its quota (the adapter retried them)
	newCards int           // messages the fake received after the clock moved
}

// writeCompany writes a directory of approvers managers, each with
// perManager employees, every one on Feishu only, and returns its path.
func writeCompany(tb testing.TB, dir string, managers, perManager int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("departments:\n  - {id: top, name: 总部, name_en: Head office, head: boss}\n")
	for m := range managers {
		fmt.Fprintf(&b, "  - {id: d%d, name: 部门%d, name_en: Dept %d, head: m%d, parent: top}\n", m, m, m, m)
	}
	b.WriteString("users:\n  - {id: boss, name: Boss, dept: top, roles: [admin, employee], locale: en, tz: UTC, platforms: {feishu: ou_boss}}\n")
	for m := range managers {
		fmt.Fprintf(&b, "  - {id: m%d, name: Manager %d, dept: d%d, manager: boss, roles: [employee], locale: en, tz: UTC, platforms: {feishu: ou_m%d}}\n", m, m, m, m)
		for e := range perManager {
			fmt.Fprintf(&b, "  - {id: e%d_%d, name: Employee %d-%d, dept: d%d, manager: m%d, roles: [employee], locale: en, tz: UTC, platforms: {feishu: ou_e%d_%d}}\n", m, e, m, e, m, m, m, e)
		}
	}
	path := filepath.Join(dir, "company.yaml")
	require.NoError(tb, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// runReminders makes n expense tasks (one per claim, spread over managers
// approvers) due at once and measures until the Feishu fake, enforcing
// quota, has received every reminder card: the whole product (engine on
// SQLite, scheduler, outbox, notifier, Feishu adapter with its limiter at
// the rate given) against the fake. It fails if a reminder is missing or
// doubled, or a task was reminded twice.
//
// The n task cards of the submissions are taken off the outbox as
// delivered before the server starts, so that only the reminders go out
// under the quota.
func runReminders(tb testing.TB, n, managers int, quota feishutest.Quota, rate FeishuRate) remindersRun {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	fake := feishutest.NewServer()
	tb.Cleanup(fake.Close)
	cfg := testConfig(dir)
	cfg.Directory.File = writeCompany(tb, dir, managers, 2)
	cfg.Scheduler.Tick = "@every 1s"
	cfg.Notifier.Workers = 16
	feishuApp(&cfg, fake)
	cfg.Feishu.Rate = rate
	cfg.Playground.Demo = false // the engine clock is moved by the test, not the playground
	a, err := newApp(ctx, cfg, &syncBuffer{})
	require.NoError(tb, err)
	tb.Cleanup(a.close)

	// n claims, 16 at a time; the notifier is not running yet.
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for {
				k := next.Add(1) - 1
				if k >= int64(n) {
					return
				}
				m, e := k%int64(managers), (k/int64(managers))%2
				_, err := a.engine.Submit(ctx, flows.SubmitRequest{Actor: fmt.Sprintf("e%d_%d", m, e), FlowID: "expense", Values: map[string]any{
					"amount": 100 + k%900, "category": "travel", "description": "trip " + strconv.FormatInt(k, 10),
				}})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(tb, err)
	}
	for {
		ms, err := a.store.ClaimOutbox(ctx, a.clock.Now(), 500, time.Minute)
		require.NoError(tb, err)
		if len(ms) == 0 {
			break
		}
		for _, m := range ms {
			require.NoError(tb, a.store.MarkDelivered(ctx, m.ID, a.clock.Now()))
		}
	}
	pending, err := a.store.Tasks(ctx, flows.TaskFilter{Status: []flows.TaskStatus{flows.TaskPending}, Limit: n + 1})
	require.NoError(tb, err)
	require.Len(tb, pending, n)

	// Serve: the scheduler ticks every second, the notifier drains.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	hookFeishu(fake, "cli_hardening", "http://"+ln.Addr().String())
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.serve(sctx, ln) }()
	tb.Cleanup(func() { cancel(); <-done })

	before := len(fake.Messages())
	fake.EnforceQuota(quota)
	start := time.Now()
	a.clock.Advance(4 * 24 * time.Hour) // past 8 working hours from any day: every task due
	reminded := func() int {
		ms, err := a.store.Outbox(ctx, flows.OutboxDelivered, 4*n)
		require.NoError(tb, err)
		c := 0
		for _, m := range ms {
			if m.Kind == flows.MsgReminder {
				c++
			}
		}
		return c
	}
	deadline := time.Now().Add(time.Duration(n/10+120) * time.Second)
	for len(fake.Messages())-before < n || reminded() < n {
		require.True(tb, time.Now().Before(deadline), "only %d of %d reminders at the fake", len(fake.Messages())-before, n)
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)

	// None dropped, none doubled: one reminder per task in the outbox, one
	// card at the fake per reminder, nothing else sent.
	ms, err := a.store.Outbox(ctx, "", 4*n)
	require.NoError(tb, err)
	perTask := map[int64]int{}
	keys := map[string]bool{}
	for _, m := range ms {
		if m.Kind == flows.MsgReminder {
			require.Equal(tb, flows.OutboxDelivered, m.Status)
			perTask[m.TaskID]++
			keys[feishuUUID("outbox-"+strconv.FormatInt(m.ID, 10)+"-feishu:cli_hardening")] = true
			keys[feishuUUID("outbox-"+strconv.FormatInt(m.ID, 10)+"-feishu")] = true
		}
	}
	require.Len(tb, perTask, n, "every task reminded")
	for id, c := range perTask {
		require.Equal(tb, 1, c, "task %d reminded %d times", id, c)
	}
	got := fake.Messages()[before:]
	seen := map[string]bool{}
	for _, m := range got {
		require.True(tb, keys[m.UUID], "a message that is no reminder: %s", m.UUID)
		require.False(tb, seen[m.UUID], "reminder %s shown twice", m.UUID)
		seen[m.UUID] = true
	}
	require.Len(tb, seen, n)
	return remindersRun{took: took, limited: fake.Limited(), newCards: len(got)}
}

// TestRemindersWithinQuota makes 150 tasks due at once with the Feishu
// fake enforcing a quota of 20 a second and 600 a minute (5 a second per
// chat) and the adapter told the same: every reminder arrives once, and
// the time it takes is set by the quota, not by the server.
func TestRemindersWithinQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("about 15 s of sending at a reduced quota")
	}
	t.Parallel()
	r := runReminders(t, 150, 30, feishutest.Quota{PerSecond: 20, PerMinute: 600, ChatPerSecond: 5},
		FeishuRate{AppPerSecond: 20, AppPerMinute: 600, ChatPerSecond: 5})
	// 600 a minute lets 150 through in no less than ~14 s (a burst of 10,
	// then 590/60 a second).
	require.Greater(t, r.took, 12*time.Second, "faster than the quota allows")
	t.Logf("150 reminders in %s, %d calls refused over the quota", r.took.Round(time.Millisecond), r.limited)
}

// BenchmarkReminders10k makes 10,000 tasks due at once (100 approvers)
// and measures until the Feishu fake, enforcing Feishu's standard quota
// (50 a second, 1,000 a minute per app, 5 a second per chat), received
// every reminder, none dropped or doubled. The adapter runs with its
// defaults, which are that quota.
//
//	go test ./cmd/flowbot -run '^$' -bench Reminders10k -benchtime 1x -timeout 30m
func BenchmarkReminders10k(b *testing.B) {
	for range b.N {
		r := runReminders(b, 10000, 100, feishutest.FeishuQuota(), FeishuRate{})
		b.ReportMetric(r.took.Seconds(), "s-to-last")
		b.ReportMetric(10000/r.took.Seconds(), "reminders/s")
		b.ReportMetric(float64(r.limited), "refused-429")
	}
}
