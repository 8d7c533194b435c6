package flowstats_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/store/sqlite"
)

// millionDB returns a SQLite file holding the 1,000,000 generated events
// of million (and the directory). The file is built once and kept in the
// temp folder (FLOWBOT_BENCH_DB names another place): writing it takes
// longer than reading it.
func millionDB(b *testing.B) *sqlite.DB {
	b.Helper()
	path := os.Getenv("FLOWBOT_BENCH_DB")
	if path == "" {
		path = filepath.Join(os.TempDir(), "flowbot-bench-events-1m.db")
	}
	ctx := context.Background()
	quiet := sqlite.WithLogger(slog.New(slog.DiscardHandler))
	if db, err := sqlite.Open(ctx, path, quiet); err == nil {
		last, lerr := db.Events(ctx, flows.EventFilter{AfterID: 999_999, Limit: 2})
		if lerr == nil && len(last) == 1 {
			return db
		}
		_ = db.Close()
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
	evs, tr := million(b)
	db, err := sqlite.Open(ctx, path, quiet)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.ReplaceDirectory(ctx, tr.users, nil); err != nil {
		b.Fatal(err)
	}
	const batch = 50_000
	for i := 0; i < len(evs); i += batch {
		err := db.Update(ctx, func(tx flows.Tx) error {
			for _, e := range evs[i:min(i+batch, len(evs))] {
				c := *e
				if err := tx.AppendEvent(&c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// cpuTime is the CPU time this process used so far (user and system):
// on a shared machine it says more than the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRebuildFromSQLite1M is a full rebuild as a server does it at
// start: a new aggregate reads the whole event log of 1,000,000 events
// from a SQLite file in pages (Update) and folds it.
func BenchmarkRebuildFromSQLite1M(b *testing.B) {
	db := millionDB(b)
	b.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		a := flowstats.NewAggregate(nil)
		n, err := a.Update(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		if n != 1_000_000 {
			b.Fatalf("read %d events, want 1,000,000", n)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkReadEventsSQLite1M only reads the 1,000,000 events from the
// SQLite file through the general Events query (ten columns a row), in
// Update's pages, without folding them: how the rebuild read before
// EventsForStats.
func BenchmarkReadEventsSQLite1M(b *testing.B) {
	db := millionDB(b)
	b.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		var after int64
		n := 0
		for {
			evs, err := db.Events(ctx, flows.EventFilter{AfterID: after, Limit: 5000})
			if err != nil {
				b.Fatal(err)
			}
			n += len(evs)
			if len(evs) < 5000 {
				break
			}
			after = evs[len(evs)-1].ID
		}
		if n != 1_000_000 {
			b.Fatalf("read %d events, want 1,000,000", n)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkReadEventsForStatsSQLite1M reads the 1,000,000 events as
// Update does from a SQLite store (EventsForStats: one packed column a
// row), without folding them.
func BenchmarkReadEventsForStatsSQLite1M(b *testing.B) {
	db := millionDB(b)
	b.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		var after int64
		n := 0
		for {
			evs, err := db.EventsForStats(ctx, after, 5000)
			if err != nil {
				b.Fatal(err)
			}
			n += len(evs)
			if len(evs) < 5000 {
				break
			}
			after = evs[len(evs)-1].ID
		}
		if n != 1_000_000 {
			b.Fatalf("read %d events, want 1,000,000", n)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}
