package flowstest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var queryTests = []test{
	{"Instances", testInstancesFilter},
	{"Tasks", testTasksFilter},
}

func testInstancesFilter(t *testing.T, b *bundle) {
	mk := func(n, who, flow string, st flows.Status, created time.Duration) *flows.Instance {
		in := newInstance(n, who, at(created))
		in.FlowID, in.Status = flow, st
		b.update(t, func(tx flows.Tx) error { return tx.CreateInstance(in) })
		return in
	}
	a1 := mk("L-1", "alice", "leave", flows.StatusApproved, 0)
	b1 := mk("E-1", "bob", "expense", flows.StatusPending, time.Minute)
	a2 := mk("E-2", "alice", "expense", flows.StatusRejected, 2*time.Minute)
	a3 := mk("L-2", "alice", "leave", flows.StatusPending, 3*time.Minute)
	b2 := mk("L-3", "bob", "leave", flows.StatusReturned, 4*time.Minute)
	tests := []struct {
		name string
		f    flows.InstanceFilter
		want []*flows.Instance
	}{
		{"AllNewestFirst", flows.InstanceFilter{}, []*flows.Instance{b2, a3, a2, b1, a1}},
		{"Applicant", flows.InstanceFilter{Applicant: "alice"}, []*flows.Instance{a3, a2, a1}},
		{"Flow", flows.InstanceFilter{FlowID: "expense"}, []*flows.Instance{a2, b1}},
		{"Status", flows.InstanceFilter{Status: []flows.Status{flows.StatusPending}}, []*flows.Instance{a3, b1}},
		{"StatusList", flows.InstanceFilter{Status: []flows.Status{flows.StatusPending, flows.StatusReturned}}, []*flows.Instance{b2, a3, b1}},
		{"SinceInclusive", flows.InstanceFilter{Since: at(2 * time.Minute)}, []*flows.Instance{b2, a3, a2}},
		{"Limit", flows.InstanceFilter{Limit: 2}, []*flows.Instance{b2, a3}},
		{"Combined", flows.InstanceFilter{Applicant: "alice", FlowID: "leave", Status: []flows.Status{flows.StatusApproved, flows.StatusPending}, Limit: 1}, []*flows.Instance{a3}},
		{"NoMatch", flows.InstanceFilter{Applicant: "zed"}, nil},
		{"BeforeCursor", flows.InstanceFilter{BeforeAt: a3.CreatedAt, BeforeID: a3.ID}, []*flows.Instance{a2, b1, a1}},
		{"BeforeCursorSameTimeSmallerID", flows.InstanceFilter{BeforeAt: a3.CreatedAt, BeforeID: a3.ID + 1}, []*flows.Instance{a3, a2, b1, a1}},
		{"BeforeCursorFiltered", flows.InstanceFilter{Applicant: "alice", BeforeAt: a3.CreatedAt, BeforeID: a3.ID, Limit: 1}, []*flows.Instance{a2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.s.Instances(b.ctx, tc.f)
			require.NoError(t, err)
			require.Equal(t, instanceIDs(tc.want), instanceIDs(got))
			for i := range tc.want {
				requireInstance(t, tc.want[i], got[i])
			}
		})
	}
}

func testTasksFilter(t *testing.T, b *bundle) {
	i1 := b.mustInstance(t, "L-1", "alice", T0)
	i2 := b.mustInstance(t, "L-2", "alice", T0)
	mk := func(in *flows.Instance, who string, st flows.TaskStatus) *flows.Task {
		tk := newTask(in.ID, who, nil)
		tk.Status = st
		return b.mustTask(t, tk)
	}
	t1 := mk(i1, "bob", flows.TaskApproved)
	t2 := mk(i1, "carol", flows.TaskPending)
	t3 := mk(i2, "bob", flows.TaskPending)
	t4 := mk(i2, "bob", flows.TaskQueued)
	tests := []struct {
		name string
		f    flows.TaskFilter
		want []*flows.Task
	}{
		{"All", flows.TaskFilter{}, []*flows.Task{t1, t2, t3, t4}},
		{"Assignee", flows.TaskFilter{Assignee: "bob"}, []*flows.Task{t1, t3, t4}},
		{"Instance", flows.TaskFilter{InstanceID: i2.ID}, []*flows.Task{t3, t4}},
		{"Status", flows.TaskFilter{Status: []flows.TaskStatus{flows.TaskPending}}, []*flows.Task{t2, t3}},
		{"AssigneeStatus", flows.TaskFilter{Assignee: "bob", Status: []flows.TaskStatus{flows.TaskPending, flows.TaskQueued}}, []*flows.Task{t3, t4}},
		{"Limit", flows.TaskFilter{Assignee: "bob", Limit: 2}, []*flows.Task{t1, t3}},
		{"NoMatch", flows.TaskFilter{Assignee: "zed"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.s.Tasks(b.ctx, tc.f)
			require.NoError(t, err)
			require.Equal(t, taskIDs(tc.want), taskIDs(got), "ordered by id")
			for i := range tc.want {
				requireTask(t, tc.want[i], got[i])
			}
		})
	}
}
