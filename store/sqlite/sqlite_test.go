package sqlite_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstest"
	"github.com/flowbot/flowbot/store/sqlite"
)

var quiet = slog.New(slog.DiscardHandler)

// MustOpen opens a fresh database in a temp dir, closed at cleanup.
func MustOpen(tb testing.TB, opts ...sqlite.Option) (*sqlite.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "flowbot.db")
	opts = append([]sqlite.Option{sqlite.WithLogger(quiet)}, opts...)
	db, err := sqlite.Open(context.Background(), path, opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db, path
}

func TestConformance(t *testing.T) {
	t.Parallel()
	flowstest.Run(t, func(t *testing.T) flows.Store {
		db, _ := MustOpen(t)
		return db
	})
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := MustOpen(t)
	t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	in := &flows.Instance{Number: "LEAVE-20261126-0001", FlowID: "leave", FlowVersion: 1, Applicant: "alice",
		Status: flows.StatusPending, Form: []byte(`{"days":2}`), CreatedAt: t0, UpdatedAt: t0}
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		if _, err := tx.NextNumber("LEAVE-20261126"); err != nil {
			return err
		}
		if err := tx.CreateInstance(in); err != nil {
			return err
		}
		return tx.CreateTask(&flows.Task{InstanceID: in.ID, StepID: "m", Assignee: "bob", Status: flows.TaskPending, CreatedAt: t0, DueAt: &t0})
	}))
	_, _, err := db.SaveFlow(ctx, "leave", []byte("id: leave"), "h1")
	require.NoError(t, err)
	require.NoError(t, db.StateStore().Set(ctx, "conv:alice", []byte("step2"), time.Hour))
	require.NoError(t, db.Close())

	db2, err := sqlite.Open(ctx, path, sqlite.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	require.NoError(t, db2.Update(ctx, func(tx flows.Tx) error {
		got, err := tx.InstanceByNumber(in.Number)
		require.NoError(t, err)
		require.Equal(t, in.ID, got.ID)
		require.JSONEq(t, `{"days":2}`, string(got.Form))
		due, err := tx.DueTasks(t0, 10)
		require.NoError(t, err)
		require.Len(t, due, 1)
		n, err := tx.NextNumber("LEAVE-20261126")
		require.NoError(t, err)
		require.Equal(t, 2, n, "sequences survive a restart")
		return nil
	}))
	fv, err := db2.Flow(ctx, "leave", 0)
	require.NoError(t, err)
	require.Equal(t, "id: leave", string(fv.Source))
	val, ok, err := db2.StateStore().Get(ctx, "conv:alice")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "step2", string(val))
}

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := MustOpen(t)
	_, _, err := db.SaveFlow(ctx, "leave", []byte("v1"), "h1")
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx), "Migrate on a migrated database")
	require.NoError(t, db.Migrate(ctx))

	// A second handle on the same file, open at the same time.
	db2, err := sqlite.Open(ctx, path, sqlite.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	fv, err := db2.Flow(ctx, "leave", 0)
	require.NoError(t, err, "migrating again must keep the data")
	require.Equal(t, 1, fv.Version)
}

func TestOpenBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		opts []sqlite.Option
		want string
	}{
		{"EmptyPath", "", nil, "empty path"},
		{"Memory", ":memory:", nil, "in-memory"},
		{"QueryInPath", filepath.Join(dir, "x.db?mode=ro"), nil, "must not contain"},
		{"NoReaders", filepath.Join(dir, "r.db"), []sqlite.Option{sqlite.WithReaders(0)}, "readers"},
		{"NegativeBusyTimeout", filepath.Join(dir, "b.db"), []sqlite.Option{sqlite.WithBusyTimeout(-time.Second)}, "busy timeout"},
		{"MissingDir", filepath.Join(dir, "no", "such", "dir", "x.db"), nil, "open sqlite"},
		{"NotADatabase", filepath.Join(dir), nil, "open sqlite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := sqlite.Open(t.Context(), tc.path, tc.opts...)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, db)
		})
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	require.NoError(t, db.Close())
	require.NoError(t, db.Close())
	_, err := db.Users(t.Context())
	require.Error(t, err, "a closed store must refuse work")
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"SaveFlowNoID", func() error { _, _, err := db.SaveFlow(ctx, "", []byte("x"), "h"); return err }, "empty id"},
		{"SaveFlowNoHash", func() error { _, _, err := db.SaveFlow(ctx, "leave", []byte("x"), ""); return err }, "empty hash"},
		{"FlowNegativeVersion", func() error { _, err := db.Flow(ctx, "leave", -1); return err }, "negative version"},
		{"ClaimZeroLease", func() error { _, err := db.ClaimOutbox(ctx, time.Now(), 10, 0); return err }, "lease must be positive"},
		{"OutboxBadStatus", func() error { _, err := db.Outbox(ctx, "sent", 10); return err }, "unknown status"},
		{"InstancesNegativeLimit", func() error { _, err := db.Instances(ctx, flows.InstanceFilter{Limit: -1}); return err }, "negative limit"},
		{"TasksNegativeLimit", func() error { _, err := db.Tasks(ctx, flows.TaskFilter{Limit: -1}); return err }, "negative limit"},
		{"EventsNegativeLimit", func() error { _, err := db.Events(ctx, flows.EventFilter{Limit: -1}); return err }, "negative limit"},
		{"MessageRefNil", func() error { return db.SaveMessageRef(ctx, nil) }, "nil ref"},
		{"MessageRefNoRef", func() error { return db.SaveMessageRef(ctx, &flows.MessageRef{InstanceID: 1, Platform: "feishu"}) }, "empty platform or ref"},
		{"DirectoryNilDept", func() error { return db.ReplaceDirectory(ctx, nil, []*flows.Department{nil}) }, "no id"},
		{"DirectoryEmptyPlatformID", func() error {
			return db.ReplaceDirectory(ctx, []*flows.User{{ID: "u1", Platforms: map[string]string{"feishu": ""}}}, nil)
		}, "empty platform"},
		{"NilInstance", func() error { return db.Update(ctx, func(tx flows.Tx) error { return tx.CreateInstance(nil) }) }, "nil instance"},
		{"NilUpdateInstance", func() error { return db.Update(ctx, func(tx flows.Tx) error { return tx.UpdateInstance(nil) }) }, "nil instance"},
		{"NilTask", func() error { return db.Update(ctx, func(tx flows.Tx) error { return tx.CreateTask(nil) }) }, "nil task"},
		{"NilUpdateTask", func() error { return db.Update(ctx, func(tx flows.Tx) error { return tx.UpdateTask(nil) }) }, "nil task"},
		{"TaskOfMissingInstance", func() error {
			return db.Update(ctx, func(tx flows.Tx) error {
				return tx.CreateTask(&flows.Task{InstanceID: 999, Status: flows.TaskPending})
			})
		}, "create task of instance 999"},
		{"NilEvent", func() error { return db.Update(ctx, func(tx flows.Tx) error { return tx.AppendEvent(nil) }) }, "nil event"},
		{"NilMessage", func() error { return db.Update(ctx, func(tx flows.Tx) error { return tx.Enqueue(nil) }) }, "nil message"},
		{"MessageNoKind", func() error {
			return db.Update(ctx, func(tx flows.Tx) error { return tx.Enqueue(&flows.OutboxMessage{}) })
		}, "without kind"},
		{"EmptySequence", func() error {
			return db.Update(ctx, func(tx flows.Tx) error { _, err := tx.NextNumber(""); return err })
		}, "empty key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.call(), tc.want)
		})
	}
	// Nothing of the above was written.
	for _, count := range []func() (int, error){
		func() (int, error) { ins, err := db.Instances(ctx, flows.InstanceFilter{}); return len(ins), err },
		func() (int, error) { ts, err := db.Tasks(ctx, flows.TaskFilter{}); return len(ts), err },
		func() (int, error) { es, err := db.Events(ctx, flows.EventFilter{}); return len(es), err },
		func() (int, error) { fs, err := db.LatestFlows(ctx); return len(fs), err },
		func() (int, error) { return db.OutboxDepth(ctx) },
	} {
		n, err := count()
		require.NoError(t, err)
		require.Zero(t, n)
	}
}
