package flows

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRecentKeepsTheNewestRevision(t *testing.T) {
	t.Parallel()
	tasks := func(status TaskStatus) []*Task {
		return []*Task{{ID: 10, InstanceID: 1, Status: status}, {ID: 11, InstanceID: 1, Status: TaskQueued}}
	}
	cases := []struct {
		name string
		do   func(r *recent)
		rev  int64 // 0: nothing kept
		st   TaskStatus
	}{
		{"newer replaces", func(r *recent) {
			r.put(&Instance{ID: 1, Rev: 1}, tasks(TaskPending))
			r.put(&Instance{ID: 1, Rev: 2}, tasks(TaskApproved))
		}, 2, TaskApproved},
		{"older recorded late is ignored", func(r *recent) {
			r.put(&Instance{ID: 1, Rev: 2}, tasks(TaskApproved))
			r.put(&Instance{ID: 1, Rev: 1}, tasks(TaskPending))
		}, 2, TaskApproved},
		{"same revision is ignored", func(r *recent) {
			r.put(&Instance{ID: 1, Rev: 2}, tasks(TaskApproved))
			r.put(&Instance{ID: 1, Rev: 2}, tasks(TaskPending))
		}, 2, TaskApproved},
		{"dropped", func(r *recent) {
			r.put(&Instance{ID: 1, Rev: 2}, tasks(TaskApproved))
			r.drop(1)
		}, 0, ""},
		{"pushed out by newer instances", func(r *recent) {
			r.put(&Instance{ID: 1, Rev: 2}, tasks(TaskApproved))
			for id := int64(2); id <= 4; id++ {
				r.put(&Instance{ID: id, Rev: 1}, []*Task{{ID: 100 + id, InstanceID: id}})
			}
		}, 0, ""},
		{"dropped, recorded again, and kept past its old slot", func(r *recent) {
			r.put(&Instance{ID: 1, Rev: 1}, tasks(TaskPending))
			r.drop(1)
			r.put(&Instance{ID: 1, Rev: 2}, tasks(TaskApproved))
			r.put(&Instance{ID: 2, Rev: 1}, []*Task{{ID: 102, InstanceID: 2}})
		}, 2, TaskApproved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRecent(3)
			c.do(r)
			in, ts, ok := r.task(10)
			if c.rev == 0 {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, c.rev, in.Rev)
			require.Equal(t, c.st, ts[0].Status)
			// What task returns is a copy: changing it changes nothing kept.
			in.Rev, ts[0].Status = 99, TaskRejected
			in2, ts2, _ := r.task(11)
			require.Equal(t, c.rev, in2.Rev)
			require.Equal(t, c.st, ts2[0].Status)
		})
	}
}

// A request with more events than are kept is viewed by reading it; its
// state still serves decisions.
func TestRecentKeepsBoundedEvents(t *testing.T) {
	t.Parallel()
	r := newRecent(4)
	in := &Instance{ID: 1, Rev: 1}
	ts := []*Task{{ID: 10, InstanceID: 1}}
	evs := make([]*Event, maxRecentEvents)
	for i := range evs {
		evs[i] = &Event{ID: int64(i + 1), InstanceID: 1}
	}
	r.committed(in, ts, evs, []int64{1}, 0)
	_, _, got, ok := r.view(1)
	require.True(t, ok)
	require.Len(t, got, maxRecentEvents)

	r.committed(&Instance{ID: 1, Rev: 2}, ts, []*Event{{ID: 999, InstanceID: 1}}, []int64{1}, 1)
	_, _, _, ok = r.view(1)
	require.False(t, ok, "one event too many: read")
	got2, _, ok := r.task(10)
	require.True(t, ok)
	require.Equal(t, int64(2), got2.Rev)
}
