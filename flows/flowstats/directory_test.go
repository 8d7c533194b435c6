package flowstats_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// memSource is an EventSource over a slice, counting directory reads.
type memSource struct {
	mu        sync.Mutex
	evs       []*flows.Event
	users     []*flows.User
	userReads int
}

func (s *memSource) add(evs ...*flows.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, evs...)
}

func (s *memSource) setUsers(us ...*flows.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = us
}

func (s *memSource) Events(_ context.Context, f flows.EventFilter) ([]*flows.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*flows.Event
	for _, e := range s.evs {
		if e.ID > f.AfterID && (f.Limit == 0 || len(out) < f.Limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memSource) Users(context.Context) ([]*flows.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userReads++
	return s.users, nil
}

func (s *memSource) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userReads
}

// Under load forecasts update the aggregate on every card they draw: the
// directory is read again only when it is older than DirectoryRecheck or
// when someone filing is not in it, and requests are still counted under
// the department their applicant is in.
func TestUpdateReadsTheDirectoryOnlyWhenItCanHaveChanged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := &memSource{}
	src.setUsers(&flows.User{ID: "alice", Dept: "eng"})
	a := flowstats.NewAggregate(nil)
	id := int64(0)
	file := func(actor string) {
		id++
		src.add(&flows.Event{ID: id, InstanceID: id, FlowID: "leave", Type: flows.EvSubmitted, Actor: actor, At: origin})
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
			src.setUsers(&flows.User{ID: "alice", Dept: "eng"}, &flows.User{ID: "bob", Dept: "sales"})
		}, "bob", 2, "sales", 1},
		{"a move is seen once the directory is old", func() {
			src.setUsers(&flows.User{ID: "alice", Dept: "ops"}, &flows.User{ID: "bob", Dept: "sales"})
			flowstats.AgeDirectory(a)
		}, "alice", 3, "ops", 1},
	}
	for _, tc := range cases {
		if tc.before != nil {
			tc.before()
		}
		file(tc.actor)
		require.Equal(t, tc.reads, src.reads(), tc.name)
		require.Equal(t, tc.submitted, submitted(tc.dept), tc.name)
	}
	_, err := a.Update(ctx, src)
	require.NoError(t, err)
	require.Equal(t, 3, src.reads(), "nothing new: no directory read")
	require.Equal(t, 3, submitted("eng"), "requests filed before the move stay with the old department")
}
