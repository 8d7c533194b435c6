package bots_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/internal/testkit"
)

// ledgerFiles is blobFiles that records every kept key in the store's
// ledger before writing it, as cmd/flowbot wires it.
type ledgerFiles struct {
	*blobFiles
	ledger blobs.Ledger
	now    func() time.Time
	last   flowdef.File
}

func (f *ledgerFiles) Keep(ctx context.Context, name string, r io.Reader, maxSize int64, accept []string) (flowdef.File, error) {
	b, err := blobs.Save(ctx, f.store, name, r, blobs.Limits{MaxBytes: maxSize, Types: accept,
		Kept: func(ctx context.Context, key string) error { return f.ledger.Kept(ctx, key, f.now()) }})
	f.last = flowdef.File{Key: b.Key, Name: b.Name, Type: b.Type, Size: b.Size}
	return f.last, err
}

// Item 7 of issue 10: a file sent in a conversation that was never
// submitted is deleted once older than the retention; the file of the
// submitted request stays and opens; nothing younger is touched; a second
// sweep finds nothing.
func TestOrphanAttachmentsAreDeleted(t *testing.T) {
	t.Parallel()
	b, plain := setupFiles(t)
	files := &ledgerFiles{blobFiles: plain, ledger: b.db, now: b.clock.Now}
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin, Files: files})

	var summary *bots.Card
	fileOf := func(user string) flowdef.File {
		b.say(t, user, "/receipt")
		b.say(t, user, "120")
		rep := b.sendFile(t, user, "invoice.pdf", testPDF)
		require.Contains(t, text(rep), "invoice.pdf")
		require.NotEmpty(t, files.last.Key)
		summary = lastCard(t, rep)
		return files.last
	}
	kept := fileOf("dev1")
	rep := b.click(t, "dev1", button(t, summary, "submit"), nil)
	require.Contains(t, rep.Toast, "RECEIPT-", "got %q", rep.Toast)
	orphan := fileOf("dev2")
	b.say(t, "dev2", "/cancel") // never submitted

	// One key per round: the submitted request's file (older) fills a
	// whole round by itself, and the sweep must look past it.
	cleaner := &blobs.Cleaner{Store: plain.store, Ledger: b.db, Retention: 24 * time.Hour, Now: b.clock.Now, Batch: 1}
	n, err := cleaner.Sweep(b.ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is older than the retention yet")

	b.clock.Add(23 * time.Hour)
	young := fileOf("dev2") // uploaded an hour before the sweep
	b.say(t, "dev2", "/cancel")
	b.clock.Add(2 * time.Hour)
	n, err = cleaner.Sweep(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the one old orphan")
	_, err = plain.store.Open(b.ctx, orphan.Key)
	require.ErrorIs(t, err, blobs.ErrNotFound, "the orphan is gone")
	for _, f := range []flowdef.File{kept, young} {
		rc, err := plain.store.Open(b.ctx, f.Key)
		require.NoError(t, err, "%s stays", f.Key)
		rc.Close()
	}
	n, err = cleaner.Sweep(b.ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a second sweep finds nothing")

	// The submitted request's file is no candidate any more, even much later.
	b.clock.Add(30 * 24 * time.Hour)
	n, err = cleaner.Sweep(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the young orphan, now old")
	rc, err := plain.store.Open(b.ctx, kept.Key)
	require.NoError(t, err, "the attachment of a request is never deleted")
	rc.Close()
	ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{FlowID: "receipt"})
	require.NoError(t, err)
	require.Len(t, ins, 1)
}
