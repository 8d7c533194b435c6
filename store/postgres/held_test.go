package postgres_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// TestGroupCommitHeldRows covers the events and outbox messages a lane
// holds for its batch's multi-row inserts (held.go): concurrent operations
// each append events and messages and read their instance's events back
// inside the operation (sending the rows held so far inside its
// savepoint); every third one then fails. After the batches committed,
// exactly the kept operations' events and messages are stored, with the
// ids they were given, and none of a failed operation's, even when the
// failed operation had sent the rows of operations before it. Text
// PostgreSQL cannot store fails its own operation only, with a clear
// error.
func TestGroupCommitHeldRows(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	const n = 96
	type result struct {
		events []int64
		msg    int64
		err    error
	}
	res := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			inst := int64(1000 + i)
			var r result
			r.err = db.Update(ctx, func(tx flows.Tx) error {
				r.events, r.msg = nil, 0
				for k := range 2 {
					e := &flows.Event{InstanceID: inst, FlowID: "f", Type: flows.EvCommented, Actor: fmt.Sprintf("u%d", i),
						Data: []byte(fmt.Sprintf(`{"k":%d}`, k)), At: now}
					if i%8 == 5 {
						e.Actor = "bad\x00actor"
					}
					if err := tx.AppendEvent(e); err != nil {
						return err
					}
					r.events = append(r.events, e.ID)
				}
				m := &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: fmt.Sprintf("u%d", i), InstanceID: inst, NextAt: now, CreatedAt: now}
				if err := tx.Enqueue(m); err != nil {
					return err
				}
				r.msg = m.ID
				if i%2 == 0 {
					es, err := tx.EventsOf(inst)
					if err != nil {
						return err
					}
					if len(es) != 2 || es[0].ID != r.events[0] || es[1].ID != r.events[1] {
						return fmt.Errorf("events of %d read inside the operation: %d, want ids %v", inst, len(es), r.events)
					}
				}
				if i%3 == 2 {
					return errRefused
				}
				return nil
			})
			res[i] = r
		})
	}
	wg.Wait()
	msgs, err := db.Outbox(ctx, flows.OutboxPending, 1000)
	require.NoError(t, err)
	stored := map[int64]int64{} // message id -> instance
	for _, m := range msgs {
		stored[m.ID] = m.InstanceID
	}
	kept := 0
	for i, r := range res {
		inst := int64(1000 + i)
		var es []*flows.Event
		require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
			var err error
			es, err = tx.EventsOf(inst)
			return err
		}))
		switch {
		case i%8 == 5:
			require.ErrorContains(t, r.err, "NUL byte", "operation %d", i)
			require.NotErrorIs(t, r.err, flows.ErrConflict, "operation %d: bad text is not retried", i)
			require.Empty(t, es, "operation %d", i)
		case i%3 == 2:
			require.ErrorIs(t, r.err, errRefused, "operation %d", i)
			require.Empty(t, es, "events of failed operation %d", i)
			require.NotContains(t, stored, r.msg, "message of failed operation %d", i)
		default:
			kept++
			require.NoError(t, r.err, "operation %d", i)
			require.Len(t, es, 2, "events of operation %d", i)
			require.Equal(t, r.events, []int64{es[0].ID, es[1].ID}, "operation %d", i)
			require.Equal(t, `{"k":1}`, string(es[1].Data))
			require.Equal(t, inst, stored[r.msg], "message %d of operation %d", r.msg, i)
		}
	}
	require.Len(t, msgs, kept, "got %d messages, want one per kept operation", len(msgs))
}
