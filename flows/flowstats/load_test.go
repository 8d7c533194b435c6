package flowstats_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/store/sqlite"
)

// seed writes an instance with its tasks and its completion event.
func seed(t *testing.T, db flows.Store, in *flows.Instance, tasks ...*flows.Task) {
	t.Helper()
	require.NoError(t, db.Update(context.Background(), func(tx flows.Tx) error {
		in.Number = in.FlowID + "-" + in.CreatedAt.Format("20060102150405")
		if err := tx.CreateInstance(in); err != nil {
			return err
		}
		for _, tk := range tasks {
			tk.InstanceID = in.ID
			if err := tx.CreateTask(tk); err != nil {
				return err
			}
		}
		if in.ClosedAt != nil {
			typ := flows.EvCompleted
			if in.Status == flows.StatusWithdrawn {
				typ = flows.EvWithdrawn
			}
			return tx.AppendEvent(&flows.Event{InstanceID: in.ID, FlowID: in.FlowID, Type: typ, Actor: "system", At: *in.ClosedAt})
		}
		return nil
	}))
}

func TestComputeFromStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "stats.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.ReplaceDirectory(ctx, []*flows.User{{ID: "alice", Name: "A", Dept: "eng"}, {ID: "carol", Name: "C", Dept: "sales"}}, nil))

	// Filed 3 days before the window, approved inside it: found through the event log.
	seed(t, db, &flows.Instance{FlowID: "leave", Applicant: "alice", Status: flows.StatusApproved, CreatedAt: at(-72 * time.Hour), ClosedAt: pt(h(2))},
		&flows.Task{StepID: "mgr", Assignee: "mia", Status: flows.TaskApproved, CreatedAt: at(-72 * time.Hour), StartedAt: pt(-72 * time.Hour), DecidedAt: pt(h(2))})
	// Filed and rejected inside the window.
	seed(t, db, &flows.Instance{FlowID: "leave", Applicant: "carol", Status: flows.StatusRejected, CreatedAt: at(h(1)), ClosedAt: pt(h(3))},
		&flows.Task{StepID: "mgr", Assignee: "mia", Status: flows.TaskRejected, CreatedAt: at(h(1)), StartedAt: pt(h(1)), DecidedAt: pt(h(3))})
	// Still open, filed long ago, overdue.
	seed(t, db, &flows.Instance{FlowID: "leave", Applicant: "carol", Status: flows.StatusPending, CreatedAt: at(-240 * time.Hour)},
		&flows.Task{StepID: "hr", Assignee: "hana", Status: flows.TaskPending, CreatedAt: at(-240 * time.Hour), StartedAt: pt(-240 * time.Hour), Escalated: true})
	// Closed before the window: not in it.
	seed(t, db, &flows.Instance{FlowID: "leave", Applicant: "alice", Status: flows.StatusApproved, CreatedAt: at(-100 * time.Hour), ClosedAt: pt(-90 * time.Hour)})
	// Another flow, in the window.
	seed(t, db, &flows.Instance{FlowID: "expense", Applicant: "alice", Status: flows.StatusApproved, CreatedAt: at(h(1)), ClosedAt: pt(h(5))})

	q := flowstats.Query{Since: day, Until: day.Add(24 * time.Hour), Now: at(h(12))}
	r, err := flowstats.Compute(ctx, db, q)
	require.NoError(t, err)
	require.Equal(t, flowstats.Counts{Submitted: 2, Approved: 2, Rejected: 1, Pending: 1}, r.Total.Counts)
	require.Equal(t, flowstats.Timing{N: 3, Median: h(4), P90: h(74)}, r.Total.Decision)
	require.Equal(t, 1, r.Total.OverdueOpen)
	// hr's only task still waits, so no wait is measured there yet.
	require.Equal(t, "mgr", r.Flow("leave").Bottleneck)
	require.Equal(t, h(38), r.Flow("leave").BottleneckWait) // 74h and 2h

	_, err = flowstats.Compute(ctx, db, flowstats.Query{Since: day, Until: day.Add(-time.Hour)})
	require.ErrorContains(t, err, "window ends")
	_, err = flowstats.Compute(ctx, nil, q)
	require.ErrorContains(t, err, "no store")
}
