package flows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// A request the engine wrote is viewed from what it wrote, without a
// read, and the view is the one a read of the store gives, through every
// step of the request (times included: the clock is not on a whole
// millisecond).
func TestViewsOfWrittenRequestsNeedNoRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock.Add(1234567 * time.Nanosecond)
	reads := &testkit.ReadCounter{Store: b.store}
	e := flows.New(flows.Config{Store: reads, Clock: b.clock})
	out, err := e.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "seq", Values: map[string]any{"note": "in turn"}})
	require.NoError(t, err)
	id := out.Instance.ID
	check := func(what string) {
		t.Helper()
		before := reads.Reads()
		got, err := e.View(b.ctx, id)
		require.NoError(t, err, what)
		require.Zero(t, reads.Reads()-before, "%s: viewed without a read", what)
		want, err := flows.New(flows.Config{Store: b.store, Clock: b.clock}).View(b.ctx, id)
		require.NoError(t, err, what)
		require.Equal(t, want, got, what)
	}
	check("submitted")
	b.clock.Add(time.Minute)
	_, err = e.Comment(b.ctx, "cto", id, "looking")
	require.NoError(t, err)
	check("commented")
	out, err = e.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	check("approved by the first")
	_, err = e.Decide(b.ctx, flows.DecideRequest{Actor: "cfo", TaskID: pending(out)["cfo"].ID, Approve: true})
	require.NoError(t, err)
	check("approved")

	// What another engine (as another process would) changed is not seen
	// until the engine forgets what it wrote.
	_, err = e.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "seq", Values: map[string]any{"note": "second"}})
	require.NoError(t, err)
	out, err = e.Submit(b.ctx, flows.SubmitRequest{Actor: "dev2", FlowID: "seq", Values: map[string]any{"note": "third"}})
	require.NoError(t, err)
	_, err = b.engine.Withdraw(b.ctx, "dev2", out.Instance.ID, "elsewhere")
	require.NoError(t, err)
	e.ForgetRecent()
	before := reads.Reads()
	v, err := e.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1), reads.Reads()-before, "read again")
	require.Equal(t, flows.StatusWithdrawn, v.Instance.Status)
	// That read is kept: the next view needs none.
	_, err = e.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1), reads.Reads()-before)
}
