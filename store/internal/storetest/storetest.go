// Package storetest owns the tests both stores pass for what they keep
// beside flows.Store: the ledger of kept attachments (blobs.Ledger) and a
// delivery recorded with its card refs in one write
// (notify.DeliveryRecorder). Each store's test calls them on a fresh
// store; the checks are written once.
package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// LedgerStore is a store that keeps the attachment ledger.
type LedgerStore interface {
	flows.Store
	blobs.Ledger
}

// Ledger checks the ledger of kept attachments on an empty store: keys
// older than the cut come oldest first, a key a request's form names
// marked as named; a forgotten key is gone; a younger one comes with a
// later cut; recording twice is no error.
func Ledger(t *testing.T, db LedgerStore) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	named, orphan, young := blobs.NewKey(), blobs.NewKey(), blobs.NewKey()
	require.NoError(t, db.Kept(ctx, named, now.Add(-48*time.Hour)))
	require.NoError(t, db.Kept(ctx, orphan, now.Add(-47*time.Hour)))
	require.NoError(t, db.Kept(ctx, orphan, now.Add(-47*time.Hour)), "recorded twice")
	require.NoError(t, db.Kept(ctx, young, now.Add(-time.Hour)))

	testkit.LoadExampleOrg(t, ctx, db)
	engine := flows.New(flows.Config{Store: db, Clock: testkit.NewClock(time.Now())})
	testkit.PublishExampleFlows(t, ctx, engine)
	_, err := engine.Submit(ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "expense",
		Values: map[string]any{"amount": 100, "category": "travel", "description": "receipt " + named}})
	require.NoError(t, err)

	cut := now.Add(-24 * time.Hour)
	got, err := db.Uploads(ctx, cut, 10)
	require.NoError(t, err)
	require.Equal(t, []blobs.Upload{{Key: named, Named: true}, {Key: orphan}}, got)
	got, err = db.Uploads(ctx, cut, 1)
	require.NoError(t, err)
	require.Equal(t, []blobs.Upload{{Key: named, Named: true}}, got, "the limit")
	require.NoError(t, db.Forget(ctx, []string{named, orphan}))
	got, err = db.Uploads(ctx, cut, 10)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = db.Uploads(ctx, now.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []blobs.Upload{{Key: young}}, got, "the forgotten keys are gone, the young one is next")
	require.NoError(t, db.Forget(ctx, nil))
}

// DeliveryStore is a store that records a delivery with its card refs.
type DeliveryStore interface {
	flows.Store
	MarkDeliveredWithRefs(ctx context.Context, id int64, at time.Time, refs []*flows.MessageRef) error
}

// MarkDeliveredWithRefs checks on an empty store that the delivery and
// its card refs are one write: both land, a ref saved twice is one row,
// an unknown message writes no ref, and a bad ref writes nothing.
func MarkDeliveredWithRefs(t *testing.T, db DeliveryStore) {
	t.Helper()
	ctx := context.Background()
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
	require.NotNil(t, ms[0].DeliveredAt)
	require.True(t, ms[0].DeliveredAt.Equal(now), "got delivered at %v, want %v", ms[0].DeliveredAt, now)
	refs, err := db.MessageRefs(ctx, 5, 50)
	require.NoError(t, err)
	require.Len(t, refs, 2, "a ref saved twice is one row")
	require.NoError(t, db.MarkDeliveredWithRefs(ctx, id, now, []*flows.MessageRef{ref("om_2")}), "marking again with a known ref")
	require.NoError(t, db.MarkDeliveredWithRefs(ctx, enqueue(), now, nil), "no refs: the delivery alone")

	err = db.MarkDeliveredWithRefs(ctx, id+100, now, []*flows.MessageRef{ref("om_3")})
	require.ErrorIs(t, err, flows.ErrNotFound)
	other := enqueue()
	require.Error(t, db.MarkDeliveredWithRefs(ctx, other, now, []*flows.MessageRef{ref("om_4"), ref("")}))
	require.Error(t, db.MarkDeliveredWithRefs(ctx, other, now, []*flows.MessageRef{ref("om_5"), nil}))
	refs, err = db.MessageRefs(ctx, 5, 50)
	require.NoError(t, err)
	require.Len(t, refs, 2, "neither an unknown message nor a bad ref wrote a ref")
	pending, err := db.Outbox(ctx, flows.OutboxPending, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1, "the message with a bad ref is not marked delivered")
	require.Equal(t, other, pending[0].ID)

	// A notice's copy keeps what it was sent as; a click on the same card
	// recording it again (with no kind) changes nothing.
	data := json.RawMessage(`{"by":"bob","comment":"没问题 ✓"}`)
	notice := &flows.MessageRef{InstanceID: 6, Recipient: "alice", Platform: "feishu", Ref: "om_n", CreatedAt: now, Kind: flows.MsgApproved, Data: data}
	plain := &flows.MessageRef{InstanceID: 6, Recipient: "alice", Platform: "feishu", Ref: "om_p", CreatedAt: now}
	require.NoError(t, db.MarkDeliveredWithRefs(ctx, other, now, []*flows.MessageRef{notice}))
	require.NoError(t, db.SaveMessageRef(ctx, plain))
	clicked := *notice
	clicked.Kind, clicked.Data = "", nil
	require.NoError(t, db.SaveMessageRef(ctx, &clicked))
	refs, err = db.MessageRefs(ctx, 6, 0)
	require.NoError(t, err)
	require.Len(t, refs, 2)
	require.Equal(t, flows.MsgApproved, refs[0].Kind, "the notice's kind")
	require.JSONEq(t, string(data), string(refs[0].Data), "the notice's data")
	require.Empty(t, refs[1].Kind, "a plain copy has no kind")
	require.Nil(t, refs[1].Data, "a plain copy has no data")
}

// UserByPlatformCache checks a store that keeps who a platform id names
// in memory: a user found by platform id, and a platform id found to name
// nobody, come from memory after the first read and as copies; a
// directory replaced through db is seen at once, absences included, and
// one replaced through other (another replica or process on the same
// database) within about a second.
func UserByPlatformCache(t *testing.T, db, other flows.Store) {
	ctx := t.Context()
	org := func(name, key string) []*flows.User {
		return []*flows.User{{ID: "u1", Name: name, Platforms: map[string]string{key: "ou_1"}}}
	}
	name := func(key string) (string, error) {
		u, err := db.UserByPlatform(ctx, key, "ou_1")
		if err != nil {
			return "", err
		}
		return u.Name, nil
	}
	require.NoError(t, db.ReplaceDirectory(ctx, org("Ann", "feishu"), nil))
	for range 2 { // read, then cached
		got, err := name("feishu")
		require.NoError(t, err)
		require.Equal(t, "Ann", got)
		_, err = name("feishu:cli_a")
		require.ErrorIs(t, err, flows.ErrNotFound)
	}
	u, err := db.UserByPlatform(ctx, "feishu", "ou_1")
	require.NoError(t, err)
	u.Name, u.Platforms["feishu"] = "changed by caller", "x"
	got, err := name("feishu")
	require.NoError(t, err)
	require.Equal(t, "Ann", got, "callers get copies")

	require.NoError(t, db.ReplaceDirectory(ctx, org("Bea", "feishu:cli_a"), nil))
	got, err = name("feishu:cli_a")
	require.NoError(t, err)
	require.Equal(t, "Bea", got, "the store's own replacement is seen at once")
	_, err = name("feishu")
	require.ErrorIs(t, err, flows.ErrNotFound, "the store's own replacement is seen at once, absences included")

	require.NoError(t, other.ReplaceDirectory(ctx, org("Cid", "feishu"), nil))
	require.Eventually(t, func() bool {
		got, err := name("feishu")
		return err == nil && got == "Cid"
	}, 3*time.Second, 50*time.Millisecond, "a replacement through another handle seen within about a second")
	_, err = name("feishu:cli_a")
	require.ErrorIs(t, err, flows.ErrNotFound)
}
