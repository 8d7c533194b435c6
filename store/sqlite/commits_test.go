package sqlite_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/sqlite"
)

// An AfterCommit function runs once its write committed, before the
// write returns, and never for a write that failed or panicked; one that
// panics does not stop the writer.
func TestAfterCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, _ := MustOpen(t)
	var ran atomic.Int64
	var sawCommitted atomic.Bool
	after := func(tx flows.Tx, fn func()) {
		ac, ok := tx.(flows.AfterCommitter)
		require.True(t, ok, "SQLite's write transactions run functions after their commit")
		ac.AfterCommit(fn)
	}
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		now := time.Now()
		if err := tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgReply, Recipient: "u1", NextAt: now.Add(time.Hour), CreatedAt: now}); err != nil {
			return err
		}
		after(tx, func() {
			ran.Add(1)
			// The write is committed: a read on the reader pool sees it.
			n, err := db.OutboxDepth(context.Background())
			sawCommitted.Store(err == nil && n == 1)
		})
		return nil
	}))
	require.Equal(t, int64(1), ran.Load(), "ran before Update returned")
	require.True(t, sawCommitted.Load())

	err := db.Update(ctx, func(tx flows.Tx) error {
		after(tx, func() { ran.Add(100) })
		return errors.New("refused")
	})
	require.Error(t, err)
	require.Panics(t, func() {
		_ = db.Update(ctx, func(tx flows.Tx) error {
			after(tx, func() { ran.Add(100) })
			panic("boom")
		})
	})
	require.Equal(t, int64(1), ran.Load(), "not run for a failed or panicking write")

	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		after(tx, func() { panic("after-commit boom") })
		after(tx, func() { ran.Add(1) })
		return nil
	}))
	require.Equal(t, int64(2), ran.Load(), "a panicking function does not stop the next one")
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		_, err := tx.NextNumber("after-commit")
		return err
	}), "the writer still writes")

	// A read transaction runs nothing.
	require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
		after(tx, func() { ran.Add(100) })
		return nil
	}))
	require.Equal(t, int64(2), ran.Load())
}

// Commits by another connection to the file (another process) are told
// to OnForeignWrite as the writer's next transaction begins; the
// writer's own commits are not.
func TestOnForeignWrite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := MustOpen(t)
	var told atomic.Int64
	db.OnForeignWrite(func() { told.Add(1) })
	write := func(d *sqlite.DB) {
		t.Helper()
		require.NoError(t, d.Update(ctx, func(tx flows.Tx) error {
			_, err := tx.NextNumber("foreign")
			return err
		}))
	}
	for range 3 {
		write(db)
	}
	require.Zero(t, told.Load(), "its own writes")

	other, err := sqlite.Open(ctx, path, sqlite.WithLogger(quiet))
	require.NoError(t, err)
	write(other)
	require.Zero(t, told.Load(), "not before the next write")
	write(db)
	require.Equal(t, int64(1), told.Load(), "told as its next write began")
	write(db)
	require.Equal(t, int64(1), told.Load(), "once")
	write(other)
	write(other)
	require.NoError(t, other.Close())
	write(db)
	require.Equal(t, int64(2), told.Load())
}
