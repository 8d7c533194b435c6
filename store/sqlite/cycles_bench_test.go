package sqlite_test

import (
	"testing"

	"github.com/flowbot/flowbot/flows/flowstest"
)

// BenchmarkEngineCycles measures submit + approve cycles of the engine on
// a SQLite file with 16 concurrent callers; each cycle is durable (WAL,
// synchronous=NORMAL) when its calls return. It also reports the mean
// number of writes per group commit (ops/commit).
//
//	go test ./store/sqlite -run '^$' -bench EngineCycles -benchtime 20000x
func BenchmarkEngineCycles(b *testing.B) {
	db, _ := MustOpen(b)
	flowstest.BenchCycles(b, db, 16)
	if batches, ops := db.WriteStats(); batches > 0 {
		b.ReportMetric(float64(ops)/float64(batches), "ops/commit")
	}
}
