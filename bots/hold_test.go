package bots_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// stuckStore never answers who a platform user is until the caller gives up.
type stuckStore struct{ flows.Store }

func (stuckStore) UserByPlatform(ctx context.Context, _, _ string) (*flows.User, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A handler never outlives the hold on its event id: it is cut off, the
// event is answered with an error (so the platform delivers it again) and
// the id is released, so that the redelivery is handled, not refused as
// "in flight" and not dropped as a duplicate.
func TestHandlerCutOffBeforeItsHoldEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.db.Deduper()
	hold := 300 * time.Millisecond
	stuck := bots.New(bots.Config{Engine: b.engine, Store: stuckStore{b.db}, State: b.state, Dedupe: d, ProcessingTTL: hold})
	ev := b.msg("dev1", "/help")
	_, err := stuck.Handle(b.ctx, ev)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a handler past its hold must be cut off")

	healthy := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: d, ProcessingTTL: hold})
	rep, err := healthy.Handle(b.ctx, ev) // the platform's redelivery
	require.NoError(t, err)
	require.Contains(t, text(rep), "/help")
}
