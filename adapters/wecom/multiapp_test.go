package wecom_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots"
)

// TestSeveralCorps: two corps on one /webhook/wecom: each callback is
// routed by its signature to its app, and sends go out with that app's
// token.
func TestSeveralCorps(t *testing.T) {
	t.Parallel()
	fake := wecomtest.NewServer()
	t.Cleanup(fake.Close)
	rec := &adaptertest.Recorder{}
	var apps []wecom.App
	for _, corp := range []string{"wwcorpa", "wwcorpb"} {
		apps = append(apps, wecom.App{Name: corp, CorpID: corp, AgentID: 1000002, Secret: "s-" + corp, Token: "t" + corp,
			EncodingAESKey: wecomtest.NewAESKey(), BaseURL: fake.URL})
	}
	a, err := wecom.New(wecom.Config{Apps: apps}, rec, wecom.WithLogger(quietLogger()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	for _, x := range apps {
		fake.AddApp(wecomtest.App{CorpID: x.CorpID, AgentID: x.AgentID, Secret: x.Secret, Token: x.Token, EncodingAESKey: x.EncodingAESKey, Webhook: srv.URL})
	}
	ctx := context.Background()
	for _, x := range apps {
		r, err := fake.SendText(ctx, x.CorpID, x.AgentID, "u-"+x.CorpID, "hi")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
	}
	evs := rec.WaitEvents(t, 2, 5e9)
	require.Equal(t, "wwcorpa", evs[0].App)
	require.Equal(t, "wwcorpb", evs[1].App)
	_, err = a.Send(ctx, bots.Recipient{App: "wwcorpb", UserID: "u1"}, bots.Message{Text: "x"}, "")
	require.NoError(t, err)
	require.Equal(t, "wwcorpb", fake.MessagesTo("u1")[0].CorpID)
	_, err = a.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: "x"}, "")
	require.ErrorIs(t, err, wecom.ErrUnknownApp, "with several apps the recipient must name one")
}
