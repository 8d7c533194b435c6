package bots_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// readCounter counts the engine's read transactions.
type readCounter struct {
	flows.Store
	n atomic.Int64
}

func (c *readCounter) View(ctx context.Context, fn func(tx flows.Tx) error) error {
	c.n.Add(1)
	return c.Store.View(ctx, fn)
}

// A decision's notice and its card update are written together and shown
// from one read of the request, whichever is delivered first; a message
// claimed later is shown from a read of its own, so it never shows a
// state older than the one it was written for.
func TestMessagesClaimedTogetherShareOneRead(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 2} {
		b := setup(t)
		users, depts := testOrg()
		for _, u := range users {
			u.Platforms = map[string]string{"web": u.ID}
		}
		require.NoError(t, b.db.ReplaceDirectory(b.ctx, users, depts))
		reads := &readCounter{Store: b.db}
		eng := flows.New(flows.Config{Store: reads, Clock: b.clock})
		bot := bots.New(bots.Config{Engine: eng, Store: b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin})
		wb := &recordingMessenger{updates: map[string][]bots.Message{}, byKey: map[string]string{}}
		n := notify.New(notify.Config{Store: b.db, Renderer: bot, Clock: b.clock.Now, Workers: workers,
			Messengers: map[string]bots.Messenger{"web": wb}})
		drain := func() int {
			got, err := n.DrainOnce(b.ctx)
			require.NoError(t, err)
			return got
		}
		out := b.submit(t, "dev2", 2)
		require.Equal(t, 2, drain(), "the task card and the submitted notice")
		task := pendingTask(t, out, "cto")
		_, err := eng.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
		require.NoError(t, err)

		before := reads.n.Load()
		require.Equal(t, 2, drain(), "the approved notice and the card update")
		require.Equal(t, int64(1), reads.n.Load()-before, "workers %d: one read of the request for both", workers)
		taskCopy := wb.ref("outbox-1-web")
		require.NotEmpty(t, taskCopy)
		require.Contains(t, cardText(wb.last(taskCopy)), "已由 李雷 同意", "the task card shows the decision")

		// A change after that claim is read again.
		now := b.clock.Now()
		require.NoError(t, b.db.Update(b.ctx, func(tx flows.Tx) error {
			return tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: out.Instance.ID, TaskID: task.ID,
				Status: flows.OutboxPending, NextAt: now, CreatedAt: now})
		}))
		before = reads.n.Load()
		require.Equal(t, 1, drain())
		require.Equal(t, int64(1), reads.n.Load()-before, "a message claimed later reads the request again")
	}
}
