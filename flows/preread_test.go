package flows_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// raceStore runs between before the first write transaction it is asked
// for, that is after Decide read the task outside the writer and before it
// writes, and counts the task and instance reads made inside writes.
type raceStore struct {
	flows.Store
	between     func()
	once        sync.Once
	readsInside atomic.Int64
}

func (s *raceStore) Update(ctx context.Context, fn func(tx flows.Tx) error) error {
	s.once.Do(func() {
		if s.between != nil {
			s.between()
		}
	})
	return s.Store.Update(ctx, func(tx flows.Tx) error { return fn(countingTx{tx, &s.readsInside}) })
}

type countingTx struct {
	flows.Tx
	n *atomic.Int64
}

func (t countingTx) Task(id int64) (*flows.Task, error) { t.n.Add(1); return t.Tx.Task(id) }
func (t countingTx) Instance(id int64) (*flows.Instance, error) {
	t.n.Add(1)
	return t.Tx.Instance(id)
}
func (t countingTx) TasksOf(id int64) ([]*flows.Task, error) { t.n.Add(1); return t.Tx.TasksOf(id) }

func TestDecideReadsOutsideTheWrite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(1))
	rs := &raceStore{Store: b.store}
	e := flows.New(flows.Config{Store: rs, Clock: b.clock})
	got, err := e.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, got.Instance.Status)
	require.Len(t, got.Tasks, 1)
	require.Equal(t, flows.TaskApproved, got.Tasks[0].Status, "the outcome lists the tasks as written")
	require.Equal(t, flows.TaskApproved, got.Task.Status)
	require.Zero(t, rs.readsInside.Load(), "the task, instance and tasks were read before the write")
}

// A decision whose early read went stale before its write (the request was
// withdrawn, or the task decided, in between) is taken on what is stored
// now: refused, and nothing of it written.
func TestDecideAfterItsReadWentStale(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		between func(t *testing.T, b *bundle, out *flows.Outcome)
		key     string
		status  flows.Status
	}{
		{"withdrawn", func(t *testing.T, b *bundle, out *flows.Outcome) {
			_, err := b.engine.Withdraw(b.ctx, "dev1", out.Instance.ID, "plans changed")
			require.NoError(t, err)
		}, "request_closed", flows.StatusWithdrawn},
		{"rejected by the same approver elsewhere", func(t *testing.T, b *bundle, out *flows.Outcome) {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Comment: "no"})
			require.NoError(t, err)
		}, "already_decided", flows.StatusRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out := b.submit(t, "dev1", "leave", leave(1))
			var between [3]int
			rs := &raceStore{Store: b.store, between: func() {
				c.between(t, b, out)
				between = snapshot(t, b)
			}}
			e := flows.New(flows.Config{Store: rs, Clock: b.clock})
			_, err := e.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
			var fe *flows.Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, c.key, fe.Key)
			v, err := b.engine.View(b.ctx, out.Instance.ID)
			require.NoError(t, err)
			require.Equal(t, c.status, v.Instance.Status)
			for _, ev := range v.Events {
				require.NotEqual(t, flows.EvApproved, ev.Type, "the stale decision wrote nothing")
			}
			require.Equal(t, between, snapshot(t, b), "no event, message or request written by the refused decision")
		})
	}
}

// ViewByNumber shows what View shows, in one read transaction; the number
// is found whatever its case and spaces, and an unknown one is a clear
// not-found.
func TestViewByNumberReadsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(2))
	reads := &testkit.ReadCounter{Store: b.store}
	e := flows.New(flows.Config{Store: reads, Clock: b.clock})
	want, err := e.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	for _, number := range []string{out.Instance.Number, "  " + strings.ToLower(out.Instance.Number) + " "} {
		before := reads.Reads()
		got, err := e.ViewByNumber(b.ctx, number)
		require.NoError(t, err, number)
		require.Equal(t, int64(1), reads.Reads()-before, "%q: one read", number)
		require.Equal(t, want, got, number)
	}
	_, err = e.ViewByNumber(b.ctx, "LEAVE-20991231-0001")
	require.Equal(t, flows.CodeNotFound, flows.ErrorCode(err), "an unknown number: %v", err)
	require.ErrorContains(t, err, "LEAVE-20991231-0001")
}
