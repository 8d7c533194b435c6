package bots_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// downDedupe is a Deduper that cannot be reached (Redis timing out).
type downDedupe struct{}

func (downDedupe) FirstSeen(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("redis: dedupe: i/o timeout")
}

// A filing handled twice (the dedupe store timed out, so the bot failed
// open; or an earlier attempt's outcome was unknown and the platform
// delivered it again) shows one summary card, and that card's Submit files
// the request, once. Before, each handling drew a new conversation token
// and wrote its own card: two cards (the doubled summary card of the long
// two-replica chaos run), and the first one answered "out of date" and
// filed nothing (its lost submit).
func TestFilingHandledTwiceShowsOneWorkingCard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bot := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: downDedupe{}})
	ev := b.msg("dev1", "/leave type=annual from=2026-12-01 to=2026-12-02 reason=家事")
	rep1, err := bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	rep2, err := bot.Handle(b.ctx, ev) // the same event again
	require.NoError(t, err)
	pending, err := b.db.Outbox(b.ctx, flows.OutboxPending, 100)
	require.NoError(t, err)
	require.Len(t, pending, 1, "one summary card is written for the event, not one per handling")
	require.Empty(t, rep2.Messages, "the second handling shows nothing more")

	card := lastCard(t, rep1)
	rep := b.click(t, "dev1", button(t, card, "submit"), nil)
	require.NotEqual(t, bots.ToastWarning, rep.ToastKind, rep.Toast)
	mine, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	require.Len(t, mine, 1, "the request is filed")

	b.click(t, "dev1", button(t, card, "submit"), nil) // clicked again
	mine, err = b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	require.Len(t, mine, 1, "filed once")
}

// The same text sent again as a new event (another id) is a new filing:
// its own conversation and card.
func TestSameTextNewEventIsANewFiling(t *testing.T) {
	t.Parallel()
	b := setup(t)
	text := "/leave type=annual from=2026-12-01 to=2026-12-02 reason=家事"
	c1 := lastCard(t, b.say(t, "dev1", text))
	c2 := lastCard(t, b.say(t, "dev1", text))
	require.NotEqual(t, button(t, c1, "submit").Value["conv"], button(t, c2, "submit").Value["conv"])
	rep := b.click(t, "dev1", button(t, c1, "submit"), nil)
	require.Equal(t, bots.ToastWarning, rep.ToastKind, "the older card is out of date")
	b.click(t, "dev1", button(t, c2, "submit"), nil)
	mine, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	require.Len(t, mine, 1)
}
