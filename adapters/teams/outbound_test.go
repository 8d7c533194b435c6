package teams_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/teams"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots"
)

func TestProactiveSendCreatesConversation(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	card := &bots.Card{Title: "Task", Buttons: []bots.Button{{Label: "OK", Action: "approve", Value: map[string]string{"task": "1"}}}}
	ref, err := b.adapter.Send(ctx, bots.Recipient{Platform: "teams", UserID: teamsID("bob")}, bots.Message{Card: card}, "k1")
	require.NoError(t, err)
	conv := b.fake.PersonalConversation(teamsID("bob"))
	require.Contains(t, conv, ";", "conversation ids carry characters that must be escaped in URLs")
	acts := b.fake.ActivitiesIn(conv)
	require.Len(t, acts, 1)
	require.Equal(t, "1.5", acts[0].Card()["version"])
	require.Len(t, teamstest.Buttons(acts[0].Card()), 1)
	// Update replaces the activity (PUT) and a second send reuses the conversation.
	require.NoError(t, b.adapter.Update(ctx, ref, bots.Message{Card: &bots.Card{Title: "Approved", Color: bots.ColorGreen}}))
	got, _ := b.fake.Activity(acts[0].ID)
	require.Equal(t, 1, got.Updates)
	require.Empty(t, teamstest.Buttons(got.Card()))
	_, err = b.adapter.Send(ctx, bots.Recipient{UserID: teamsID("bob")}, bots.Message{Text: "hi"}, "")
	require.NoError(t, err)
	require.Len(t, b.fake.ActivitiesIn(conv), 2)
	require.Equal(t, 1, b.fake.TokenRequests(), "the token is cached")
}

func TestSendIdempotentPerKey(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	to := bots.Recipient{UserID: teamsID("bob")}
	r1, err := b.adapter.Send(ctx, to, bots.Message{Text: "x"}, "outbox-1")
	require.NoError(t, err)
	r2, err := b.adapter.Send(ctx, to, bots.Message{Text: "x"}, "outbox-1")
	require.NoError(t, err)
	require.Equal(t, r1, r2)
	require.Len(t, b.fake.Activities(), 1)
}

func TestSendRetriesAfter429(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.fake.Fail429(2)
	_, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: teamsID("bob")}, bots.Message{Text: "x"}, "k")
	require.NoError(t, err)
	require.Len(t, b.fake.Activities(), 1)
	require.EqualValues(t, 2, b.adapter.Stats().Retried)
}

// TestSendRetriesTransientAnswers: the Connector's transient answers are
// retried (honouring Retry-After when sent); the activity is posted once.
// A 500 is not retried by the adapter (the post may have been made): the
// notifier's outbox decides.
func TestSendRetriesTransientAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
		retried    int64
		wantErr    bool
		minWait    time.Duration
	}{
		{"502", http.StatusBadGateway, "", 2, false, 0},
		{"503 with Retry-After", http.StatusServiceUnavailable, "1", 2, false, 2 * time.Second},
		{"504", http.StatusGatewayTimeout, "", 2, false, 0},
		{"429 with Retry-After", http.StatusTooManyRequests, "1", 2, false, 2 * time.Second},
		{"500 is final", http.StatusInternalServerError, "", 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			b.fake.FailNext(2, tt.status, tt.retryAfter)
			t0 := time.Now()
			_, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: teamsID("bob")}, bots.Message{Text: "x"}, "k")
			if tt.wantErr {
				var ae *teams.APIError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, tt.status, ae.Status)
				require.Empty(t, b.fake.Activities())
			} else {
				require.NoError(t, err)
				require.Len(t, b.fake.Activities(), 1)
			}
			require.EqualValues(t, tt.retried, b.adapter.Stats().Retried)
			require.GreaterOrEqual(t, time.Since(t0), tt.minWait, "Retry-After honoured")
		})
	}
}

func TestSendGivesUpAfterRetries(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mutate: func(c *teamsConfig) { c.MaxRetries = 1 }})
	b.fake.Fail429(2)
	_, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: teamsID("bob")}, bots.Message{Text: "x"}, "k")
	var ae *teams.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusTooManyRequests, ae.Status)
	// A failed send is not remembered: the retry with the same key sends.
	_, err = b.adapter.Send(context.Background(), bots.Recipient{UserID: teamsID("bob")}, bots.Message{Text: "x"}, "k")
	require.NoError(t, err)
}

func TestSendAndUpdateErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u"}, bots.Message{}, "")
	require.ErrorIs(t, err, teams.ErrEmptyMessage)
	_, err = b.adapter.Send(ctx, bots.Recipient{}, bots.Message{Text: "x"}, "")
	require.ErrorIs(t, err, teams.ErrNoRecipient)
	_, err = b.adapter.Send(ctx, bots.Recipient{ChatID: "19:never-seen@thread.v2"}, bots.Message{Text: "x"}, "")
	require.ErrorContains(t, err, "no serviceUrl known")
	require.ErrorIs(t, b.adapter.Update(ctx, "garbage", bots.Message{Text: "x"}), teams.ErrBadRef)
	ref, err := b.adapter.Send(ctx, bots.Recipient{UserID: teamsID("bob")}, bots.Message{Text: "x"}, "")
	require.NoError(t, err)
	gone := strings.Replace(ref, "a=1", "a=9", 1)
	err = b.adapter.Update(ctx, gone, bots.Message{Text: "y"})
	require.True(t, errors.Is(err, bots.ErrMessageGone), "%v", err)
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for key, cfg := range map[string]teams.Config{
		"teams.app_id":       {AppPassword: "p", TenantID: "t"},
		"teams.app_password": {AppID: "a", TenantID: "t"},
		"teams.tenant_id":    {AppID: "a", AppPassword: "p"},
	} {
		_, err := teams.New(cfg, &nopHandler{})
		var ce *teams.ConfigError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, key, ce.Key)
	}
	_, err := teams.New(teams.Config{AppID: "a", AppPassword: "p", TenantID: "t"}, nil)
	require.Error(t, err)
}

type nopHandler struct{}

func (nopHandler) Handle(context.Context, bots.Event) (bots.Reply, error) { return bots.Reply{}, nil }
