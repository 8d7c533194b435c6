package wecom_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots"
)

// testBundle is one adapter wired to one fake and a handler.
type testBundle struct {
	// renew builds another adapter like the first one, on the same
	// fake: the next process after a crash.
	renew   func() (*wecom.Adapter, error)
	fake    *wecomtest.Server
	adapter *wecom.Adapter
	rec     *adaptertest.Recorder
	app     wecomtest.App
	name    string
	ctx     context.Context
}

type setupOpts struct {
	handler  wecom.Handler
	reply    func(bots.Event) (bots.Reply, error)
	rate     wecom.RateLimits
	fakeOpts []wecomtest.Option
	clock    func() time.Time
	dir      wecom.Directory
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup starts a fake, an adapter for one fresh app and a server for the
// adapter's webhook.
func setup(t testing.TB, o setupOpts) *testBundle {
	t.Helper()
	b := &testBundle{fake: wecomtest.NewServer(o.fakeOpts...), rec: &adaptertest.Recorder{ReplyFunc: o.reply}, ctx: context.Background()}
	t.Cleanup(b.fake.Close)
	app := wecom.App{
		CorpID: "ww" + randHex(8), AgentID: 1000002, Secret: "secret-" + randHex(8),
		Token: "tok" + randHex(6), EncodingAESKey: wecomtest.NewAESKey(), BaseURL: b.fake.URL,
	}
	var h wecom.Handler = b.rec
	if o.handler != nil {
		h = o.handler
	}
	opts := []wecom.Option{wecom.WithLogger(quietLogger())}
	if o.clock != nil {
		opts = append(opts, wecom.WithClock(o.clock))
	}
	if o.dir != nil {
		opts = append(opts, wecom.WithDirectory(o.dir))
	}
	a, err := wecom.New(wecom.Config{Apps: []wecom.App{app}, Rate: o.rate}, h, opts...)
	b.renew = func() (*wecom.Adapter, error) {
		return wecom.New(wecom.Config{Apps: []wecom.App{app}, Rate: o.rate}, h, opts...)
	}
	require.NoError(t, err)
	b.adapter = a
	b.name = app.CorpID + ":1000002"
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	b.app = wecomtest.App{CorpID: app.CorpID, AgentID: app.AgentID, Secret: app.Secret, Token: app.Token,
		EncodingAESKey: app.EncodingAESKey, Webhook: srv.URL + "/webhook/wecom"}
	b.fake.AddApp(b.app)
	t.Cleanup(func() { _ = a.Close() })
	return b
}

// sendCard sends c to user through the adapter and returns the fake's copy.
func (b *testBundle) sendCard(t testing.TB, user string, c bots.Card, key string) (string, wecomtest.Message) {
	t.Helper()
	ref, err := b.adapter.Send(b.ctx, bots.Recipient{Platform: wecom.Platform, UserID: user}, bots.Message{Card: &c}, key)
	require.NoError(t, err)
	msgs := b.fake.MessagesTo(user)
	require.NotEmpty(t, msgs)
	return ref, msgs[len(msgs)-1]
}

// keyOf is the key of the button with text on a card.
func keyOf(t testing.TB, card map[string]any, text string) string {
	t.Helper()
	var names []string
	for _, btn := range wecomtest.Buttons(card) {
		if btn.Text == text {
			return btn.Key
		}
		names = append(names, btn.Text)
	}
	t.Fatalf("no %q button; buttons %v", text, names)
	return ""
}

// seal encrypts and signs plain for the bundle's app at ts.
func (b *testBundle) seal(t testing.TB, plain []byte, ts time.Time) wecomtest.Sealed {
	t.Helper()
	s, err := wecomtest.Seal(b.app, plain, ts)
	require.NoError(t, err)
	return s
}

func (b *testBundle) post(t testing.TB, s wecomtest.Sealed) wecomtest.Response {
	t.Helper()
	r, err := wecomtest.Post(b.ctx, b.app.Webhook, s)
	require.NoError(t, err)
	return r
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}
