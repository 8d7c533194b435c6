package feishu_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

// TestSeveralAppsOnePath serves two apps (one encrypted, one with a token
// only) on one webhook: each event is routed to its app, and each reply
// goes out through the app it came from.
func TestSeveralAppsOnePath(t *testing.T) {
	t.Parallel()
	fake := feishutest.NewServer()
	t.Cleanup(fake.Close)
	enc := feishu.App{ID: "cli_enc_" + randHex(4), Secret: "s1", EncryptKey: "ek1", VerificationToken: "vt1", BaseURL: fake.URL}
	plain := feishu.App{ID: "cli_plain_" + randHex(4), Secret: "s2", VerificationToken: "vt2", BaseURL: fake.URL, ReplayWindow: time.Minute}
	rec := &adaptertest.Recorder{}
	a, err := feishu.New(feishu.Config{Apps: []feishu.App{enc, plain}}, rec, feishu.WithLogger(quietLogger()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	for _, app := range []feishu.App{enc, plain} {
		fake.AddApp(feishutest.App{ID: app.ID, Secret: app.Secret, EncryptKey: app.EncryptKey, VerificationToken: app.VerificationToken, Webhook: srv.URL})
	}
	for _, app := range []feishu.App{enc, plain} {
		r := fake.DeliverMessage(t, app.ID, "ou_a", "oc_"+app.ID, "hi "+app.ID)
		require.Equal(t, http.StatusOK, r.Status, "body %s", r.Body)
	}
	evs := rec.WaitEvents(t, 2, 5*time.Second)
	require.Equal(t, enc.ID, evs[0].App)
	require.Equal(t, "hi "+enc.ID, evs[0].Text)
	require.Equal(t, plain.ID, evs[1].App)
	require.Empty(t, fake.Messages(), "replies go through the outbox, never from the adapter's memory")
	for _, ev := range evs { // as the notifier sends the durable replies
		to := bots.Recipient{Platform: ev.Platform, App: ev.App, UserID: ev.UserID, ChatID: ev.ChatID}
		_, err := a.Send(context.Background(), to, bots.Message{Text: "echo"}, "outbox-"+ev.ID)
		require.NoError(t, err)
	}
	require.Len(t, fake.Messages(), 2)
	for _, m := range fake.Messages() {
		require.Equal(t, "oc_"+m.AppID, m.ReceiveID, "a reply goes out through its own app")
	}
	// With two apps a send must name its app.
	_, err = a.Send(context.Background(), bots.Recipient{UserID: "ou_a"}, bots.Message{Text: "x"}, "")
	require.ErrorIs(t, err, feishu.ErrUnknownApp)
}

func TestClickReplyMessagesGoToClicker(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{reply: func(ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Toast: "ok", Messages: []bots.Message{{Text: "详情 details"}}}, nil
	}})
	// A card the fake does not know: the click carries no chat id.
	c := b.fake.Click(t, b.app.ID, "ou_lilei", "om_unknown", map[string]any{"a": "todo"}, nil)
	require.Equal(t, http.StatusOK, c.Status)
	waitFor(t, 5*time.Second, "reply to the clicker", func() bool { return len(b.fake.Messages()) == 1 })
	m := b.fake.Messages()[0]
	require.Equal(t, "open_id", m.ReceiveIDType)
	require.Equal(t, "ou_lilei", m.ReceiveID)
	require.Equal(t, "详情 details", m.Text())
}
