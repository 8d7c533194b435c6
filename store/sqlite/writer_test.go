package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/internal/killtest"
	"github.com/flowbot/flowbot/store/sqlite"
)

var errRefused = errors.New("refused by the test")

// writeOp writes what an engine operation writes for request number n: an
// instance, a task, an event and an outbox message, in one Update. When
// fail is set it writes all of that and then fails.
func writeOp(ctx context.Context, db *sqlite.DB, n string, fail bool) error {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	return db.Update(ctx, func(tx flows.Tx) error {
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

// writeManyAtOnce runs n writeOps at once, so that they share batches,
// numbered prefix-0000 on, every third failing after it wrote, beside one
// Update that writes with write and then panics with boom. It returns each
// op's error and what the panicking Update raised.
func writeManyAtOnce(ctx context.Context, db *sqlite.DB, prefix string, n int, write func(tx flows.Tx), boom string) (errs []error, panicked any) {
	errs = make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = writeOp(ctx, db, fmt.Sprintf("%s-%04d", prefix, i), i%3 == 0) })
	}
	wg.Go(func() {
		defer func() { panicked = recover() }()
		_ = db.Update(ctx, func(tx flows.Tx) error {
			write(tx)
			panic(boom)
		})
	})
	wg.Wait()
	return errs, panicked
}

// checkWhole asserts request n is stored with everything its operation
// wrote, or (want false) not at all.
func checkWhole(t *testing.T, db *sqlite.DB, n string, want bool) {
	t.Helper()
	ctx := t.Context()
	err := db.View(ctx, func(tx flows.Tx) error {
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

// TestGroupCommitFailedOperationRolledBackAlone runs many concurrent
// writes, so that they share batches, where every third fails after
// writing and one panics: the failed ones leave nothing, every other one
// is stored whole.
func TestGroupCommitFailedOperationRolledBackAlone(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	ctx := t.Context()
	const n = 300
	errs, panicked := writeManyAtOnce(ctx, db, "R", n, func(tx flows.Tx) { _, _ = tx.NextNumber("panic-key") }, "boom in a batch")
	assert.Equal(t, "boom in a batch", panicked, "the panic reaches its caller")
	for i := range n {
		num := fmt.Sprintf("R-%04d", i)
		if i%3 == 0 {
			assert.ErrorIs(t, errs[i], errRefused, num)
		} else {
			assert.NoError(t, errs[i], num)
		}
		checkWhole(t, db, num, i%3 != 0)
	}
	// The panicking operation's number was rolled back too.
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		v, err := tx.NextNumber("panic-key")
		assert.Equal(t, 1, v)
		return err
	}))
}

// TestGroupCommitCancelledCallerDoesNotHurtOthers cancels callers while
// their batch is running: whatever they were told is true, and every
// other operation is stored whole.
func TestGroupCommitCancelledCallerDoesNotHurtOthers(t *testing.T) {
	t.Parallel()
	db, _ := MustOpen(t)
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx := t.Context()
			if i%2 == 0 {
				c, cancel := context.WithTimeout(ctx, time.Duration(i%7)*100*time.Microsecond)
				defer cancel()
				ctx = c
			}
			errs[i] = writeOp(ctx, db, fmt.Sprintf("C-%04d", i), false)
		})
	}
	wg.Wait()
	for i := range n {
		num := fmt.Sprintf("C-%04d", i)
		if i%2 == 1 {
			require.NoError(t, errs[i], num)
		}
		if errs[i] == nil {
			checkWhole(t, db, num, true)
		}
	}
}

// TestGroupCommitCloseAnswersEveryCaller closes the store under load:
// every write either committed (and is stored) or was refused.
func TestGroupCommitCloseAnswersEveryCaller(t *testing.T) {
	t.Parallel()
	db, path := MustOpen(t)
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = writeOp(t.Context(), db, fmt.Sprintf("X-%04d", i), false) })
	}
	time.Sleep(2 * time.Millisecond)
	require.NoError(t, db.Close())
	wg.Wait()
	db2, err := sqlite.Open(t.Context(), path, sqlite.WithLogger(quiet))
	require.NoError(t, err)
	defer db2.Close()
	for i := range n {
		checkWhole(t, db2, fmt.Sprintf("X-%04d", i), errs[i] == nil)
	}
}

const killChildEnv = "FLOWBOT_SQLITE_KILL_CHILD"

// TestKillChild is the child of TestGroupCommitKill9 (killtest.Child).
// It does nothing in a normal test run.
func TestKillChild(t *testing.T) {
	path := os.Getenv(killChildEnv)
	if path == "" {
		t.Skip("child process of TestGroupCommitKill9")
	}
	db, err := sqlite.Open(context.Background(), path, sqlite.WithLogger(quiet))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	killtest.Child(func(ctx context.Context, n string, fail bool) error { return writeOp(ctx, db, n, fail) }, errRefused, db.WriteStats)
}

// TestGroupCommitKill9 runs a child process writing with 16 concurrent
// callers, kills it with SIGKILL mid-load (three times on the same file),
// and checks after reopening that every operation the child was told had
// committed is stored whole, and no failed operation left anything.
func TestGroupCommitKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "kill.db")
	total := 0
	for round := range 3 {
		acked, batches, ops := killtest.Kill(t, killChildEnv, path, round, 1500+round*700)
		// The kill hit group commits: writes shared their COMMITs.
		require.Greater(t, ops, batches, "round %d: %d writes in %d batches, no group commit", round, ops, batches)
		db, err := sqlite.Open(t.Context(), path, sqlite.WithLogger(quiet))
		require.NoError(t, err, "reopen after kill %d", round)
		n := killtest.Check(t, db, acked, func(t *testing.T, name string) { checkWhole(t, db, name, true) })
		require.NoError(t, db.Close())
		total += len(acked)
		t.Logf("round %d: %d acknowledged writes all stored (%.1f writes per commit); %d requests in the file", round, len(acked), float64(ops)/float64(batches), n)
	}
	require.Greater(t, total, 1000)
}
