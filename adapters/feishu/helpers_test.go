package feishu_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

// testBundle is one adapter wired to one fake and a recording handler.
type testBundle struct {
	// renew builds another adapter like the first one, on the same
	// fake: the next process after a crash.
	renew   func() (*feishu.Adapter, error)
	fake    *feishutest.Server
	adapter *feishu.Adapter
	rec     *adaptertest.Recorder
	app     feishu.App
	webhook string
}

type setupOpts struct {
	mode       string
	encryptKey string // "-" for none
	token      string // "-" for none
	rate       feishu.RateLimits
	reply      func(bots.Event) (bots.Reply, error)
	handler    feishu.Handler
	clickWait  time.Duration
	fakeOpts   []feishutest.Option
	appMutator func(*feishu.App)
	inbox      feishu.Inbox
	dir        feishu.Directory
	// noNotifier leaves replies unsent: by the reply rule the adapter
	// never sends them; the notifier stand-in below does, unless this is
	// set.
	noNotifier bool
}

// notifierStandIn plays the notifier for handlers without an outbox:
// after the event was answered it sends each reply message through the
// adapter with its outbox key (or one made from the event id), as the
// notifier sends the bot's durable replies (bots.Reply).
type notifierStandIn struct {
	h  feishu.Handler
	a  *feishu.Adapter
	wg sync.WaitGroup
}

func (n *notifierStandIn) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	rep, err := n.h.Handle(ctx, ev)
	if err != nil || len(rep.Messages) == 0 {
		return rep, err
	}
	to := bots.Recipient{Platform: ev.Platform, App: ev.App, ChatID: ev.ChatID, UserID: ev.UserID}
	msgs := append([]bots.Message(nil), rep.Messages...)
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i, m := range msgs {
			key := m.Key
			if key == "" {
				key = "reply-" + ev.ID + "-" + strconv.Itoa(i)
			}
			_, _ = n.a.Send(ctx, to, m, key)
		}
	})
	return rep, err
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup starts a fake, an adapter for one fresh app and, in http mode, a
// server for the adapter's webhook.
func setup(t testing.TB, o setupOpts) *testBundle {
	t.Helper()
	b := &testBundle{fake: feishutest.NewServer(o.fakeOpts...), rec: &adaptertest.Recorder{ReplyFunc: o.reply}}
	t.Cleanup(b.fake.Close)
	app := feishu.App{
		ID:                "cli_" + randHex(8),
		Secret:            "secret-" + randHex(8),
		EncryptKey:        "ek-" + randHex(8),
		VerificationToken: "vt-" + randHex(8),
		Mode:              o.mode,
		BaseURL:           b.fake.URL,
	}
	if o.encryptKey == "-" {
		app.EncryptKey = ""
	}
	if o.token == "-" {
		app.VerificationToken = ""
	}
	if o.appMutator != nil {
		o.appMutator(&app)
	}
	b.app = app
	var h feishu.Handler = b.rec
	if o.handler != nil {
		h = o.handler
	}
	stand := &notifierStandIn{h: h}
	if !o.noNotifier {
		h = stand
	}
	cfg := feishu.Config{Apps: []feishu.App{app}, Rate: o.rate, ClickTimeout: o.clickWait}
	opts := []feishu.Option{feishu.WithLogger(quietLogger())}
	if o.inbox != nil {
		opts = append(opts, feishu.WithInbox(o.inbox))
	}
	if o.dir != nil {
		opts = append(opts, feishu.WithDirectory(o.dir))
	}
	a, err := feishu.New(cfg, h, opts...)
	b.renew = func() (*feishu.Adapter, error) { return feishu.New(cfg, h, opts...) }
	require.NoError(t, err)
	b.adapter, stand.a = a, a
	t.Cleanup(stand.wg.Wait)
	fa := feishutest.App{ID: app.ID, Secret: app.Secret, EncryptKey: app.EncryptKey, VerificationToken: app.VerificationToken}
	if app.Mode == feishu.ModeWebSocket {
		b.fake.AddApp(fa)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, a.Start(ctx))
		waitFor(t, 5*time.Second, "the adapter's long connection", func() bool { return b.fake.Connected(app.ID) })
	} else {
		srv := httptest.NewServer(a)
		t.Cleanup(srv.Close)
		b.webhook = srv.URL + "/webhook/feishu"
		fa.Webhook = b.webhook
		b.fake.AddApp(fa)
	}
	t.Cleanup(func() { _ = a.Close() })
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

func samples() map[string]bots.Card { return adaptertest.SampleCards() }

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }

func feishuField(label, value string) bots.Field { return bots.Field{Label: label, Value: value} }
