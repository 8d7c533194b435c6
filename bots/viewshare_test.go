package bots_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// unrecorded is a store whose write transactions do not run functions
// after their commit (as PostgreSQL's): its engine reads every view.
type unrecorded struct{ flows.Store }

func (s unrecorded) Update(ctx context.Context, fn func(tx flows.Tx) error) error {
	return s.Store.Update(ctx, func(tx flows.Tx) error { return fn(struct{ flows.Tx }{tx}) })
}

// A decision's notice and its card update are written together and shown
// from one read of the request, whichever is delivered first; a message
// claimed later is shown from a read of its own, so it never shows a
// state older than the one it was written for. (On SQLite the engine
// needs no read at all: TestNoticesOfWhatTheEngineWroteNeedNoRead.)
func TestMessagesClaimedTogetherShareOneRead(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 2} {
		b := setup(t)
		reachEveryoneOnWeb(t, b)
		reads := &testkit.ReadCounter{Store: unrecorded{b.db}}
		eng := flows.New(flows.Config{Store: reads, Clock: b.clock})
		bot := bots.New(bots.Config{Engine: eng, Store: b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin})
		wb, drain := webNotifier(t, b, bot, workers)
		out := b.submit(t, "dev2", 2)
		require.Equal(t, 2, drain(), "the task card and the submitted notice")
		task := pendingTask(t, out, "cto")
		_, err := eng.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
		require.NoError(t, err)

		before := reads.Reads()
		require.Equal(t, 2, drain(), "the approved notice and the card update")
		require.Equal(t, int64(1), reads.Reads()-before, "workers %d: one read of the request for both", workers)
		taskCopy := wb.ref("outbox-1-web")
		require.NotEmpty(t, taskCopy)
		require.Contains(t, cardText(wb.last(taskCopy)), "已由 李雷 同意", "the task card shows the decision")

		// A change after that claim is read again.
		enqueueCardUpdate(t, b, out.Instance.ID, task.ID)
		before = reads.Reads()
		require.Equal(t, 1, drain())
		require.Equal(t, int64(1), reads.Reads()-before, "a message claimed later reads the request again")
	}
}

// On SQLite the engine records what its operations wrote as they commit:
// the cards and notices of its requests are shown without reading them,
// and still show the decision.
func TestNoticesOfWhatTheEngineWroteNeedNoRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reachEveryoneOnWeb(t, b)
	reads := &testkit.ReadCounter{Store: b.db}
	eng := flows.New(flows.Config{Store: reads, Clock: b.clock})
	bot := bots.New(bots.Config{Engine: eng, Store: b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin})
	wb, drain := webNotifier(t, b, bot, 2)
	out, err := eng.Submit(b.ctx, flows.SubmitRequest{Actor: "dev2", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": "2026-12-01", "to": "2026-12-02"}, "reason": "family"}})
	require.NoError(t, err)
	before := reads.Reads()
	require.Equal(t, 2, drain(), "the task card and the submitted notice")
	task := pendingTask(t, out, "cto")
	_, err = eng.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, 2, drain(), "the approved notice and the card update")
	require.Zero(t, reads.Reads()-before, "no read of the request")
	taskCopy := wb.ref("outbox-1-web")
	require.NotEmpty(t, taskCopy)
	require.Contains(t, cardText(wb.last(taskCopy)), "已由 李雷 同意", "the task card shows the decision")
}
