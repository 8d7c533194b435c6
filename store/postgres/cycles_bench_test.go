package postgres_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowstest"
	"github.com/flowbot/flowbot/store/postgres"
)

// BenchmarkEngineCycles measures submit + approve cycles of the engine on
// the local PostgreSQL with 16 concurrent callers and a pool of 16
// connections. Besides cycles/s it reports the round trips per cycle (a
// statement sent alone, or a batch of them) and how many backends waited
// on a lock, on average, in samples of pg_stat_activity taken every 50 ms,
// and the CPU time per cycle of this process (client-cpu-ms/cycle) and of
// PostgreSQL's processes serving it (server-cpu-ms/cycle, serverCPU),
// setup and warm-up included: figures the load of a shared machine
// changes little.
// FLOWBOT_BENCH_LANES sets the writer lanes (0: no group commit),
// FLOWBOT_BENCH_POOL the pool size.
//
//	go test ./store/postgres -run '^$' -bench EngineCycles -benchtime 10000x
func BenchmarkEngineCycles(b *testing.B) {
	cfg := poolConfig(b, newSchema(b))
	cfg.MaxConns = 16
	if v, ok := os.LookupEnv("FLOWBOT_BENCH_POOL"); ok {
		n, err := strconv.Atoi(v)
		require.NoError(b, err)
		cfg.MaxConns = int32(n)
	}
	var stmts atomic.Int64
	cfg.ConnConfig.Tracer = countTracer{&stmts}
	srv := &serverCPU{}
	cfg.AfterConnect = srv.afterConnect
	var opts []postgres.Option
	if v, ok := os.LookupEnv("FLOWBOT_BENCH_LANES"); ok {
		n, err := strconv.Atoi(v)
		require.NoError(b, err)
		opts = append(opts, postgres.WithWriteLanes(n))
	}
	db, err := postgres.OpenConfig(context.Background(), cfg, nil, opts...)
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })

	waits := sampleLockWaits(b)
	stmts.Store(0)
	srv.start(b)
	client0 := processCPU(b)
	flowstest.BenchCycles(b, db, 16)
	// BenchCycles runs one warm-up cycle per caller before the timing.
	cycles := float64(b.N + 16)
	b.ReportMetric(float64(stmts.Load())/cycles, "roundtrips/cycle")
	b.ReportMetric(waits(), "lock-waiters")
	b.ReportMetric(float64(processCPU(b)-client0)/float64(time.Millisecond)/cycles, "client-cpu-ms/cycle")
	b.ReportMetric(float64(srv.used(b))/float64(time.Millisecond)/cycles, "server-cpu-ms/cycle")
}

// processCPU is the user + system CPU time of this process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU sums the CPU time PostgreSQL spends for the benchmark: the
// backends of the pool's connections (their pids recorded as they
// connect) and the server's WAL writer, checkpointer and background
// writer (shared with whatever else uses the server, little when it is
// quiet), read from /proc/<pid>/stat. Zero when /proc is not readable
// (the server on another machine).
type serverCPU struct {
	mu   sync.Mutex
	pids []int
	base map[int]time.Duration
}

func (s *serverCPU) afterConnect(ctx context.Context, c *pgx.Conn) error {
	var pid int
	if err := c.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		return err
	}
	s.mu.Lock()
	s.pids = append(s.pids, pid)
	s.mu.Unlock()
	return nil
}

// start records the CPU used so far by the pool's backends and the
// server's background processes.
func (s *serverCPU) start(b *testing.B) {
	conn, err := pgx.Connect(b.Context(), testURL())
	require.NoError(b, err)
	defer conn.Close(context.Background())
	rows, _ := conn.Query(b.Context(), `SELECT pid FROM pg_stat_activity
		WHERE backend_type IN ('walwriter', 'checkpointer', 'background writer')`)
	aux, err := pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(b, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pids = append(s.pids, aux...)
	s.base = make(map[int]time.Duration)
	for _, pid := range s.pids {
		s.base[pid] = procCPU(pid)
	}
}

// used is the CPU the recorded processes used since start (backends that
// connected later count from zero).
func (s *serverCPU) used(b *testing.B) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum time.Duration
	for _, pid := range s.pids {
		sum += procCPU(pid) - s.base[pid]
	}
	return sum
}

// procCPU reads utime + stime of pid from /proc (0 when unreadable).
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from after ')'.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

// countTracer counts the round trips: a statement sent alone, or a batch.
type countTracer struct{ n *atomic.Int64 }

func (c countTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (countTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (countTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c countTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (countTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// sampleLockWaits counts, every 50 ms until the benchmark ends, the
// backends of the test database waiting on a lock; the returned function
// stops sampling and gives the average.
func sampleLockWaits(b *testing.B) func() float64 {
	conn, err := pgx.Connect(context.Background(), testURL())
	require.NoError(b, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sum, n int64
	wg.Go(func() {
		defer conn.Close(context.Background())
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			var k int64
			if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&k); err == nil {
				sum, n = sum+k, n+1
			}
		}
	})
	return func() float64 {
		close(stop)
		wg.Wait()
		if n == 0 {
			return 0
		}
		return float64(sum) / float64(n)
	}
}
