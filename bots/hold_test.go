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

// enteredStore is a stuckStore that says when a handler got stuck.
type enteredStore struct {
	stuckStore
	entered chan struct{}
}

func (s enteredStore) UserByPlatform(ctx context.Context, p, id string) (*flows.User, error) {
	s.entered <- struct{}{}
	return s.stuckStore.UserByPlatform(ctx, p, id)
}

// fixedHold is a Deduper whose holds cannot be renewed (no Renew).
type fixedHold struct {
	bots.Deduper
	bots.DedupeConfirmer
	bots.DedupeForgetter
}

// A handler never outlives a hold that cannot be renewed: it is cut off,
// the event is answered with an error (so the platform delivers it again)
// and the id is released, so that the redelivery is handled, not refused
// as "in flight" and not dropped as a duplicate.
func TestHandlerCutOffBeforeItsHoldEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sd := b.db.Deduper()
	d := fixedHold{sd, sd.(bots.DedupeConfirmer), sd.(bots.DedupeForgetter)}
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

// A renewable hold is kept while its handler runs, well past ProcessingTTL:
// a redelivery meanwhile is asked to come back later (not handled twice).
// Once the handler is cut off at HandlerTimeout the id is released and the
// next redelivery is handled.
func TestSlowHandlerKeepsItsRenewedHold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.db.Deduper()
	_, renewable := d.(bots.DedupeRenewer)
	require.True(t, renewable, "the SQLite deduper renews holds")
	hold := 300 * time.Millisecond
	entered := make(chan struct{}, 1)
	stuck := bots.New(bots.Config{Engine: b.engine, Store: enteredStore{stuckStore{b.db}, entered}, State: b.state, Dedupe: d, ProcessingTTL: hold, HandlerTimeout: 10 * hold})
	healthy := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: d, ProcessingTTL: hold})
	ev := b.msg("dev1", "/help")
	started := time.Now()
	errc := make(chan error, 1)
	go func() { _, err := stuck.Handle(b.ctx, ev); errc <- err }()
	<-entered // it holds the event id now
	var redeliveries int
	for time.Since(started) < 5*hold {
		_, err := healthy.Handle(b.ctx, ev)
		require.ErrorIs(t, err, bots.ErrInFlight, "a redelivery while the first handler still runs (%s after it started)", time.Since(started))
		redeliveries++
		time.Sleep(hold / 3)
	}
	require.Greater(t, redeliveries, 3)
	require.ErrorIs(t, <-errc, context.DeadlineExceeded, "cut off at HandlerTimeout")
	rep, err := healthy.Handle(b.ctx, ev) // the platform's next redelivery
	require.NoError(t, err)
	require.Contains(t, text(rep), "/help")
}
