package teams_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/teams"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots"
)

// testBundle is one adapter wired to one fake.
type testBundle struct {
	// renew builds another adapter like the first one, on the same
	// fake: the next process after a crash.
	renew   func() (*teams.Adapter, error)
	fake    *teamstest.Server
	adapter *teams.Adapter
	rec     *adaptertest.Recorder
	appID   string
}

type setupOpts struct {
	handler teams.Handler
	// standIn sends reply messages through the adapter after the answer,
	// as the notifier does for the bot's durable replies.
	standIn bool
	mutate  func(*teamsConfig)
	now     func() time.Time
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func setup(tb testing.TB, o setupOpts) *testBundle {
	tb.Helper()
	k := testKeys()
	b := &testBundle{fake: teamstest.NewServerWithKeys(k[0], k[1]), rec: &adaptertest.Recorder{}, appID: "app-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	tb.Cleanup(b.fake.Close)
	var h teams.Handler = b.rec
	if o.handler != nil {
		h = o.handler
	}
	stand := &notifierStandIn{h: h}
	if o.standIn {
		h = stand
	}
	cfg := teams.Config{
		AppID: b.appID, AppPassword: "secret", TenantID: "tenant-1",
		OpenIDMetadataURL: b.fake.MetadataURL(), LoginBaseURL: b.fake.URL, ServiceURL: b.fake.ServiceURL(),
	}
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	opts := []teams.Option{teams.WithLogger(quietLogger()), teams.WithHTTPClient(b.fake.Client())}
	if o.now != nil {
		opts = append(opts, teams.WithClock(o.now))
	}
	a, err := teams.New(cfg, h, opts...)
	b.renew = func() (*teams.Adapter, error) { return teams.New(cfg, h, opts...) }
	require.NoError(tb, err)
	stand.a = a
	b.adapter = a
	tb.Cleanup(func() {
		stand.wg.Wait()
		require.NoError(tb, a.Close())
	})
	return b
}

// notifierStandIn plays the notifier for handlers without an outbox.
type notifierStandIn struct {
	h  teams.Handler
	a  *teams.Adapter
	wg sync.WaitGroup
}

func (n *notifierStandIn) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	rep, err := n.h.Handle(ctx, ev)
	if err != nil || len(rep.Messages) == 0 {
		return rep, err
	}
	to := bots.Recipient{Platform: ev.Platform, ChatID: ev.ChatID, UserID: ev.UserID}
	msgs := append([]bots.Message(nil), rep.Messages...)
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i, m := range msgs {
			_, _ = n.a.Send(ctx, to, m, "reply-"+ev.ID+"-"+strconv.Itoa(i))
		}
	})
	return rep, err
}

// token mints a valid token for the bundle's app.
func (b *testBundle) token() string { return b.fake.Token(b.appID, teamstest.Claims{}) }

// user ids of a test user: the Teams id (29:...) and the AAD object id.
func teamsID(u string) string { return "29:1" + u }

type teamsConfig = teams.Config

// testKeys are the fakes' signing keys, made once per test binary.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var k [2]*rsa.PrivateKey
	for i := range k {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		k[i] = key
	}
	return k
})
