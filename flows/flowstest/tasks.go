package flowstest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var taskTests = []test{
	{"CreateTaskRoundTrip", testCreateTask},
	{"UpdateTask", testUpdateTask},
	{"TasksOfOrder", testTasksOf},
	{"DueTasks", testDueTasks},
	{"DueTasksLimit", testDueTasksLimit},
}

func testCreateTask(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	tests := []struct {
		name string
		task *flows.Task
	}{
		{"Pending", newTask(in.ID, "bob", ptr(at(time.Hour)))},
		{"Queued", &flows.Task{InstanceID: in.ID, StepID: "hr", Seq: 2, Assignee: "韩梅梅", Status: flows.TaskQueued, CreatedAt: T0}},
		{"AllFields", &flows.Task{
			InstanceID: in.ID, StepID: "manager", Seq: 3, Assignee: "carol", Status: flows.TaskRejected,
			Comment: "预算不足 / over budget", DecidedBy: "system", Auto: true,
			CreatedAt: T0, StartedAt: ptr(at(time.Second)), DecidedAt: ptr(at(2 * time.Hour)),
			RemindAt: ptr(at(time.Hour)), EscalateAt: ptr(at(90 * time.Minute)), TimeoutAt: ptr(at(2 * time.Hour)),
			DueAt: ptr(at(time.Hour)), Reminders: 2, Escalated: true, From: "dave", Note: "转交：出差", OnBehalfOf: "李雷",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := *tc.task
			b.mustTask(t, tc.task)
			want.ID = tc.task.ID
			require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
				got, err := tx.Task(tc.task.ID)
				require.NoError(t, err)
				requireTask(t, &want, got)
				return nil
			}))
		})
	}
}

func testUpdateTask(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	tk := b.mustTask(t, newTask(in.ID, "bob", ptr(at(time.Hour))))
	tk.Status, tk.Comment, tk.DecidedBy, tk.DecidedAt = flows.TaskApproved, "ok 同意", "bob", ptr(at(time.Minute))
	tk.DueAt, tk.StartedAt, tk.Reminders, tk.Escalated, tk.Auto = nil, nil, 1, true, true
	b.update(t, func(tx flows.Tx) error { return tx.UpdateTask(tk) })
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.Task(tk.ID)
		require.NoError(t, err)
		requireTask(t, tk, got)
		return nil
	}))

	// Every field is written, the instance and assignee too.
	other := b.mustInstance(t, "LEAVE-20261126-0002", "alice", T0)
	tk.InstanceID, tk.Assignee, tk.CreatedAt = other.ID, "carol", at(time.Hour)
	b.update(t, func(tx flows.Tx) error { return tx.UpdateTask(tk) })
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.Task(tk.ID)
		require.NoError(t, err)
		requireTask(t, tk, got)
		ts, err := tx.TasksOf(in.ID)
		require.NoError(t, err)
		require.Empty(t, ts)
		ts, err = tx.TasksOf(other.ID)
		require.NoError(t, err)
		require.Equal(t, []int64{tk.ID}, taskIDs(ts))
		return nil
	}))

	ghost := *tk
	ghost.ID = tk.ID + 1000
	err := b.s.Update(b.ctx, func(tx flows.Tx) error { return tx.UpdateTask(&ghost) })
	require.ErrorIs(t, err, flows.ErrNotFound)
}

func testTasksOf(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	other := b.mustInstance(t, "LEAVE-20261126-0002", "alice", T0)
	var want []int64
	b.update(t, func(tx flows.Tx) error {
		// Seq and assignees out of order: TasksOf orders by id.
		for i, who := range []string{"zed", "amy", "mo"} {
			tk := newTask(in.ID, who, nil)
			tk.Seq = 3 - i
			require.NoError(t, tx.CreateTask(tk))
			want = append(want, tk.ID)
			require.NoError(t, tx.CreateTask(newTask(other.ID, who, nil)))
		}
		got, err := tx.TasksOf(in.ID)
		require.NoError(t, err)
		require.Equal(t, want, taskIDs(got), "TasksOf inside the writing Update")
		return nil
	})
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.TasksOf(in.ID)
		require.NoError(t, err)
		require.Equal(t, want, taskIDs(got))
		return nil
	}))
}

func testDueTasks(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	now := at(time.Hour)
	mk := func(who string, status flows.TaskStatus, due *time.Time) *flows.Task {
		tk := newTask(in.ID, who, due)
		tk.Status = status
		return b.mustTask(t, tk)
	}
	late := mk("late", flows.TaskPending, ptr(at(10*time.Minute)))
	mk("future", flows.TaskPending, ptr(at(2*time.Hour)))
	mk("never", flows.TaskPending, nil)
	mk("decided", flows.TaskApproved, ptr(at(time.Minute)))
	mk("queued", flows.TaskQueued, ptr(at(time.Minute)))
	exact := mk("exact", flows.TaskPending, ptr(now))
	earliest := mk("earliest", flows.TaskPending, ptr(at(-time.Hour)))
	justAfter := mk("just-after", flows.TaskPending, ptr(now.Add(time.Millisecond)))

	for _, run := range []func(ctx context.Context, fn func(flows.Tx) error) error{b.s.View, b.s.Update} {
		require.NoError(t, run(b.ctx, func(tx flows.Tx) error {
			got, err := tx.DueTasks(now, 100)
			require.NoError(t, err)
			require.Equal(t, []int64{earliest.ID, late.ID, exact.ID}, taskIDs(got), "pending tasks due by now, earliest first")
			requireTask(t, late, got[1])
			got, err = tx.DueTasks(now.Add(time.Millisecond), 100)
			require.NoError(t, err)
			require.Equal(t, []int64{earliest.ID, late.ID, exact.ID, justAfter.ID}, taskIDs(got))
			got, err = tx.DueTasks(at(-2*time.Hour), 100)
			require.NoError(t, err)
			require.Empty(t, got)
			return nil
		}))
	}

	// Deciding a task removes it from DueTasks.
	late.Status, late.DueAt = flows.TaskApproved, nil
	b.update(t, func(tx flows.Tx) error { return tx.UpdateTask(late) })
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.DueTasks(now, 100)
		require.NoError(t, err)
		require.Equal(t, []int64{earliest.ID, exact.ID}, taskIDs(got))
		return nil
	}))
}

func testDueTasksLimit(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	var want []int64
	b.update(t, func(tx flows.Tx) error {
		// Created latest-due first, so id order differs from due order.
		for i := 10; i > 0; i-- {
			tk := newTask(in.ID, "bob", ptr(at(time.Duration(i)*time.Minute)))
			require.NoError(t, tx.CreateTask(tk))
			want = append([]int64{tk.ID}, want...)
		}
		return nil
	})
	for _, limit := range []int{1, 3, 10} {
		require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
			got, err := tx.DueTasks(at(time.Hour), limit)
			require.NoError(t, err)
			require.Equal(t, want[:limit], taskIDs(got), "limit %d", limit)
			return nil
		}))
	}
}
