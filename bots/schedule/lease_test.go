package schedule_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// slowTicker is a Tick that takes d (or stops when its context ends) and
// counts how many run at once.
type slowTicker struct {
	d             time.Duration
	active, most  atomic.Int32
	finished, cut atomic.Int32
}

func (k *slowTicker) Tick(ctx context.Context, _ time.Time) (flows.TickResult, error) {
	n := k.active.Add(1)
	defer k.active.Add(-1)
	for {
		m := k.most.Load()
		if n <= m || k.most.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-time.After(k.d):
		k.finished.Add(1)
		return flows.TickResult{}, nil
	case <-ctx.Done():
		k.cut.Add(1)
		return flows.TickResult{}, ctx.Err()
	}
}

// The lease outlives a Tick longer than LockTTL: two replicas trying all
// the time never tick at once, and the lease is released afterwards.
func TestLongTickKeepsTheLease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k := &slowTicker{d: time.Second}
	var ss []*schedule.Scheduler
	for range 2 {
		db := testkit.OpenSQLiteFile(t, b.path)
		ss = append(ss, b.scheduler(schedule.Config{Store: db, Deduper: db.Deduper(), Locker: db.Locker(),
			Ticker: k, LockTTL: 300 * time.Millisecond}))
	}
	deadline := time.Now().Add(3500 * time.Millisecond)
	start := make(chan struct{})
	errs := make(chan error, 1000)
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Go(func() {
			<-start // both replicas start at the same moment
			for time.Now().Before(deadline) {
				if err := s.RunDue(b.ctx, now); err != nil {
					errs <- err
				}
				time.Sleep(20 * time.Millisecond) // pacing, not a wait
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, k.most.Load(), "got %d Ticks at once, want 1", k.most.Load())
	require.GreaterOrEqual(t, k.finished.Load(), int32(2), "Ticks ran one after the other")
	require.Zero(t, k.cut.Load(), "no Tick lost its lease")
	ok, err := b.db.Locker().TryLock(b.ctx, "flowbot:job:tick", "someone-else", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "the lease was released after the last Tick")
}

// fakeLocker grants every first TryLock of a name; then it answers
// renewals of renewName with renewErr (or false), and every call with
// downErr while down is set.
type fakeLocker struct {
	mu        sync.Mutex
	held      map[string]bool
	renewName string
	renewErr  error
	down      bool
	calls     int
	unlocked  []string
}

var errStoreDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (l *fakeLocker) TryLock(_ context.Context, name, _ string, _ time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.down {
		return false, errStoreDown
	}
	if l.held[name] && name == l.renewName {
		return false, l.renewErr
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[name] = true
	return true, nil
}

func (l *fakeLocker) Unlock(_ context.Context, name, _ string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, name)
	l.unlocked = append(l.unlocked, name)
	return nil
}

func (l *fakeLocker) setDown(down bool) { l.mu.Lock(); l.down = down; l.mu.Unlock() }
func (l *fakeLocker) nCalls() int       { l.mu.Lock(); defer l.mu.Unlock(); return l.calls }

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the lines that contain every one of parts.
func (b *logBuffer) lines(parts ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for l := range strings.Lines(b.buf.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// A job whose lease cannot be renewed stops at once.
func TestLostLeaseStopsTheJob(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		renewErr error
		want     string
	}{
		{"renewal fails", errStoreDown, "connection refused"},
		{"lease taken over", nil, "held by another replica"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var logs logBuffer
			l := &fakeLocker{renewName: "flowbot:job:tick", renewErr: tc.renewErr}
			k := &ticker{release: make(chan struct{})} // never released: only the context ends it
			s := b.scheduler(schedule.Config{Locker: l, Ticker: k, LockTTL: 300 * time.Millisecond, Logger: logs.logger()})
			ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second) // without renewals the Tick would wait for ever
			defer cancel()
			start := time.Now()
			err := s.RunDue(ctx, now)
			took := time.Since(start)
			require.ErrorContains(t, err, "job tick stopped: job lease lost")
			require.ErrorContains(t, err, tc.want)
			require.ErrorIs(t, err, context.Canceled, "the Tick saw its context cancelled")
			require.Less(t, took, 2*time.Second, "got %s, want the job stopped soon after the first renewal (100ms)", took)
			require.Equal(t, 1, k.count())
			require.Len(t, logs.lines("level=WARN", "job lease lost", "job=tick"), 1)
			require.Contains(t, l.unlocked, "flowbot:job:tick")
		})
	}
}

// A failing lock store is logged once at WARN, not as an error per run,
// and its recovery once at INFO.
func TestLockStoreDownLoggedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var logs logBuffer
	l := &fakeLocker{down: true}
	k := &ticker{}
	s := b.scheduler(schedule.Config{Locker: l, Ticker: k, Logger: logs.logger(), TickSpec: "* * * * * *"})
	for range 3 {
		require.ErrorContains(t, s.RunDue(b.ctx, now), "lock job tick: "+errStoreDown.Error())
	}
	require.NoError(t, s.Start(b.ctx))
	calls := l.nCalls()
	deadline := time.Now().Add(10 * time.Second)
	for l.nCalls() < calls+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	require.GreaterOrEqual(t, l.nCalls(), calls+2, "the cron tried the lock again")
	require.Zero(t, k.count(), "nothing ran without the lock")
	require.Len(t, logs.lines("level=WARN", "lock store failing"), 1, "got log:\n%s", logs.lines(""))
	require.Empty(t, logs.lines("level=ERROR"), "a failing lock store is not an error per tick")

	l.setDown(false)
	for range 2 {
		require.NoError(t, s.RunDue(b.ctx, now))
	}
	require.Equal(t, 2, k.count(), "jobs run again")
	require.Len(t, logs.lines("level=INFO", "lock store answers again"), 1)

	l.setDown(true)
	require.Error(t, s.RunDue(b.ctx, now))
	require.Len(t, logs.lines("level=WARN", "lock store failing"), 2, "a new outage is logged again")
	require.Empty(t, logs.lines("level=ERROR"), fmt.Sprint(logs.lines("")))
}
