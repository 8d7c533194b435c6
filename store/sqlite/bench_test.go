package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/sqlite"
)

// dueFixture is a database with 1,000,000 pending tasks of which 100 are due
// at dueNow, built once per test binary and shared by every b.N round.
var dueFixture struct {
	once sync.Once
	dir  string
	db   *sqlite.DB
	err  error
}

const (
	fixtureTasks = 1_000_000
	fixtureDue   = 100
)

var dueNow = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	code := m.Run()
	if dueFixture.db != nil {
		_ = dueFixture.db.Close()
	}
	if dueFixture.dir != "" {
		_ = os.RemoveAll(dueFixture.dir)
	}
	os.Exit(code)
}

func openDueFixture(b *testing.B) *sqlite.DB {
	b.Helper()
	dueFixture.once.Do(func() {
		ctx := context.Background()
		dueFixture.dir, dueFixture.err = os.MkdirTemp("", "flowbot-bench-")
		if dueFixture.err != nil {
			return
		}
		db, err := sqlite.Open(ctx, filepath.Join(dueFixture.dir, "due.db"), sqlite.WithLogger(quiet))
		if err != nil {
			dueFixture.err = err
			return
		}
		dueFixture.db = db
		start := time.Now()
		dueFixture.err = db.Update(ctx, func(tx flows.Tx) error {
			in := &flows.Instance{Number: "BENCH-1", FlowID: "leave", Applicant: "a", Status: flows.StatusPending, CreatedAt: dueNow, UpdatedAt: dueNow}
			if err := tx.CreateInstance(in); err != nil {
				return err
			}
			for i := range fixtureTasks {
				// The first 100 are due (spread over the past hour); the rest
				// are due from one minute to ~11 days ahead.
				due := dueNow.Add(time.Duration(i+1) * time.Second)
				if i < fixtureDue {
					due = dueNow.Add(-time.Duration(i*30) * time.Second)
				}
				t := &flows.Task{InstanceID: in.ID, StepID: "manager", Assignee: "bob", Status: flows.TaskPending,
					CreatedAt: dueNow, StartedAt: &dueNow, DueAt: &due, RemindAt: &due}
				if err := tx.CreateTask(t); err != nil {
					return err
				}
			}
			return nil
		})
		b.Logf("built %d tasks in %s", fixtureTasks, time.Since(start).Round(time.Millisecond))
	})
	if dueFixture.err != nil {
		b.Fatalf("build fixture: %v", dueFixture.err)
	}
	return dueFixture.db
}

// BenchmarkDueTasks1M measures what Tick does first: find the 100 due tasks
// among 1,000,000 pending ones, in a read and in a write transaction.
func BenchmarkDueTasks1M(b *testing.B) {
	db := openDueFixture(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		run  func(context.Context, func(flows.Tx) error) error
	}{{"View", db.View}, {"Update", db.Update}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				err := bc.run(ctx, func(tx flows.Tx) error {
					ts, err := tx.DueTasks(dueNow, 1000)
					if err != nil {
						return err
					}
					if len(ts) != fixtureDue {
						b.Fatalf("got %d due tasks, want %d", len(ts), fixtureDue)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
