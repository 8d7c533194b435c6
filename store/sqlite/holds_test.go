package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/sqlite"
)

// An event's hold lives in the process's memory: taking it writes
// nothing, and it ends with the process, so that the redelivery of an
// event whose handler died is handled at once by the next start. A
// handled (confirmed) event is written: after a restart it is still a
// duplicate, and so is a key the written Deduper holds.
func TestEventHoldsLiveInTheProcess(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := MustOpen(t)
	d := db.EventDeduper()
	c := d.(bots.DedupeConfirmer)
	batches, _ := db.WriteStats()
	for _, k := range []string{"feishu:dying", "feishu:handled"} {
		first, err := d.FirstSeen(ctx, k, time.Hour)
		require.NoError(t, err)
		require.True(t, first, k)
		again, err := d.FirstSeen(ctx, k, time.Hour)
		require.NoError(t, err)
		require.False(t, again, "%s is held", k)
	}
	after, _ := db.WriteStats()
	require.Equal(t, batches, after, "holds are not written")
	require.NoError(t, c.Confirm(ctx, "feishu:handled", time.Hour))
	after, _ = db.WriteStats()
	require.Equal(t, batches+1, after, "a confirmation is one write")
	first, err := db.Deduper().FirstSeen(ctx, "feishu:written", time.Hour)
	require.NoError(t, err)
	require.True(t, first)

	require.NoError(t, db.Close()) // the process ends
	db2, err := sqlite.Open(context.Background(), path, sqlite.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	d2 := db2.EventDeduper()
	first, err = d2.FirstSeen(ctx, "feishu:dying", time.Hour)
	require.NoError(t, err)
	require.True(t, first, "the dead process's hold is gone: the redelivery is handled")
	for _, k := range []string{"feishu:handled", "feishu:written"} {
		first, err = d2.FirstSeen(ctx, k, time.Hour)
		require.NoError(t, err)
		require.False(t, first, "%s stays seen after a restart", k)
	}
	done, err := d2.(bots.DedupeConfirmer).Done(ctx, "feishu:handled")
	require.NoError(t, err)
	require.True(t, done)
}

// ConfirmWithRefs writes the confirmation and the refs in one write, or,
// given a ref that cannot be saved, neither: the event stays held.
func TestConfirmWithRefs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, _ := MustOpen(t)
	d := db.EventDeduper()
	k := d.(bots.DedupeRefKeeper)
	good := &flows.MessageRef{InstanceID: 7, TaskID: 9, Recipient: "cto", Platform: "web", Ref: "web-1", CreatedAt: time.UnixMilli(1_700_000_000_000).UTC()}
	cases := []struct {
		name string
		refs []*flows.MessageRef
		ok   bool
	}{
		{"with a ref", []*flows.MessageRef{good}, true},
		{"without refs", nil, true},
		{"with a nil ref", []*flows.MessageRef{good, nil}, false},
		{"with an empty ref", []*flows.MessageRef{good, {InstanceID: 7, Platform: "web"}}, false},
	}
	for i, c := range cases {
		key := "web:e" + string(rune('a'+i))
		first, err := d.FirstSeen(ctx, key, time.Hour)
		require.NoError(t, err)
		require.True(t, first, c.name)
		_, before := db.WriteStats()
		err = k.ConfirmWithRefs(ctx, key, time.Hour, c.refs)
		_, after := db.WriteStats()
		done, derr := d.(bots.DedupeConfirmer).Done(ctx, key)
		require.NoError(t, derr)
		if !c.ok {
			require.Error(t, err, c.name)
			require.Equal(t, before, after, "%s: nothing written", c.name)
			require.False(t, done, c.name)
			again, err := d.FirstSeen(ctx, key, time.Hour)
			require.NoError(t, err)
			require.False(t, again, "%s: still held", c.name)
			continue
		}
		require.NoError(t, err, c.name)
		require.Equal(t, before+1, after, "%s: one write", c.name)
		require.True(t, done, c.name)
	}
	refs, err := db.MessageRefs(ctx, 7, 0)
	require.NoError(t, err)
	require.Len(t, refs, 1)
	require.Equal(t, "web-1", refs[0].Ref)
}
