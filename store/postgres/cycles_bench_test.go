package postgres_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
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
// on a lock, on average, in samples of pg_stat_activity taken every 50 ms.
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
	flowstest.BenchCycles(b, db, 16)
	// BenchCycles runs one warm-up cycle per caller before the timing.
	b.ReportMetric(float64(stmts.Load())/float64(b.N+16), "roundtrips/cycle")
	b.ReportMetric(waits(), "lock-waiters")
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

// sampleLockWaits counts, every 5 ms until the benchmark ends, the
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
