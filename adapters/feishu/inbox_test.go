package feishu_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

// gatedHandler answers when released, with err.
type gatedHandler struct {
	release  chan struct{}
	err      error
	returned chan struct{}
}

func (h *gatedHandler) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	defer close(h.returned)
	select {
	case <-h.release:
	case <-ctx.Done(): // a failed test's Close
		return bots.Reply{}, ctx.Err()
	}
	return bots.Reply{Card: &bots.Card{Title: "Approved late"}}, h.err
}

func TestLateClickInbox(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		keepErr   error
		handleErr error
		wantToast string
		want      []string // inbox calls once the handler returned
	}{
		// Kept before "processing" is answered, done once handled.
		{name: "KeptThenDone", wantToast: "Processing, please wait", want: []string{"keep E", "done E"}},
		// Not durable: the user is told to try again, not "processing"
		// (the handler's Done then removes nothing).
		{name: "KeepFailsTryAgain", keepErr: errors.New("disk full"), wantToast: "Something went wrong, please try again", want: []string{"keep E", "done E"}},
		// A late handler that failed leaves the click kept: it is replayed.
		{name: "FailedHandlerStaysKept", handleErr: errors.New("db down"), wantToast: "Processing, please wait", want: []string{"keep E"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := &adaptertest.Inbox{KeepErr: tt.keepErr}
			h := &gatedHandler{release: make(chan struct{}), err: tt.handleErr, returned: make(chan struct{})}
			b := setup(t, setupOpts{clickWait: 50 * time.Millisecond, handler: h, noNotifier: true, inbox: in})
			r := b.fake.ClickWith(t, feishutest.Click{App: b.app.ID, EventID: "E", OpenID: "ou_lilei", MessageID: "om_task", Value: map[string]any{"a": "approve"}})
			require.Equal(t, http.StatusOK, r.Status)
			require.Equal(t, tt.wantToast, r.Toast.I18n["en_us"])
			require.Equal(t, []string{"keep E"}, in.Calls(), "the click must be kept before it is answered, and not done yet")
			close(h.release)
			<-h.returned
			if len(tt.want) == 2 {
				<-in.DoneC()
			}
			require.NoError(t, b.adapter.Close())
			require.Equal(t, tt.want, in.Calls())
		})
	}
}

// A click answered in time is not kept: the platform got the bot's answer.
func TestFastClickIsNotKept(t *testing.T) {
	t.Parallel()
	in := &adaptertest.Inbox{}
	b := setup(t, setupOpts{inbox: in})
	r := b.fake.Click(t, b.app.ID, "ou_lilei", "om_task", map[string]any{"a": "approve"}, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NoError(t, b.adapter.Close())
	require.Empty(t, in.Calls())
}
