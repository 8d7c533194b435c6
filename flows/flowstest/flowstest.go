package flowstest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Run runs the whole suite against the stores open returns. open must return
// a fresh, empty, migrated store each time it is called; the suite calls it
// once per subtest and closes the store with t.Cleanup (Close may therefore
// be called twice if open also registers a Close).
func Run(t *testing.T, open func(t *testing.T) flows.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Tx", txTests},
		{"Tasks", taskTests},
		{"Events", eventTests},
		{"Outbox", outboxTests},
		{"Flows", flowTests},
		{"Directory", directoryTests},
		{"Queries", queryTests},
		{"Delegations", delegationTests},
		{"Balances", balanceTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, setup(t, open))
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, b *bundle)
}

// bundle is what each subtest gets: a fresh store and a context.
type bundle struct {
	s   flows.Store
	ctx context.Context
}

func setup(t *testing.T, open func(t *testing.T) flows.Store) *bundle {
	t.Helper()
	s := open(t)
	require.NotNil(t, s, "open returned a nil store")
	t.Cleanup(func() { _ = s.Close() })
	return &bundle{s: s, ctx: t.Context()}
}

// T0 is the suite's reference instant: not UTC and with milliseconds, so
// that stores must keep the instant (compared with Equal) to the ms.
var T0 = time.Date(2026, 11, 26, 10, 0, 0, 123_000_000, time.FixedZone("CST", 8*3600))

// at returns T0 + d.
func at(d time.Duration) time.Time { return T0.Add(d) }

func ptr[T any](v T) *T { return &v }

var errBoom = errors.New("flowstest: boom")

// update runs fn in an Update that must succeed.
func (b *bundle) update(t *testing.T, fn func(tx flows.Tx) error) {
	t.Helper()
	require.NoError(t, b.s.Update(b.ctx, fn))
}

// newInstance returns an unsaved instance numbered n.
func newInstance(n string, applicant string, created time.Time) *flows.Instance {
	return &flows.Instance{
		Number:      n,
		FlowID:      "leave",
		FlowVersion: 2,
		Applicant:   applicant,
		Status:      flows.StatusPending,
		Form:        json.RawMessage(`{"days":3,"reason":"家里有事","start":"2026-12-01"}`),
		StepIndex:   1,
		StepID:      "manager",
		CreatedAt:   created,
		UpdatedAt:   created.Add(time.Second),
	}
}

// mustInstance creates an instance and returns it (ID and Rev set).
func (b *bundle) mustInstance(t *testing.T, n, applicant string, created time.Time) *flows.Instance {
	t.Helper()
	in := newInstance(n, applicant, created)
	b.update(t, func(tx flows.Tx) error { return tx.CreateInstance(in) })
	return in
}

// newTask returns an unsaved pending task of instance id.
func newTask(instanceID int64, assignee string, due *time.Time) *flows.Task {
	return &flows.Task{
		InstanceID: instanceID,
		StepID:     "manager",
		Seq:        1,
		Assignee:   assignee,
		Status:     flows.TaskPending,
		CreatedAt:  T0,
		StartedAt:  ptr(T0),
		DueAt:      due,
	}
}

func (b *bundle) mustTask(t *testing.T, tk *flows.Task) *flows.Task {
	t.Helper()
	b.update(t, func(tx flows.Tx) error { return tx.CreateTask(tk) })
	require.NotZero(t, tk.ID, "CreateTask must set ID")
	return tk
}

// Comparisons: times by instant (Equal), JSON by meaning.

func requireTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	require.Truef(t, want.Equal(got), "%s: got %s, want %s", what, got, want)
}

func requireTimePtr(t *testing.T, want, got *time.Time, what string) {
	t.Helper()
	if want == nil {
		require.Nilf(t, got, "%s: got %v, want nil", what, got)
		return
	}
	require.NotNilf(t, got, "%s: got nil, want %s", what, *want)
	requireTime(t, *want, *got, what)
}

func requireJSON(t *testing.T, want, got json.RawMessage, what string) {
	t.Helper()
	if len(want) == 0 {
		require.Emptyf(t, got, "%s: got %s, want empty", what, got)
		return
	}
	require.JSONEqf(t, string(want), string(got), "%s", what)
}

func requireInstance(t *testing.T, want, got *flows.Instance) {
	t.Helper()
	require.NotNil(t, got)
	requireJSON(t, want.Form, got.Form, "Form")
	requireTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	requireTime(t, want.UpdatedAt, got.UpdatedAt, "UpdatedAt")
	requireTimePtr(t, want.ClosedAt, got.ClosedAt, "ClosedAt")
	requireTimePtr(t, want.LastUrgeAt, got.LastUrgeAt, "LastUrgeAt")
	w, g := *want, *got
	w.Form, g.Form = nil, nil
	w.CreatedAt, g.CreatedAt, w.UpdatedAt, g.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	w.ClosedAt, g.ClosedAt, w.LastUrgeAt, g.LastUrgeAt = nil, nil, nil, nil
	require.Equal(t, w, g)
}

func requireTask(t *testing.T, want, got *flows.Task) {
	t.Helper()
	require.NotNil(t, got)
	requireTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	for _, p := range []struct {
		name      string
		want, got **time.Time
	}{
		{"StartedAt", &want.StartedAt, &got.StartedAt},
		{"DecidedAt", &want.DecidedAt, &got.DecidedAt},
		{"RemindAt", &want.RemindAt, &got.RemindAt},
		{"EscalateAt", &want.EscalateAt, &got.EscalateAt},
		{"TimeoutAt", &want.TimeoutAt, &got.TimeoutAt},
		{"DueAt", &want.DueAt, &got.DueAt},
	} {
		requireTimePtr(t, *p.want, *p.got, p.name)
	}
	w, g := *want, *got
	w.CreatedAt, g.CreatedAt = time.Time{}, time.Time{}
	w.StartedAt, w.DecidedAt, w.RemindAt, w.EscalateAt, w.TimeoutAt, w.DueAt = nil, nil, nil, nil, nil, nil
	g.StartedAt, g.DecidedAt, g.RemindAt, g.EscalateAt, g.TimeoutAt, g.DueAt = nil, nil, nil, nil, nil, nil
	require.Equal(t, w, g)
}

func requireEvent(t *testing.T, want, got *flows.Event) {
	t.Helper()
	require.NotNil(t, got)
	requireJSON(t, want.Data, got.Data, "Data")
	requireTime(t, want.At, got.At, "At")
	w, g := *want, *got
	w.Data, g.Data, w.At, g.At = nil, nil, time.Time{}, time.Time{}
	require.Equal(t, w, g)
}

func requireMessage(t *testing.T, want, got *flows.OutboxMessage) {
	t.Helper()
	require.NotNil(t, got)
	requireJSON(t, want.Data, got.Data, "Data")
	requireTime(t, want.NextAt, got.NextAt, "NextAt")
	requireTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
	requireTimePtr(t, want.DeliveredAt, got.DeliveredAt, "DeliveredAt")
	w, g := *want, *got
	w.Data, g.Data, w.NextAt, g.NextAt, w.CreatedAt, g.CreatedAt = nil, nil, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	w.DeliveredAt, g.DeliveredAt = nil, nil
	require.Equal(t, w, g)
}

func ids[T any](xs []T, id func(T) int64) []int64 {
	out := make([]int64, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func taskIDs(ts []*flows.Task) []int64 { return ids(ts, func(t *flows.Task) int64 { return t.ID }) }
func instanceIDs(ins []*flows.Instance) []int64 {
	return ids(ins, func(i *flows.Instance) int64 { return i.ID })
}
func eventIDs(es []*flows.Event) []int64 { return ids(es, func(e *flows.Event) int64 { return e.ID }) }
func messageIDs(ms []*flows.OutboxMessage) []int64 {
	return ids(ms, func(m *flows.OutboxMessage) int64 { return m.ID })
}
