package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/postgres"
)

// TestViewIsolation checks what a View's reads see: on the default READ
// COMMITTED (where View sends no BEGIN and COMMIT) a request created by
// another writer between two reads is seen by the second, as in a READ
// COMMITTED transaction; on a server whose default is REPEATABLE READ the
// View is a transaction and both reads see one snapshot.
func TestViewIsolation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		iso        string // default_transaction_isolation; "": the server's
		secondSees int
	}{{"", 1}, {"repeatable read", 0}} {
		t.Run(cmpName(tc.iso), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cfg := poolConfig(t, newSchema(t))
			if tc.iso != "" {
				cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = tc.iso
			}
			db, err := postgres.OpenConfig(ctx, cfg, nil)
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			var first, second int
			require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
				if _, err := tx.InstanceByNumber("ISO-1"); err == nil {
					first = 1
				}
				// Written and committed by another caller in the middle.
				if err := db.Update(context.WithoutCancel(ctx), func(tx flows.Tx) error {
					return tx.CreateInstance(newInstance("ISO-1"))
				}); err != nil {
					return err
				}
				if _, err := tx.InstanceByNumber("ISO-1"); err == nil {
					second = 1
				}
				return nil
			}))
			require.Equal(t, 0, first, "the first read saw the request")
			require.Equal(t, tc.secondSees, second, "got %d requests seen by the second read, want %d", second, tc.secondSees)
			err = db.View(ctx, func(tx flows.Tx) error { return tx.CreateInstance(newInstance("ISO-2")) })
			require.ErrorContains(t, err, "read-only")
		})
	}
}

func cmpName(iso string) string {
	if iso == "" {
		return "server default"
	}
	return iso
}

// TestViewTaskReadsAhead checks the reads a View's Task sends ahead
// (prefetch.go): the instance and its tasks then read are those stored;
// each is answered ahead once, so a second read sees a write made in
// between; another instance's reads and an unknown task are not answered
// from them.
func TestViewTaskReadsAhead(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t)
	var a, b *flows.Instance
	var ta []*flows.Task
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		a, b = newInstance("AHEAD-1"), newInstance("AHEAD-2")
		if err := tx.CreateInstance(a); err != nil {
			return err
		}
		if err := tx.CreateInstance(b); err != nil {
			return err
		}
		for _, who := range []string{"u2", "u3"} {
			tk := &flows.Task{InstanceID: a.ID, StepID: "manager", Assignee: who, Status: flows.TaskPending, CreatedAt: t0}
			if err := tx.CreateTask(tk); err != nil {
				return err
			}
			ta = append(ta, tk)
		}
		return nil
	}))
	require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
		_, err := tx.Task(ta[1].ID + 100)
		require.ErrorIs(t, err, flows.ErrNotFound)
		tk, err := tx.Task(ta[1].ID)
		require.NoError(t, err)
		require.Equal(t, "u3", tk.Assignee)
		none, err := tx.TasksOf(b.ID)
		require.NoError(t, err)
		require.Empty(t, none, "tasks of another instance")
		other, err := tx.Instance(b.ID)
		require.NoError(t, err)
		require.Equal(t, "AHEAD-2", other.Number)
		in, err := tx.Instance(a.ID)
		require.NoError(t, err)
		require.Equal(t, "AHEAD-1", in.Number)
		require.Equal(t, int64(1), in.Rev)
		ts, err := tx.TasksOf(a.ID)
		require.NoError(t, err)
		require.Len(t, ts, 2)
		require.Equal(t, []int64{ta[0].ID, ta[1].ID}, []int64{ts[0].ID, ts[1].ID})
		// Moved by another caller: the next reads go to the database.
		if err := db.Update(context.WithoutCancel(ctx), func(w flows.Tx) error {
			in.Status = flows.StatusApproved
			if err := w.UpdateInstance(in); err != nil {
				return err
			}
			return w.CreateTask(&flows.Task{InstanceID: a.ID, StepID: "hr", Assignee: "u4", Status: flows.TaskPending, CreatedAt: t0})
		}); err != nil {
			return err
		}
		again, err := tx.Instance(a.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2), again.Rev, "got rev %d, want 2", again.Rev)
		ts, err = tx.TasksOf(a.ID)
		require.NoError(t, err)
		require.Len(t, ts, 3)
		return nil
	}))
}
