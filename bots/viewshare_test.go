package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// A decision's notice and its card update are written together and shown
// from one read of the request, whichever is delivered first; a message
// claimed later is shown from a read of its own, so it never shows a
// state older than the one it was written for.
func TestMessagesClaimedTogetherShareOneRead(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 2} {
		b := setup(t)
		reachEveryoneOnWeb(t, b)
		reads := &testkit.ReadCounter{Store: b.db}
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
