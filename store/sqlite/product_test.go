package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// TestMarkDeliveredWithRefs checks the delivery and its card refs are one
// write: both land, an unknown message writes no ref, and a bad ref
// writes nothing.
func TestMarkDeliveredWithRefs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testkit.OpenSQLiteFile(t, filepath.Join(t.TempDir(), "flowbot.db"))
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	enqueue := func() int64 {
		m := &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "alice", InstanceID: 5, TaskID: 50, Status: flows.OutboxPending, NextAt: now, CreatedAt: now}
		require.NoError(t, db.Update(ctx, func(tx flows.Tx) error { return tx.Enqueue(m) }))
		return m.ID
	}
	ref := func(r string) *flows.MessageRef {
		return &flows.MessageRef{InstanceID: 5, TaskID: 50, Recipient: "alice", Platform: "feishu", Ref: r, CreatedAt: now}
	}
	id := enqueue()
	require.NoError(t, db.MarkDeliveredWithRefs(ctx, id, now, []*flows.MessageRef{ref("om_1"), ref("om_1"), ref("om_2")}))
	ms, err := db.Outbox(ctx, flows.OutboxDelivered, 10)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.Equal(t, id, ms[0].ID)
	refs, err := db.MessageRefs(ctx, 5, 50)
	require.NoError(t, err)
	require.Len(t, refs, 2, "a ref saved twice is one row")

	err = db.MarkDeliveredWithRefs(ctx, id+100, now, []*flows.MessageRef{ref("om_3")})
	require.ErrorIs(t, err, flows.ErrNotFound)
	other := enqueue()
	bad := ref("")
	require.Error(t, db.MarkDeliveredWithRefs(ctx, other, now, []*flows.MessageRef{ref("om_4"), bad}))
	refs, err = db.MessageRefs(ctx, 5, 50)
	require.NoError(t, err)
	require.Len(t, refs, 2, "neither an unknown message nor a bad ref wrote a ref")
	pending, err := db.Outbox(ctx, flows.OutboxPending, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1, "the message with a bad ref is not marked delivered")
}
