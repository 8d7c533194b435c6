package flows_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// textsTo returns the English texts of the pending text messages to user.
func textsTo(t *testing.T, b *bundle, user string) []string {
	t.Helper()
	msgs, err := b.store.Outbox(b.ctx, flows.OutboxPending, 1000)
	require.NoError(t, err)
	var out []string
	for _, m := range msgs {
		if m.Kind != flows.MsgText || m.Recipient != user {
			continue
		}
		var d struct {
			Text map[string]string `json:"text"`
		}
		require.NoError(t, json.Unmarshal(m.Data, &d))
		out = append(out, d.Text["en"])
	}
	return out
}

func TestDepartedDelegate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// alsoGone departs the delegator (cto) before the delegate.
		alsoGone bool
		wantOpen []string
		returned int
		moved    int
		told     bool // cto is told the delegation ended
	}{
		// dev2 held cto's task as a delegate: it goes back to cto.
		{name: "TaskGoesBackToTheApprover", wantOpen: []string{"cto"}, returned: 1, told: true},
		// cto left too: the step's empty-approver policy (fallback hr1) decides.
		{name: "ApproverGoneTooFallback", alsoGone: true, wantOpen: []string{"hr1"}, moved: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, _, err := b.engine.PublishFlow(b.ctx, "fb.yaml", []byte(fallbackYAML))
			require.NoError(t, err)
			out := b.submit(t, "dev1", "fb", nil) // cto's task
			res := b.delegate(t, "cto", "dev2", true)
			require.Len(t, res.Handed, 1)
			if tt.alsoGone {
				b.markDeparted(t, "cto")
			}
			b.markDeparted(t, "dev2")
			dr, err := b.engine.Depart(b.ctx, "dev2")
			require.NoError(t, err)
			require.Len(t, dr.Returned, tt.returned)
			require.Len(t, dr.Moved, tt.moved)
			require.Equal(t, []int64{res.Delegation.ID}, dr.Ended)

			var got []string
			for a := range openTasksOf(t, b, out.Instance.ID) {
				got = append(got, a)
			}
			require.ElementsMatch(t, tt.wantOpen, got)

			// The delegation is over.
			ds, err := b.engine.Delegations(b.ctx, "cto")
			require.NoError(t, err)
			require.Empty(t, ds)

			// The hand-back is in the audit trail with both names.
			evs, err := b.store.Events(b.ctx, flows.EventFilter{InstanceID: out.Instance.ID, Types: []flows.EventType{flows.EvTransferred}})
			require.NoError(t, err)
			require.NotEmpty(t, evs)
			last := evs[len(evs)-1]
			var data map[string]any
			require.NoError(t, json.Unmarshal(last.Data, &data))
			require.Equal(t, "dev2", data["from"])
			require.Equal(t, tt.wantOpen[0], data["to"])
			if tt.returned > 0 {
				require.Equal(t, "delegate_departed", data["reason"])
			}

			told := textsTo(t, b, "cto")
			if tt.told {
				require.Len(t, told, 1)
				require.Contains(t, told[0], "delegation to them has ended")
			} else {
				require.Empty(t, told, "a departed delegator is told nothing")
			}

			// A second run (a redelivered departure) changes nothing.
			again, err := b.engine.Depart(b.ctx, "dev2")
			require.NoError(t, err)
			require.Empty(t, again.Returned)
			require.Empty(t, again.Moved)
			require.Empty(t, again.Ended)
			require.Len(t, textsTo(t, b, "cto"), len(told))
		})
	}
}

func TestDepartedDelegateGetsNoNewTasks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.delegate(t, "cto", "dev2", false)
	b.clock.Set(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)) // inside the period
	// Marked departed by a sync, before the departure was routed.
	b.markDeparted(t, "dev2")
	out := b.submit(t, "dev1", "请假", leave(1))
	got := pending(out)
	require.Contains(t, got, "cto", "a departed delegate takes nothing: the approver keeps the task")
	require.NotContains(t, got, "dev2")
}

func TestDepartEndsOnlyDelegationsToTheUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.delegate(t, "cto", "dev2", false)
	other := b.delegate(t, "cfo", "hr1", false)
	b.markDeparted(t, "dev2")
	dr, err := b.engine.Depart(b.ctx, "dev2")
	require.NoError(t, err)
	require.Len(t, dr.Ended, 1)
	ds, err := b.engine.Delegations(b.ctx, "cfo")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, other.Delegation.ID, ds[0].ID)
	require.Empty(t, textsTo(t, b, "ceo"), "no task was routed: the admins hear nothing")
}
