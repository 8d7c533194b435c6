package flowstest

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var txTests = []test{
	{"UpdateCommitsEverything", testUpdateCommits},
	{"UpdateRollsBackOnError", testUpdateRollsBack},
	{"UpdateRollsBackOnPanic", testUpdateRollsBackOnPanic},
	{"ContextCancelled", testContextCancelled},
	{"ViewIsReadOnly", testViewReadOnly},
	{"CreateInstanceRoundTrip", testCreateInstance},
	{"InstanceByNumber", testInstanceByNumber},
	{"DuplicateNumberConflicts", testDuplicateNumber},
	{"UpdateInstance", testUpdateInstance},
	{"UpdateInstanceStaleRev", testUpdateInstanceStale},
	{"NotFound", testNotFound},
	{"NextNumber", testNextNumber},
	{"NextNumberConcurrent", testNextNumberConcurrent},
}

// writeAll writes one of everything inside tx and returns the instance.
func writeAll(tx flows.Tx) (*flows.Instance, error) {
	in := newInstance("LEAVE-20261126-0001", "alice", T0)
	if _, err := tx.NextNumber("LEAVE-20261126"); err != nil {
		return nil, err
	}
	if err := tx.CreateInstance(in); err != nil {
		return nil, err
	}
	if err := tx.CreateTask(newTask(in.ID, "bob", ptr(at(time.Hour)))); err != nil {
		return nil, err
	}
	if err := tx.AppendEvent(&flows.Event{InstanceID: in.ID, FlowID: "leave", Type: flows.EvSubmitted, Actor: "alice", At: T0}); err != nil {
		return nil, err
	}
	if err := tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: in.ID, NextAt: T0, CreatedAt: T0}); err != nil {
		return nil, err
	}
	return in, nil
}

func testUpdateCommits(t *testing.T, b *bundle) {
	var in *flows.Instance
	b.update(t, func(tx flows.Tx) (err error) {
		in, err = writeAll(tx)
		return err
	})
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.Instance(in.ID)
		require.NoError(t, err)
		requireInstance(t, in, got)
		ts, err := tx.TasksOf(in.ID)
		require.NoError(t, err)
		require.Len(t, ts, 1)
		es, err := tx.EventsOf(in.ID)
		require.NoError(t, err)
		require.Len(t, es, 1)
		return nil
	}))
	depth, err := b.s.OutboxDepth(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, depth)
	b.update(t, func(tx flows.Tx) error {
		n, err := tx.NextNumber("LEAVE-20261126")
		require.NoError(t, err)
		require.Equal(t, 2, n, "the committed NextNumber must count")
		return nil
	})
}

// requireEmpty checks that nothing of writeAll is visible.
func requireEmpty(t *testing.T, b *bundle) {
	t.Helper()
	ins, err := b.s.Instances(b.ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	require.Empty(t, ins, "instances of a rolled-back Update are visible")
	ts, err := b.s.Tasks(b.ctx, flows.TaskFilter{})
	require.NoError(t, err)
	require.Empty(t, ts, "tasks of a rolled-back Update are visible")
	es, err := b.s.Events(b.ctx, flows.EventFilter{})
	require.NoError(t, err)
	require.Empty(t, es, "events of a rolled-back Update are visible")
	depth, err := b.s.OutboxDepth(b.ctx)
	require.NoError(t, err)
	require.Zero(t, depth, "outbox messages of a rolled-back Update are visible")
	b.update(t, func(tx flows.Tx) error {
		n, err := tx.NextNumber("LEAVE-20261126")
		require.NoError(t, err)
		require.Equal(t, 1, n, "a rolled-back NextNumber was consumed")
		return nil
	})
}

func testUpdateRollsBack(t *testing.T, b *bundle) {
	err := b.s.Update(b.ctx, func(tx flows.Tx) error {
		if _, err := writeAll(tx); err != nil {
			return err
		}
		return errBoom
	})
	require.Equal(t, errBoom, err, "Update must return fn's error unchanged")
	requireEmpty(t, b)
}

func testUpdateRollsBackOnPanic(t *testing.T, b *bundle) {
	require.PanicsWithValue(t, "flowstest panic", func() {
		_ = b.s.Update(b.ctx, func(tx flows.Tx) error {
			if _, err := writeAll(tx); err != nil {
				return err
			}
			panic("flowstest panic")
		})
	})
	requireEmpty(t, b)
}

func testContextCancelled(t *testing.T, b *bundle) {
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	err := b.s.Update(ctx, func(tx flows.Tx) error {
		_, err := writeAll(tx)
		return err
	})
	require.ErrorIs(t, err, context.Canceled)
	requireEmpty(t, b)
	_, err = b.s.Instances(ctx, flows.InstanceFilter{})
	require.ErrorIs(t, err, context.Canceled)
}

func testViewReadOnly(t *testing.T, b *bundle) {
	err := b.s.View(b.ctx, func(tx flows.Tx) error {
		_, err := writeAll(tx)
		return err
	})
	require.Error(t, err, "writes inside View must fail")
	requireEmpty(t, b)
	require.Equal(t, errBoom, b.s.View(b.ctx, func(flows.Tx) error { return errBoom }), "View must return fn's error unchanged")
}

func testCreateInstance(t *testing.T, b *bundle) {
	tests := []struct {
		name string
		in   *flows.Instance
	}{
		{"Pending", newInstance("LEAVE-20261126-0001", "alice", T0)},
		{"Closed", func() *flows.Instance {
			in := newInstance("LEAVE-20261126-0002", "李雷", at(time.Minute))
			in.Status, in.ClosedAt, in.LastUrgeAt = flows.StatusApproved, ptr(at(time.Hour)), ptr(at(30*time.Minute))
			in.StepIndex, in.StepID = -1, ""
			return in
		}()},
		{"EmptyForm", func() *flows.Instance {
			in := newInstance("LEAVE-20261126-0003", "bob", at(2*time.Minute))
			in.Form = nil
			return in
		}()},
		{"NestedForm", func() *flows.Instance {
			in := newInstance("EXP-20261126-0001", "bob", at(3*time.Minute))
			in.FlowID, in.Form = "expense", json.RawMessage(`{"items":[{"amount":12.5,"what":"出租车"}],"total":12.5,"urgent":true,"note":null}`)
			return in
		}()},
	}
	seen := map[int64]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := *tc.in
			b.update(t, func(tx flows.Tx) error { return tx.CreateInstance(tc.in) })
			require.NotZero(t, tc.in.ID, "CreateInstance must set ID")
			require.False(t, seen[tc.in.ID], "ID %d given twice", tc.in.ID)
			seen[tc.in.ID] = true
			require.Equal(t, int64(1), tc.in.Rev, "CreateInstance must set Rev = 1")
			want.ID, want.Rev = tc.in.ID, 1
			for _, view := range []func(context.Context, func(flows.Tx) error) error{b.s.View, b.s.Update} {
				require.NoError(t, view(b.ctx, func(tx flows.Tx) error {
					got, err := tx.Instance(tc.in.ID)
					require.NoError(t, err)
					requireInstance(t, &want, got)
					return nil
				}))
			}
		})
	}
}

func testInstanceByNumber(t *testing.T, b *bundle) {
	a := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	c := b.mustInstance(t, "LEAVE-20261126-0002", "carol", at(time.Second))
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		for _, want := range []*flows.Instance{a, c} {
			got, err := tx.InstanceByNumber(want.Number)
			require.NoError(t, err)
			requireInstance(t, want, got)
		}
		_, err := tx.InstanceByNumber("LEAVE-20261126-0003")
		require.ErrorIs(t, err, flows.ErrNotFound)
		_, err = tx.InstanceByNumber("")
		require.ErrorIs(t, err, flows.ErrNotFound)
		return nil
	}))
}

func testDuplicateNumber(t *testing.T, b *bundle) {
	b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	err := b.s.Update(b.ctx, func(tx flows.Tx) error {
		return tx.CreateInstance(newInstance("LEAVE-20261126-0001", "bob", T0))
	})
	require.ErrorIs(t, err, flows.ErrConflict)
	ins, err := b.s.Instances(b.ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, "alice", ins[0].Applicant)
}

func testUpdateInstance(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	in.Status, in.StepIndex, in.StepID = flows.StatusRejected, 2, "hr"
	in.Form = json.RawMessage(`{"days":4}`)
	in.UpdatedAt, in.ClosedAt, in.LastUrgeAt = at(time.Hour), ptr(at(time.Hour)), ptr(at(time.Minute))
	b.update(t, func(tx flows.Tx) error { return tx.UpdateInstance(in) })
	require.Equal(t, int64(2), in.Rev, "UpdateInstance must increment Rev")
	// Clear the optional times again: nil must be written too.
	in.ClosedAt, in.LastUrgeAt, in.Status = nil, nil, flows.StatusReturned
	b.update(t, func(tx flows.Tx) error { return tx.UpdateInstance(in) })
	require.Equal(t, int64(3), in.Rev)
	// Every field is written, the identifying ones too.
	in.Number, in.FlowID, in.FlowVersion, in.Applicant, in.CreatedAt = "EXP-20261127-0009", "expense", 7, "bob", at(-time.Hour)
	b.update(t, func(tx flows.Tx) error { return tx.UpdateInstance(in) })
	require.Equal(t, int64(4), in.Rev)
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.InstanceByNumber("EXP-20261127-0009")
		require.NoError(t, err)
		requireInstance(t, in, got)
		_, err = tx.InstanceByNumber("LEAVE-20261126-0001")
		require.ErrorIs(t, err, flows.ErrNotFound, "the old number is free")
		return nil
	}))
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.Instance(in.ID)
		require.NoError(t, err)
		requireInstance(t, in, got)
		return nil
	}))
}

func testUpdateInstanceStale(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	first, second := *in, *in
	first.Status = flows.StatusApproved
	b.update(t, func(tx flows.Tx) error { return tx.UpdateInstance(&first) })

	second.Status, second.StepID = flows.StatusWithdrawn, "stale"
	err := b.s.Update(b.ctx, func(tx flows.Tx) error {
		// Write something else first: the whole Update must roll back.
		if err := tx.AppendEvent(&flows.Event{InstanceID: in.ID, FlowID: "leave", Type: flows.EvWithdrawn, Actor: "alice", At: T0}); err != nil {
			return err
		}
		return tx.UpdateInstance(&second)
	})
	require.ErrorIs(t, err, flows.ErrConflict)
	require.Equal(t, int64(1), second.Rev, "a failed UpdateInstance must not move Rev")
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.Instance(in.ID)
		require.NoError(t, err)
		requireInstance(t, &first, got)
		es, err := tx.EventsOf(in.ID)
		require.NoError(t, err)
		require.Empty(t, es)
		return nil
	}))

	ghost := newInstance("GHOST", "alice", T0)
	ghost.ID, ghost.Rev = in.ID+1000, 1
	err = b.s.Update(b.ctx, func(tx flows.Tx) error { return tx.UpdateInstance(ghost) })
	require.Error(t, err, "updating a missing instance must fail")
	require.True(t, errors.Is(err, flows.ErrNotFound) || errors.Is(err, flows.ErrConflict), "got %v, want ErrNotFound or ErrConflict", err)
}

func testNotFound(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	for _, run := range []func(context.Context, func(flows.Tx) error) error{b.s.View, b.s.Update} {
		require.NoError(t, run(b.ctx, func(tx flows.Tx) error {
			_, err := tx.Instance(in.ID + 1)
			require.ErrorIs(t, err, flows.ErrNotFound)
			_, err = tx.Task(12345)
			require.ErrorIs(t, err, flows.ErrNotFound)
			ts, err := tx.TasksOf(in.ID + 1)
			require.NoError(t, err)
			require.Empty(t, ts)
			es, err := tx.EventsOf(in.ID + 1)
			require.NoError(t, err)
			require.Empty(t, es)
			return nil
		}))
	}
}

func testNextNumber(t *testing.T, b *bundle) {
	var got []int
	next := func(key string) {
		b.update(t, func(tx flows.Tx) error {
			n, err := tx.NextNumber(key)
			got = append(got, n)
			return err
		})
	}
	next("LEAVE-20261126")
	next("LEAVE-20261126")
	next("EXP-20261126")
	next("LEAVE-20261127")
	next("LEAVE-20261126")
	b.update(t, func(tx flows.Tx) error {
		for range 2 {
			n, err := tx.NextNumber("EXP-20261126")
			require.NoError(t, err)
			got = append(got, n)
		}
		return nil
	})
	require.Equal(t, []int{1, 2, 1, 1, 3, 2, 3}, got)
}

func testNextNumberConcurrent(t *testing.T, b *bundle) {
	const workers = 20
	nums := make([]int, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := b.s.Update(b.ctx, func(tx flows.Tx) error {
					n, err := tx.NextNumber("LEAVE-20261126")
					nums[i] = n
					return err
				})
				if errors.Is(err, flows.ErrConflict) && time.Now().Before(deadline) {
					continue // a store may refuse a busy writer; the engine retries
				}
				if err != nil {
					t.Errorf("worker %d: %v", i, err)
				}
				return
			}
		})
	}
	wg.Wait()
	sort.Ints(nums)
	want := make([]int, workers)
	for i := range want {
		want[i] = i + 1
	}
	require.Equal(t, want, nums, "20 concurrent NextNumber calls must get 1..20")
}
