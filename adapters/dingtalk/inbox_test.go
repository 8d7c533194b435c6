package dingtalk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots"
)

// gated answers a click when released (or when Close cancels it), and
// reports whether its context was alive then.
type gated struct {
	release  chan struct{}
	finished chan error
}

func newGated() *gated { return &gated{release: make(chan struct{}), finished: make(chan error, 4)} }

func (g *gated) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	g.finished <- ctx.Err()
	return bots.Reply{Card: &bots.Card{Title: "late"}}, ctx.Err()
}

// A card callback answered before its handler finished is kept before
// the answer and done after the handler; Close stops the Stream at once
// (no new frame) but lets that handler finish within the grace.
func TestSlowClickKeptAndDrainedOnClose(t *testing.T) {
	t.Parallel()
	in := &adaptertest.Inbox{}
	h := newGated()
	b := setup(t, setupOpts{handler: h, inbox: in, cfg: func(c *dingtalk.Config) { c.ClickTimeout = 50 * time.Millisecond; c.CloseGrace = time.Minute }})
	track := b.sendCard(t, "manager", bots.Card{Title: "x", Buttons: []bots.Button{{Label: "ok", Action: "approve"}}})
	_, ans, err := b.fake.ClickStream(b.app.Key, dingtalktest.Click{OutTrackID: track, UserID: "manager"})
	require.NoError(t, err)
	require.Empty(t, ans.CardData.CardParamMap["title"], "answered before the bot finished")
	calls := in.Calls()
	require.Len(t, calls, 1)
	require.True(t, strings.HasPrefix(calls[0], "keep card:"), "got %v, want the callback kept before its answer", calls)
	id := strings.TrimPrefix(calls[0], "keep ")

	closed := make(chan struct{})
	go func() {
		_ = b.adapter.Close()
		close(closed)
	}()
	waitFor(t, 5*time.Second, "the stream to stop on Close", func() bool { return !b.fake.Connected(b.app.Key) })
	select {
	case <-closed:
		t.Fatal("Close returned while an acknowledged callback was still being handled")
	default:
	}
	close(h.release)
	require.NoError(t, <-h.finished, "the acknowledged handler was cancelled although it finished within the grace")
	<-closed
	require.Equal(t, []string{"keep " + id, "done " + id}, in.Calls())
	require.Equal(t, 1, b.fake.Opens(b.app.Key), "no reconnect after Close")
}

// A handler that outlives the grace is cancelled: its callback stays
// kept (not done), so that the inbox replays it.
func TestSlowClickPastGraceStaysKept(t *testing.T) {
	t.Parallel()
	in := &adaptertest.Inbox{}
	h := newGated()
	b := setup(t, setupOpts{handler: h, inbox: in, cfg: func(c *dingtalk.Config) { c.ClickTimeout = 50 * time.Millisecond; c.CloseGrace = time.Millisecond }})
	track := b.sendCard(t, "manager", bots.Card{Title: "x", Buttons: []bots.Button{{Label: "ok", Action: "approve"}}})
	_, _, err := b.fake.ClickStream(b.app.Key, dingtalktest.Click{OutTrackID: track, UserID: "manager"})
	require.NoError(t, err)
	require.NoError(t, b.adapter.Close())
	require.ErrorIs(t, <-h.finished, context.Canceled)
	calls := in.Calls()
	require.Len(t, calls, 1, "got %v: a cancelled handler must not mark its callback done", calls)
	require.True(t, strings.HasPrefix(calls[0], "keep card:"))
}

// When the callback cannot be kept, DingTalk is asked to deliver it again
// (LATER) instead of being told it was handled.
func TestSlowClickNotKeptAsksForRedelivery(t *testing.T) {
	t.Parallel()
	in := &adaptertest.Inbox{KeepErr: errors.New("database down")}
	h := newGated()
	b := setup(t, setupOpts{handler: h, inbox: in, cfg: func(c *dingtalk.Config) { c.ClickTimeout = 50 * time.Millisecond }})
	track := b.sendCard(t, "manager", bots.Card{Title: "x", Buttons: []bots.Button{{Label: "ok", Action: "approve"}}})
	defer close(h.release)
	data, err := b.fake.ClickData(dingtalktest.Click{OutTrackID: track, UserID: "manager"})
	require.NoError(t, err)
	ack, err := b.fake.Callback(b.app.Key, topicCard, "", data)
	require.NoError(t, err)
	require.Equal(t, "LATER", ack.Status(), "got %q, want LATER: an event not kept must be delivered again", ack.Status())
}
