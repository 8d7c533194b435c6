package sqlite_test

import (
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/sqlite"
)

// A request's message refs are read once and then kept: refs written
// later by this process are added as they commit (a duplicate once, a
// rolled back one never), and a write to the file by another process
// makes the writer drop them at its next transaction. What is served
// from memory is what a read of the file shows.
func TestMessageRefsKeptInMemory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := MustOpen(t)
	at := time.Date(2026, 12, 7, 8, 0, 0, 123456789, time.UTC)
	ref := func(task int64, name string) *flows.MessageRef {
		return &flows.MessageRef{InstanceID: 7, TaskID: task, Recipient: "cto", Platform: "web", Ref: name, CreatedAt: at}
	}
	fromFile := func() []*flows.MessageRef {
		t.Helper()
		other, err := sqlite.Open(ctx, path, sqlite.WithLogger(quiet))
		require.NoError(t, err)
		defer other.Close()
		refs, err := other.MessageRefs(ctx, 7, 0)
		require.NoError(t, err)
		return refs
	}
	require.NoError(t, db.SaveMessageRef(ctx, ref(0, "web-1")))
	got, err := db.MessageRefs(ctx, 7, 0) // read, and kept
	require.NoError(t, err)
	require.Len(t, got, 1)

	notice := ref(9, "web-2")
	notice.Kind, notice.Data = flows.MsgApproved, json.RawMessage(`{"by":"cto"}`)
	require.NoError(t, db.SaveMessageRef(ctx, notice))
	require.NoError(t, db.SaveMessageRef(ctx, ref(0, "web-1")), "a duplicate")
	var m *flows.OutboxMessage
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		m = &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "cfo", InstanceID: 7, TaskID: 9, NextAt: at.Add(time.Hour), CreatedAt: at}
		return tx.Enqueue(m)
	}))
	require.NoError(t, db.MarkDeliveredWithRefs(ctx, m.ID, at, []*flows.MessageRef{ref(9, "web-3")}), "a sent card's ref")
	require.Error(t, db.MarkDeliveredWithRefs(ctx, m.ID+1000, at, []*flows.MessageRef{ref(9, "web-never")}), "not written")
	got, err = db.MessageRefs(ctx, 7, 0)
	require.NoError(t, err)
	require.Equal(t, fromFile(), got, "as the file has them")
	require.Equal(t, []string{"web-1", "web-2", "web-3"}, names(got))
	got, err = db.MessageRefs(ctx, 7, 9)
	require.NoError(t, err)
	require.Equal(t, []string{"web-2", "web-3"}, names(got), "of one task")

	// Another process adds a ref: not seen until the writer's next
	// transaction finds the foreign write.
	raw, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer raw.Close()
	// A request created here has no refs: they are known without a read.
	in := &flows.Instance{FlowID: "leave", FlowVersion: 1, Applicant: "dev1", Status: flows.StatusPending, Form: json.RawMessage(`{}`), StepID: "manager", CreatedAt: at, UpdatedAt: at}
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error { return tx.CreateInstance(in) }))
	for _, inst := range []int64{7, in.ID} {
		_, err = raw.ExecContext(ctx, `INSERT INTO message_refs (instance_id, task_id, recipient, platform, ref, created_at, kind, data) VALUES (?, 0, 'cfo', 'web', 'web-foreign', 0, '', '')`, inst)
		require.NoError(t, err)
	}
	got, err = db.MessageRefs(ctx, in.ID, 0)
	require.NoError(t, err)
	require.Empty(t, got, "known: none")
	got, err = db.MessageRefs(ctx, 7, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"web-1", "web-2", "web-3"}, names(got), "kept: the foreign write is not known yet")
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error { _, err := tx.NextNumber("any"); return err }))
	got, err = db.MessageRefs(ctx, 7, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"web-1", "web-2", "web-3", "web-foreign"}, names(got), "read again after the writer found it")
	got, err = db.MessageRefs(ctx, in.ID, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"web-foreign"}, names(got))
}

func names(refs []*flows.MessageRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Ref)
	}
	return out
}
