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

// A decision on a request this engine wrote last starts from what it wrote:
// no read transaction before its write and no read of the task, instance
// or tasks inside it.
func TestDecisionStartsFromWhatItsEngineWrote(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reads := &testkit.ReadCounter{Store: b.store}
	rs := &raceStore{Store: reads}
	e := flows.New(flows.Config{Store: rs, Clock: b.clock})
	out, err := e.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "seq", Values: map[string]any{"note": "in turn"}})
	require.NoError(t, err)
	for i, who := range []string{"cto", "cfo"} {
		before, inside := reads.Reads(), rs.readsInside.Load()
		out, err = e.Decide(b.ctx, flows.DecideRequest{Actor: who, TaskID: pending(out)[who].ID, Approve: true})
		require.NoError(t, err, who)
		require.Zero(t, reads.Reads()-before, "%s: no read transaction", who)
		require.Zero(t, rs.readsInside.Load()-inside, "%s: nothing read inside the write", who)
		if i == 0 {
			require.Equal(t, flows.StatusPending, out.Instance.Status)
		}
	}
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, out.Instance.Rev, v.Instance.Rev, "what the outcome says was stored")
	require.Equal(t, flows.StatusApproved, v.Instance.Status)
}

// What an engine wrote last can be out of date: another process (here a
// second engine on the same store) changed the request since. A decision
// that starts from it is taken on what is stored now, whether the old
// state would have let it through or refused it.
func TestDecisionFromAnOutdatedRecentState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		flow    string
		vals    map[string]any
		other   func(t *testing.T, b *bundle, out *flows.Outcome) // on the second engine
		actor   string
		wantKey string // "" the decision goes through
		status  flows.Status
	}{
		{"withdrawn elsewhere", "leave", leave(1), func(t *testing.T, b *bundle, out *flows.Outcome) {
			_, err := b.engine.Withdraw(b.ctx, "dev1", out.Instance.ID, "plans changed")
			require.NoError(t, err)
		}, "cto", "request_closed", flows.StatusWithdrawn},
		{"rejected elsewhere", "leave", leave(1), func(t *testing.T, b *bundle, out *flows.Outcome) {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Comment: "no"})
			require.NoError(t, err)
		}, "cto", "already_decided", flows.StatusRejected},
		{"its turn came elsewhere", "seq", map[string]any{"note": "x"}, func(t *testing.T, b *bundle, out *flows.Outcome) {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
			require.NoError(t, err)
		}, "cfo", "", flows.StatusApproved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			e := flows.New(flows.Config{Store: b.store, Clock: b.clock})
			out, err := e.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: c.flow, Values: c.vals})
			require.NoError(t, err)
			var task *flows.Task
			for _, tk := range out.Tasks {
				if tk.Assignee == c.actor {
					task = tk
				}
			}
			require.NotNil(t, task)
			c.other(t, b, out)
			before := snapshot(t, b)
			got, err := e.Decide(b.ctx, flows.DecideRequest{Actor: c.actor, TaskID: task.ID, Approve: true})
			v, verr := b.engine.View(b.ctx, out.Instance.ID)
			require.NoError(t, verr)
			require.Equal(t, c.status, v.Instance.Status)
			if c.wantKey == "" {
				require.NoError(t, err)
				require.Equal(t, c.status, got.Instance.Status)
				return
			}
			var fe *flows.Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, c.wantKey, fe.Key)
			require.Equal(t, before, snapshot(t, b), "nothing written by the refused decision")
		})
	}
}
