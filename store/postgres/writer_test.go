package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/postgres"
)

var errRefused = errors.New("refused by the test")

// writeOp writes what an engine operation writes for request number n: a
// number of key "seq", an instance, a task, an event and an outbox
// message, in one Update. When fail is set it writes all of that and then
// fails.
func writeOp(ctx context.Context, db *postgres.DB, n string, fail bool) error {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	return db.Update(ctx, func(tx flows.Tx) error {
		if _, err := tx.NextNumber("seq"); err != nil {
			return err
		}
		in := &flows.Instance{Number: n, FlowID: "f", FlowVersion: 1, Applicant: "a", Status: flows.StatusPending,
			Form: []byte(`{}`), CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateInstance(in); err != nil {
			return err
		}
		if err := tx.CreateTask(&flows.Task{InstanceID: in.ID, StepID: "s", Assignee: "b", Status: flows.TaskPending, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.AppendEvent(&flows.Event{InstanceID: in.ID, FlowID: "f", Type: flows.EvSubmitted, Actor: "a", At: now}); err != nil {
			return err
		}
		if err := tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "b", InstanceID: in.ID, NextAt: now, CreatedAt: now}); err != nil {
			return err
		}
		if fail {
			return errRefused
		}
		return nil
	})
}

// checkWhole asserts request n is stored with everything its operation
// wrote, or (want false) not at all.
func checkWhole(t *testing.T, db *postgres.DB, n string, want bool) {
	t.Helper()
	err := db.View(context.Background(), func(tx flows.Tx) error {
		in, err := tx.InstanceByNumber(n)
		if !want {
			assert.ErrorIs(t, err, flows.ErrNotFound, "request %s of a failed operation is stored", n)
			return nil
		}
		if err != nil {
			return fmt.Errorf("request %s: %w", n, err)
		}
		ts, err := tx.TasksOf(in.ID)
		if err != nil {
			return err
		}
		es, err := tx.EventsOf(in.ID)
		if err != nil {
			return err
		}
		assert.Len(t, ts, 1, "tasks of %s", n)
		assert.Len(t, es, 1, "events of %s", n)
		return nil
	})
	require.NoError(t, err)
}

// nextNumber takes the next number of key in its own Update.
func nextNumber(t *testing.T, db *postgres.DB, key string) int {
	t.Helper()
	var v int
	require.NoError(t, db.Update(context.Background(), func(tx flows.Tx) (err error) {
		v, err = tx.NextNumber(key)
		return err
	}))
	return v
}

// TestGroupCommitFailedOperationRolledBackAlone runs many concurrent
// writes, so that they share batches, where every third fails after
// writing, one panics and one swallows a failed statement: the failed ones
// leave nothing (not even their number), every other one is stored whole.
func TestGroupCommitFailedOperationRolledBackAlone(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := t.Context()
	const n = 150
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = writeOp(ctx, db, fmt.Sprintf("R-%04d", i), i%3 == 0) })
	}
	var panicked any
	wg.Go(func() {
		defer func() { panicked = recover() }()
		_ = db.Update(ctx, func(tx flows.Tx) error {
			_, _ = tx.NextNumber("seq")
			panic("boom in a batch")
		})
	})
	var swallowed error
	wg.Go(func() {
		swallowed = db.Update(ctx, func(tx flows.Tx) error {
			_, _ = tx.NextNumber("seq")
			// A duplicate number fails; the function ignores that.
			in := &flows.Instance{Number: "R-0001", FlowID: "f", FlowVersion: 1, Applicant: "a", Status: flows.StatusPending}
			_ = tx.CreateInstance(in)
			_ = tx.CreateInstance(in)
			return nil
		})
	})
	wg.Wait()
	assert.Equal(t, "boom in a batch", panicked, "the panic reaches its caller")
	assert.Error(t, swallowed, "an operation that went on after a failed statement is not acknowledged")
	for i := range n {
		num := fmt.Sprintf("R-%04d", i)
		if i%3 == 0 {
			assert.ErrorIs(t, errs[i], errRefused, num)
		} else {
			assert.NoError(t, errs[i], num)
		}
		checkWhole(t, db, num, i%3 != 0)
	}
	// Gapless: only the kept operations consumed a number.
	assert.Equal(t, n-n/3+1, nextNumber(t, db, "seq"))
}

// TestGroupCommitCancelledCallerDoesNotHurtOthers cancels callers while
// their batch is running: whatever they were told is true, and every
// other operation is stored whole.
func TestGroupCommitCancelledCallerDoesNotHurtOthers(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	const n = 120
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx := t.Context()
			if i%2 == 0 {
				c, cancel := context.WithTimeout(ctx, time.Duration(i%7)*200*time.Microsecond)
				defer cancel()
				ctx = c
			}
			errs[i] = writeOp(ctx, db, fmt.Sprintf("C-%04d", i), false)
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		num := fmt.Sprintf("C-%04d", i)
		if i%2 == 1 {
			require.NoError(t, errs[i], num)
		}
		checkWhole(t, db, num, errs[i] == nil)
		if errs[i] == nil {
			ok++
		}
	}
	assert.Equal(t, ok+1, nextNumber(t, db, "seq"), "numbers of the cancelled operations are not consumed")
}

// TestGroupCommitCloseAnswersEveryCaller closes the store under load:
// every write either committed (and is stored) or was refused.
func TestGroupCommitCloseAnswersEveryCaller(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	db, err := postgres.OpenConfig(context.Background(), poolConfig(t, schema), nil)
	require.NoError(t, err)
	const n = 120
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = writeOp(t.Context(), db, fmt.Sprintf("X-%04d", i), false) })
	}
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, db.Close())
	wg.Wait()
	require.NoError(t, db.Close(), "closing twice")
	db2 := openIn(t, schema)
	for i := range n {
		checkWhole(t, db2, fmt.Sprintf("X-%04d", i), errs[i] == nil)
	}
	assert.ErrorContains(t, writeOp(t.Context(), db, "late", false), "closed")
}

// TestWriteLanesOff keeps one transaction per Update when group commit is
// off: the same guarantees hold.
func TestWriteLanesOff(t *testing.T) {
	t.Parallel()
	db, err := postgres.OpenConfig(context.Background(), poolConfig(t, newSchema(t)), nil, postgres.WithWriteLanes(0))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, writeOp(t.Context(), db, "A", false))
	require.ErrorIs(t, writeOp(t.Context(), db, "B", true), errRefused)
	checkWhole(t, db, "A", true)
	checkWhole(t, db, "B", false)
	assert.Equal(t, 2, nextNumber(t, db, "seq"))
}

// TestGroupCommitDeferredInserts covers the inserts sent with a later
// statement (deferred.go): the ids an operation is given are those of the
// rows stored, an operation reads its own writes, and an insert that
// fails only when it reaches the server (a request number already taken)
// fails its own operation with flows.ErrConflict and leaves nothing of it,
// while the operations sharing its batch are kept.
func TestGroupCommitDeferredInserts(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	type ids struct{ in, task, event, msg int64 }
	const n = 80
	got := make([]ids, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		num := fmt.Sprintf("D-%04d", i)
		if i%4 == 3 {
			num = "D-0000" // taken by operation 0 (or by whichever ran first)
		}
		wg.Go(func() {
			errs[i] = db.Update(ctx, func(tx flows.Tx) error {
				in := &flows.Instance{Number: num, FlowID: "f", FlowVersion: 1, Applicant: "a", Status: flows.StatusPending, CreatedAt: now, UpdatedAt: now}
				if err := tx.CreateInstance(in); err != nil {
					return err
				}
				tk := &flows.Task{InstanceID: in.ID, StepID: "s", Assignee: fmt.Sprintf("u%d", i), Status: flows.TaskPending, CreatedAt: now}
				if err := tx.CreateTask(tk); err != nil {
					return err
				}
				e := &flows.Event{InstanceID: in.ID, TaskID: tk.ID, FlowID: "f", Type: flows.EvSubmitted, Actor: "a", At: now}
				if err := tx.AppendEvent(e); err != nil {
					return err
				}
				m := &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: tk.Assignee, InstanceID: in.ID, TaskID: tk.ID, NextAt: now, CreatedAt: now}
				if err := tx.Enqueue(m); err != nil {
					return err
				}
				// Read back inside the operation: its own writes are seen.
				ts, err := tx.TasksOf(in.ID)
				if err != nil {
					return err
				}
				if len(ts) != 1 || ts[0].ID != tk.ID {
					return fmt.Errorf("tasks of %d read inside the operation: %+v, want task %d", in.ID, ts, tk.ID)
				}
				got[i] = ids{in.ID, tk.ID, e.ID, m.ID}
				return nil
			})
		})
	}
	wg.Wait()
	failed := 0
	for i := range n {
		if errs[i] != nil {
			failed++
			assert.ErrorIs(t, errs[i], flows.ErrConflict, "operation %d", i)
			continue
		}
		g := got[i]
		require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
			in, err := tx.Instance(g.in)
			if err != nil {
				return err
			}
			tk, err := tx.Task(g.task)
			if err != nil {
				return err
			}
			assert.Equal(t, in.ID, tk.InstanceID)
			assert.Equal(t, fmt.Sprintf("u%d", i), tk.Assignee, "task %d is operation %d's", g.task, i)
			es, err := tx.EventsOf(g.in)
			if err != nil {
				return err
			}
			if assert.Len(t, es, 1) {
				assert.Equal(t, g.event, es[0].ID)
				assert.Equal(t, g.task, es[0].TaskID)
			}
			return nil
		}))
		ms, err := db.Outbox(ctx, flows.OutboxPending, 1000)
		require.NoError(t, err)
		found := false
		for _, m := range ms {
			if m.ID == g.msg {
				found = true
				assert.Equal(t, fmt.Sprintf("u%d", i), m.Recipient)
			}
		}
		assert.True(t, found, "message %d of operation %d stored", g.msg, i)
	}
	assert.Equal(t, n/4, failed, "every operation reusing D-0000 fails, the first holder of it only is kept")
	ts, err := db.Tasks(ctx, flows.TaskFilter{Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, ts, n-n/4, "no task of a failed operation is stored")
}
