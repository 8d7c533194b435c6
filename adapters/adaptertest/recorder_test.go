package adaptertest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/bots"
)

func TestRecorder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ev        bots.Event
		reply     func(bots.Event) (bots.Reply, error)
		wantToast string
		wantText  string
		wantErr   bool
	}{
		{name: "click gets toast and card", ev: bots.Event{ID: "e1", UserID: "u", Action: &bots.Action{Name: "approve"}}, wantToast: "done: approve"},
		{name: "message gets echo", ev: bots.Event{ID: "e2", Text: "hi"}, wantText: "echo: hi"},
		{name: "custom reply error", ev: bots.Event{ID: "e3"}, reply: func(bots.Event) (bots.Reply, error) {
			return bots.Reply{}, errors.New("down")
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &adaptertest.Recorder{ReplyFunc: tt.reply}
			go func() { _, _ = rec.Handle(context.Background(), tt.ev) }()
			evs := rec.WaitEvents(t, 1, 5*time.Second)
			require.Equal(t, []bots.Event{tt.ev}, evs)
			rep, err := rec.Handle(context.Background(), tt.ev)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantToast, rep.Toast)
			if tt.wantText != "" {
				require.Equal(t, tt.wantText, rep.Messages[0].Text)
			} else {
				require.NotNil(t, rep.Card)
			}
			require.Len(t, rec.Events(), 2)
		})
	}
}

func TestSampleCards(t *testing.T) {
	t.Parallel()
	cards := adaptertest.SampleCards()
	require.Len(t, cards["many_fields"].Fields, 15)
	require.Len(t, cards["six_buttons"].Buttons, 6)
	require.NotEmpty(t, cards["form"].Inputs)
	require.Greater(t, len(cards["long"].Markdown), 30*1024, "the long card exceeds every platform's limit before cutting")
}
