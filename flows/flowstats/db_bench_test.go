package flowstats_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/store/sqlite"
)

// millionDB returns a SQLite file holding the 1,000,000 generated events
// of million (and the directory). The file is built once and kept in the
// temp folder (FLOWBOT_BENCH_DB names another place): writing it takes
// longer than reading it.
func millionDB(b *testing.B) (*sqlite.DB, truth) {
	b.Helper()
	evs, tr := million(b)
	path := os.Getenv("FLOWBOT_BENCH_DB")
	if path == "" {
		path = filepath.Join(os.TempDir(), "flowbot-bench-events-1m.db")
	}
	ctx := context.Background()
	quiet := sqlite.WithLogger(slog.New(slog.DiscardHandler))
	if db, err := sqlite.Open(ctx, path, quiet); err == nil {
		last, lerr := db.Events(ctx, flows.EventFilter{AfterID: 999_999, Limit: 2})
		if lerr == nil && len(last) == 1 {
			return db, tr
		}
		_ = db.Close()
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
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
	return db, tr
}

// BenchmarkRebuildFromSQLite1M is a full rebuild as a server does it at
// start: a new aggregate reads the whole event log of 1,000,000 events
// from a SQLite file in pages (Update) and folds it.
func BenchmarkRebuildFromSQLite1M(b *testing.B) {
	db, _ := millionDB(b)
	b.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
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
}

// BenchmarkReadEventsSQLite1M only reads the 1,000,000 events from the
// SQLite file in Update's pages, without folding them: the reading's part
// of the rebuild.
func BenchmarkReadEventsSQLite1M(b *testing.B) {
	db, _ := millionDB(b)
	b.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
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
}
