package flowstest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var eventTests = []test{
	{"RoundTripAndOrder", testEventsRoundTrip},
	{"Filter", testEventsFilter},
}

func testEventsRoundTrip(t *testing.T, b *bundle) {
	in := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	other := b.mustInstance(t, "LEAVE-20261126-0002", "bob", T0)
	want := []*flows.Event{
		{InstanceID: in.ID, FlowID: "leave", Type: flows.EvSubmitted, Actor: "alice", At: T0,
			Data: json.RawMessage(`{"form":{"days":3},"route":["bob","carol"]}`)},
		{InstanceID: in.ID, TaskID: 7, FlowID: "leave", StepID: "manager", Type: flows.EvTimedOut, Actor: "system", Auto: true, At: at(time.Hour)},
		// Same instant as the first: order is by insertion, not time.
		{InstanceID: in.ID, FlowID: "leave", StepID: "manager", Type: flows.EvCommented, Actor: "李雷", At: T0,
			Data: json.RawMessage(`{"text":"请补充材料 \"发票\"\n谢谢"}`)},
	}
	b.update(t, func(tx flows.Tx) error {
		for _, e := range want {
			require.NoError(t, tx.AppendEvent(e))
			require.NotZero(t, e.ID, "AppendEvent must set ID")
			require.NoError(t, tx.AppendEvent(&flows.Event{InstanceID: other.ID, FlowID: "leave", Type: flows.EvUrged, Actor: "bob", At: T0}))
		}
		return nil
	})
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error {
		got, err := tx.EventsOf(in.ID)
		require.NoError(t, err)
		require.Len(t, got, len(want))
		for i := range want {
			requireEvent(t, want[i], got[i])
		}
		return nil
	}))
}

func testEventsFilter(t *testing.T, b *bundle) {
	a := b.mustInstance(t, "LEAVE-20261126-0001", "alice", T0)
	c := b.mustInstance(t, "EXP-20261126-0001", "carol", T0)
	type ev struct {
		inst *flows.Instance
		flow string
		typ  flows.EventType
		at   time.Duration
	}
	evs := []ev{
		{a, "leave", flows.EvSubmitted, 0},
		{c, "expense", flows.EvSubmitted, time.Minute},
		{a, "leave", flows.EvApproved, time.Hour},
		{c, "expense", flows.EvRejected, 2 * time.Hour},
		{a, "leave", flows.EvCompleted, 3 * time.Hour},
	}
	var id []int64
	b.update(t, func(tx flows.Tx) error {
		for _, e := range evs {
			x := &flows.Event{InstanceID: e.inst.ID, FlowID: e.flow, Type: e.typ, Actor: "x", At: at(e.at)}
			require.NoError(t, tx.AppendEvent(x))
			id = append(id, x.ID)
		}
		return nil
	})
	tests := []struct {
		name string
		f    flows.EventFilter
		want []int64
	}{
		{"All", flows.EventFilter{}, id},
		{"Instance", flows.EventFilter{InstanceID: a.ID}, []int64{id[0], id[2], id[4]}},
		{"Flow", flows.EventFilter{FlowID: "expense"}, []int64{id[1], id[3]}},
		{"Types", flows.EventFilter{Types: []flows.EventType{flows.EvApproved, flows.EvRejected}}, []int64{id[2], id[3]}},
		{"SinceInclusive", flows.EventFilter{Since: at(time.Hour)}, id[2:]},
		{"UntilExclusive", flows.EventFilter{Until: at(time.Hour)}, id[:2]},
		{"SinceUntil", flows.EventFilter{Since: at(time.Minute), Until: at(3 * time.Hour)}, id[1:4]},
		{"AfterID", flows.EventFilter{AfterID: id[2]}, id[3:]},
		{"Limit", flows.EventFilter{Limit: 2}, id[:2]},
		{"AfterIDLimit", flows.EventFilter{AfterID: id[0], Limit: 2}, id[1:3]},
		{"Combined", flows.EventFilter{InstanceID: a.ID, Types: []flows.EventType{flows.EvSubmitted, flows.EvCompleted}, Since: at(time.Second)}, []int64{id[4]}},
		{"NoMatch", flows.EventFilter{FlowID: "travel"}, []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.s.Events(b.ctx, tc.f)
			require.NoError(t, err)
			require.Equal(t, tc.want, eventIDs(got))
		})
	}
}
