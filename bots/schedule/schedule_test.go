package schedule_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

func TestDigestContent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	kicked := 0
	s := b.scheduler(schedule.Config{Kick: func() { kicked++ }})
	require.NoError(t, s.RunDue(b.ctx, now))

	texts := b.texts(t)
	require.Len(t, texts["cto"], 1, "cto heads eng")
	en, zh := texts["cto"][0].EN, texts["cto"][0].ZH
	require.Contains(t, en, "Daily approval digest · 2026-11-26")
	require.Contains(t, en, "Waiting for you: 2, the oldest (REQ-D) for 3d")
	require.Contains(t, en, "Overdue in your departments: 1")
	require.Contains(t, en, "Yesterday: 3 submitted, 1 approved, 1 rejected")
	require.Contains(t, en, "Median time to decision, last 30 days: 3h (2 requests)") // 4h and 2h
	require.Contains(t, en, `Slowest step: "HR review", median wait 3h`)
	require.Contains(t, zh, "每日审批摘要 · 2026-11-26")
	require.Contains(t, zh, "待我审批：2 条，最早的 REQ-D 已等待 3 天")
	require.Contains(t, zh, "我部门的超时审批：1 条")
	require.Contains(t, zh, "昨日：提交 3，通过 1，驳回 1")
	require.Contains(t, zh, "最慢的环节：「人事审批」")

	// ceo heads exec, which contains eng and uk: E (10:00 London = 18:00
	// Shanghai) was filed yesterday too, in ceo's time zone.
	require.Len(t, texts["ceo"], 1)
	require.Contains(t, texts["ceo"][0].EN, "Waiting for you: none")
	require.Contains(t, texts["ceo"][0].EN, "Overdue in your departments: 1")
	require.Contains(t, texts["ceo"][0].EN, "Yesterday: 4 submitted, 1 approved, 1 rejected")

	// hr1 heads hr, where nothing happened and nothing waits: no digest.
	require.NotContains(t, texts, "hr1")
	// uklead's 09:00 in London is eight hours later.
	require.NotContains(t, texts, "uklead")
	require.Equal(t, 2, kicked, "the notifier is woken after the tick that reminded and after the digests")
}

func TestDigestNotSentTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	s1 := b.scheduler(schedule.Config{})
	require.NoError(t, s1.RunDue(b.ctx, now))
	require.NoError(t, s1.RunDue(b.ctx, now.Add(time.Minute)))
	// Another replica, or this one after a restart, over the same store.
	db2 := testkit.OpenSQLiteFile(t, b.path)
	s2 := b.scheduler(schedule.Config{Store: db2, Deduper: db2.Deduper(), Locker: db2.Locker()})
	require.NoError(t, s2.RunDue(b.ctx, now.Add(30*time.Minute))) // due again for a fresh scheduler
	texts := b.texts(t)
	require.Len(t, texts["cto"], 1)
	require.Len(t, texts["ceo"], 1)
}

// Redis restarted empty: the last runs and the dedupe keys are gone, and
// the digest sent half an hour ago lies within the catch-up window again.
// The database still knows it was sent.
func TestDigestNotSentTwiceAfterRedisLostItsKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	s1 := b.scheduler(schedule.Config{Deduper: testkit.NewMemDedupe(), State: testkit.NewMemState(time.Now)})
	require.NoError(t, s1.RunDue(b.ctx, now))
	require.Len(t, b.texts(t)["cto"], 1)
	for _, report := range []bool{false, true} {
		s2 := b.scheduler(schedule.Config{Deduper: testkit.NewMemDedupe(), State: testkit.NewMemState(time.Now)})
		at := now.Add(30 * time.Minute)
		if report {
			at = time.Date(2026, 12, 1, 9, 10, 0, 0, shanghai)
			s1 = b.scheduler(schedule.Config{Deduper: testkit.NewMemDedupe(), DigestSpec: "0 9 * * 0"})
			require.NoError(t, s1.RunDue(b.ctx, at.Add(-5*time.Minute)))
			s2 = b.scheduler(schedule.Config{Deduper: testkit.NewMemDedupe(), DigestSpec: "0 9 * * 0"})
		}
		require.NoError(t, s2.RunDue(b.ctx, at))
	}
	texts := b.texts(t)
	require.Len(t, texts["cto"], 1, "got %d digests for cto, want 1", len(texts["cto"]))
	require.Len(t, texts["ceo"], 2, "one digest and one monthly report")
	require.Contains(t, texts["ceo"][1].EN, "Process health report")
}

func TestDigestConcurrentReplicasSendOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	var wg sync.WaitGroup
	for range 4 {
		db := testkit.OpenSQLiteFile(t, b.path)
		s := b.scheduler(schedule.Config{Store: db, Deduper: db.Deduper(), Locker: db.Locker(), Ticker: &ticker{}})
		wg.Go(func() { require.NoError(t, s.RunDue(b.ctx, now)) })
	}
	wg.Wait()
	texts := b.texts(t)
	require.Len(t, texts["cto"], 1)
	require.Len(t, texts["ceo"], 1)
}

func TestRunDueAfterMovingTheClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	s := b.scheduler(schedule.Config{})

	early := now.Add(-time.Minute) // 08:59 in Shanghai
	require.NoError(t, s.RunDue(b.ctx, early))
	require.Empty(t, b.texts(t), "nobody's 09:00 has come")

	b.clock.Set(early)
	b.clock.Add(24 * time.Hour) // the playground's "+1 day": 08:59 on the 27th
	require.NoError(t, s.RunDue(b.ctx, b.clock.Now()))
	texts := b.texts(t)
	require.Len(t, texts["cto"], 1, "the 26th's digest (09:00 Shanghai lies in the skipped day)")
	require.Contains(t, texts["cto"][0].EN, "2026-11-26")
	require.Len(t, texts["uklead"], 1, "09:00 London on the 26th lies in the skipped day too")
	require.Contains(t, texts["uklead"][0].EN, "Waiting for you: 1, the oldest (REQ-E)")

	b.clock.Add(24 * time.Hour)
	require.NoError(t, s.RunDue(b.ctx, b.clock.Now()))
	texts = b.texts(t)
	require.Len(t, texts["cto"], 2)
	require.Contains(t, texts["cto"][1].EN, "2026-11-27")
	require.Contains(t, texts["cto"][1].EN, "Yesterday: 0 submitted")
	require.Equal(t, 3, b.ticker.count(), "each RunDue ticks")
	require.Equal(t, b.clock.Now(), b.ticker.calls[2], "Tick gets the moved time")
}

func TestRestartResumesFromTheLastRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	early := now.Add(-time.Minute)
	s1 := b.scheduler(schedule.Config{State: b.db.StateStore()})
	require.NoError(t, s1.RunDue(b.ctx, early))
	require.Empty(t, b.texts(t))

	// Down from 08:59 to 10:30: beyond the 1h catch-up, but the last run
	// is known, so 09:00 lies between it and now.
	late := now.Add(90 * time.Minute)
	forgetful := b.scheduler(schedule.Config{})
	require.NoError(t, forgetful.RunDue(b.ctx, late))
	require.Empty(t, b.texts(t), "without a last run only the catch-up window counts")
	s2 := b.scheduler(schedule.Config{State: b.db.StateStore()})
	require.NoError(t, s2.RunDue(b.ctx, late))
	require.Len(t, b.texts(t)["cto"], 1)
}

func TestJobRunsOnOneReplica(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k := &ticker{entered: make(chan struct{}, 1), release: make(chan struct{})}
	s1 := b.scheduler(schedule.Config{Ticker: k})
	db2 := testkit.OpenSQLiteFile(t, b.path)
	s2 := b.scheduler(schedule.Config{Store: db2, Deduper: db2.Deduper(), Locker: db2.Locker(), Ticker: k})

	done := make(chan error, 1)
	go func() { done <- s1.RunDue(b.ctx, now) }()
	<-k.entered // s1 holds the tick lock and is ticking
	require.NoError(t, s2.RunDue(b.ctx, now))
	require.Equal(t, 1, k.count(), "the second replica skipped the tick")
	close(k.release)
	require.NoError(t, <-done)

	require.NoError(t, s2.RunDue(b.ctx, now.Add(30*time.Second)))
	<-k.entered
	require.Equal(t, 2, k.count(), "the lock was released after the job")
}

func TestDigestWaitsForTheLock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	ok, err := b.db.Locker().TryLock(b.ctx, "flowbot:job:digest", "other-replica", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	s := b.scheduler(schedule.Config{})
	require.NoError(t, s.RunDue(b.ctx, now))
	require.Empty(t, b.texts(t), "the other replica runs the digest")
	require.NoError(t, b.db.Locker().Unlock(b.ctx, "flowbot:job:digest", "other-replica"))
	require.NoError(t, s.RunDue(b.ctx, now.Add(time.Minute)))
	require.Len(t, b.texts(t)["cto"], 1)
}

func TestMonthlyReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedHistory(t)
	s := b.scheduler(schedule.Config{DigestSpec: "0 9 * * 0"}) // digests on Sundays only
	first := time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai)
	require.NoError(t, s.RunDue(b.ctx, first))
	texts := b.texts(t)
	require.Len(t, texts["ceo"], 1, "the admin")
	require.NotContains(t, texts, "cto")
	en := texts["ceo"][0].EN
	require.Contains(t, en, "Process health report · 2026-11")
	require.Contains(t, en, "5 submitted, 1 approved, 1 rejected, 0 withdrawn; median time to decision 3h, p90 4h")
	require.Contains(t, en, "**leave**: 4 submitted, 1 approved, 1 rejected (50% rejected), median 3h")
	require.Contains(t, en, `bottleneck "HR review" (3h)`)
	require.Contains(t, en, "**expense**: 1 submitted")
	require.Contains(t, texts["ceo"][0].ZH, "流程健康月报 · 2026-11")

	require.NoError(t, s.RunDue(b.ctx, first.Add(time.Hour)))
	require.Len(t, b.texts(t)["ceo"], 1, "once a month")
}

func TestStartTicksOnCron(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k := &ticker{entered: make(chan struct{}, 10)}
	var mu sync.Mutex
	var durations []time.Duration
	s := b.scheduler(schedule.Config{Ticker: k, TickSpec: "* * * * * *", Metrics: metricsFunc(func(d time.Duration) {
		mu.Lock()
		durations = append(durations, d)
		mu.Unlock()
	})})
	require.NoError(t, s.Start(b.ctx))
	require.ErrorContains(t, s.Start(b.ctx), "already started")
	select {
	case <-k.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no tick within 10s of a every-second spec")
	}
	s.Stop()
	s.Stop() // harmless
	require.Equal(t, now, k.calls[0], "Tick gets the injected clock's time")
	mu.Lock()
	require.NotEmpty(t, durations)
	mu.Unlock()
}

type metricsFunc func(time.Duration)

func (f metricsFunc) TickDuration(d time.Duration) { f(d) }

func TestBadConfig(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		name string
		cfg  schedule.Config
		want string
	}{
		{"tick spec", schedule.Config{TickSpec: "every now and then"}, `tick spec "every now and then"`},
		{"digest spec", schedule.Config{DigestSpec: "61 9 * * *"}, `digest spec "61 9 * * *"`},
		{"report spec", schedule.Config{ReportSpec: "0 9 32 * *"}, `report spec "0 9 32 * *"`},
		{"time zone", schedule.Config{DefaultTZ: "Mars/Olympus"}, `default time zone "Mars/Olympus"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := b.scheduler(tc.cfg)
			require.ErrorContains(t, s.RunDue(b.ctx, now), tc.want)
			require.ErrorContains(t, s.Start(b.ctx), tc.want)
			require.Zero(t, b.ticker.count(), "nothing ran")
		})
	}
	s := schedule.New(schedule.Config{})
	require.ErrorContains(t, s.RunDue(b.ctx, now), "no store")
}

func TestDuration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d      time.Duration
		en, zh string
	}{
		{30 * time.Second, "under a minute", "不到 1 分钟"},
		{45 * time.Minute, "45m", "45 分钟"},
		{3*time.Hour + 5*time.Minute, "3h 5m", "3 小时 5 分钟"},
		{50*time.Hour + 5*time.Minute, "2d 2h", "2 天 2 小时"},
		{72 * time.Hour, "3d", "3 天"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.en, schedule.Duration("en", tc.d))
		require.Equal(t, tc.zh, schedule.Duration("zh-CN", tc.d))
	}
}

func TestDigestTextOmitsWhatIsUnknown(t *testing.T) {
	t.Parallel()
	f := schedule.DigestFacts{Date: now, Submitted: 1}
	txt := schedule.DigestText(f)
	require.NotContains(t, txt.EN, "Median")
	require.NotContains(t, txt.EN, "Slowest")
	require.Contains(t, txt.EN, "Yesterday: 1 submitted, 0 approved, 0 rejected")
	require.False(t, f.Empty())
	require.True(t, schedule.DigestFacts{Date: now}.Empty())
	require.NotContains(t, txt.EN, "Dashboard")
	f.DashboardURL = "http://127.0.0.1:8080/ui/dashboard/"
	txt = schedule.DigestText(f)
	require.Contains(t, txt.EN, "- Dashboard: http://127.0.0.1:8080/ui/dashboard/\n")
	require.Contains(t, txt.ZH, "- 流程看板：http://127.0.0.1:8080/ui/dashboard/\n")
}

// The engine fits the Ticker the scheduler declares.
var _ schedule.Ticker = (*flows.Engine)(nil)
