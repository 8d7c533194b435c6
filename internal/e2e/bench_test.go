package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkCycles measures submit + approve cycles per second on
// PostgreSQL (+ Redis) with one and two replicas: one client per applicant
// of the example company (11 at once) sends "/expense ...", clicks submit
// and has the manager approve, through the playground API. b.N is the
// number of cycles (3 events each).
//
//	go test ./internal/e2e/ -run '^$' -bench Cycles -benchtime 600x
func BenchmarkCycles(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			pgURL, pool := freshPostgres(b)
			cfg := replicaConfig(pgURL, redisPrefix(b), flowDir(b, "1h"), feishuOnlyOrg(b), nil)
			l := &loadGen{t: b, pool: pool, plain: true, target: int64(3 * b.N)}
			for i := range n {
				l.replicas = append(l.replicas, startReplica(b, fmt.Sprintf("replica-%d", i), cfg))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			b.ResetTimer()
			start := time.Now()
			l.run(ctx)
			elapsed := time.Since(start)
			b.StopTimer()
			require.NoError(b, ctx.Err())
			approved := count(b, pool, `SELECT count(*) FROM instances WHERE status = 'approved'`)
			b.ReportMetric(float64(approved)/elapsed.Seconds(), "cycles/s")
			b.ReportMetric(float64(l.events.Load())/elapsed.Seconds(), "events/s")
		})
	}
}
