package dingtalk_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots"
)

// testBundle is one adapter wired to one fake and a recording handler.
type testBundle struct {
	// renew builds another adapter like the first one, on the same
	// fake: the next process after a crash.
	renew   func() (*dingtalk.Adapter, error)
	fake    *dingtalktest.Server
	adapter *dingtalk.Adapter
	rec     *adaptertest.Recorder
	app     dingtalk.App
	webhook string
}

type setupOpts struct {
	mode     string
	textOnly bool
	reply    func(bots.Event) (bots.Reply, error)
	handler  dingtalk.Handler
	cfg      func(*dingtalk.Config)
	metrics  dingtalk.Metrics
	inbox    dingtalk.Inbox
	dir      dingtalk.Directory
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup starts a fake and an adapter for one fresh app: connected in
// stream mode, behind an httptest server in http mode.
func setup(t testing.TB, o setupOpts) *testBundle {
	t.Helper()
	b := &testBundle{fake: dingtalktest.NewServer(), rec: &adaptertest.Recorder{ReplyFunc: o.reply}}
	t.Cleanup(b.fake.Close)
	app := dingtalk.App{
		Key: "ding" + randHex(6), Secret: "secret-" + randHex(12), Mode: o.mode,
		BaseURL: b.fake.URL, CardTemplateID: "tpl-flowbot.schema", TextOnly: o.textOnly,
	}
	b.app = app
	var h dingtalk.Handler = b.rec
	if o.handler != nil {
		h = o.handler
	}
	cfg := dingtalk.Config{Apps: []dingtalk.App{app}, ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond, RetryBase: time.Millisecond}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	opts := []dingtalk.Option{dingtalk.WithLogger(quietLogger())}
	if o.metrics != nil {
		opts = append(opts, dingtalk.WithMetrics(o.metrics))
	}
	if o.inbox != nil {
		opts = append(opts, dingtalk.WithInbox(o.inbox))
	}
	if o.dir != nil {
		opts = append(opts, dingtalk.WithDirectory(o.dir))
	}
	a, err := dingtalk.New(cfg, h, opts...)
	b.renew = func() (*dingtalk.Adapter, error) { return dingtalk.New(cfg, h, opts...) }
	require.NoError(t, err)
	b.adapter = a
	fa := dingtalktest.App{Key: app.Key, Secret: app.Secret}
	if app.Mode == dingtalk.ModeHTTP {
		srv := httptest.NewServer(a)
		t.Cleanup(srv.Close)
		fa.Webhook = srv.URL + "/webhook/dingtalk"
		b.webhook = fa.Webhook
	}
	b.fake.AddApp(fa)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Close() })
	if app.Mode != dingtalk.ModeHTTP {
		waitFor(t, 5*time.Second, "the stream connection", func() bool { return b.fake.Connected(app.Key) })
	}
	return b
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

// sendCard sends c to user through the adapter and returns its
// outTrackId.
func (b *testBundle) sendCard(t testing.TB, user string, c bots.Card) string {
	t.Helper()
	ref, err := b.adapter.Send(context.Background(), bots.Recipient{Platform: dingtalk.Platform, UserID: user}, bots.Message{Card: &c}, "k-"+randHex(6))
	require.NoError(t, err)
	_, track, ok := strings.Cut(ref, "/")
	require.True(t, ok, "ref %q", ref)
	return track
}
