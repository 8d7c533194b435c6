package flowstats_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// Under load forecasts update the aggregate on every card they draw: the
// directory is read again only when it is older than DirectoryRecheck or
// when someone filing is not in it, and requests are still counted under
// the department their applicant is in.
func TestUpdateReadsTheDirectoryOnlyWhenItCanHaveChanged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := &sliceSource{users: []*flows.User{{ID: "alice", Dept: "eng"}}}
	a := flowstats.NewAggregate(nil)
	id := int64(0)
	file := func(actor string) {
		id++
		src.evs = append(src.evs, &flows.Event{ID: id, InstanceID: id, FlowID: "leave", Type: flows.EvSubmitted, Actor: actor, At: origin})
		_, err := a.Update(ctx, src)
		require.NoError(t, err)
	}
	submitted := func(dept string) int { return a.Summary(flowstats.Filter{}).Dept(dept).Submitted }

	cases := []struct {
		name      string
		before    func()
		actor     string
		reads     int // directory reads after the filing, in all
		dept      string
		submitted int
	}{
		{"first update reads the directory", nil, "alice", 1, "eng", 1},
		{"a known applicant: no read", nil, "alice", 1, "eng", 2},
		{"again: no read", nil, "alice", 1, "eng", 3},
		{"a new employee is read at once", func() {
			src.users = []*flows.User{{ID: "alice", Dept: "eng"}, {ID: "bob", Dept: "sales"}}
		}, "bob", 2, "sales", 1},
		{"a move is seen once the directory is old", func() {
			src.users = []*flows.User{{ID: "alice", Dept: "ops"}, {ID: "bob", Dept: "sales"}}
			flowstats.AgeDirectory(a)
		}, "alice", 3, "ops", 1},
	}
	for _, tc := range cases {
		if tc.before != nil {
			tc.before()
		}
		file(tc.actor)
		require.Equal(t, tc.reads, src.userReads, tc.name)
		require.Equal(t, tc.submitted, submitted(tc.dept), tc.name)
	}
	_, err := a.Update(ctx, src)
	require.NoError(t, err)
	require.Equal(t, 3, src.userReads, "nothing new: no directory read")
	require.Equal(t, 3, submitted("eng"), "requests filed before the move stay with the old department")
}
