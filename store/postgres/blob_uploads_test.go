package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/postgres"
)

var _ blobs.Ledger = (*postgres.DB)(nil)

// The ledger of kept attachments: a key a request's form names is
// forgotten, not returned; an unnamed key older than the cut is an
// orphan until forgotten; a younger one is not yet; recording twice is
// no error.
func TestBlobLedger(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
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
	got, err := db.Orphans(ctx, cut, 10)
	require.NoError(t, err)
	require.Equal(t, []string{orphan}, got)
	require.NoError(t, db.Forget(ctx, got))
	got, err = db.Orphans(ctx, cut, 10)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = db.Orphans(ctx, now.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{young}, got, "the named key was forgotten, the young one is next")
	require.NoError(t, db.Forget(ctx, nil))
}
