package feishu_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

func TestLongConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mode: feishu.ModeWebSocket, encryptKey: "-", token: "-", reply: func(ev bots.Event) (bots.Reply, error) {
		if ev.Action != nil {
			return bots.Reply{Toast: "ok", Card: &bots.Card{Title: "Approved over ws", Color: bots.ColorGreen}}, nil
		}
		return bots.Reply{Messages: []bots.Message{{Text: "got " + ev.Text}}}, nil
	}})

	r := b.fake.DeliverMessage(t, b.app.ID, "ou_alice", "oc_p2p_alice", "/todo")
	require.Equal(t, http.StatusOK, r.Status)
	evs := b.rec.Events()
	require.Len(t, evs, 1)
	require.Equal(t, "/todo", evs[0].Text)
	require.Equal(t, r.EventID, evs[0].ID)
	waitFor(t, 5*time.Second, "reply", func() bool { return len(b.fake.Messages()) == 1 })
	require.Equal(t, "got /todo", b.fake.Messages()[0].Text())

	c := b.fake.Click(t, b.app.ID, "ou_lilei", "om_1", map[string]any{"a": "approve", "v": map[string]any{"task": "7"}}, nil)
	require.Equal(t, http.StatusOK, c.Status)
	require.Equal(t, "ok", c.Toast.Content)
	require.Equal(t, "raw", c.CardType)
	require.Equal(t, "Approved over ws", c.Card["header"].(map[string]any)["title"].(map[string]any)["content"])
	require.Len(t, b.rec.Events(), 2)
	require.Equal(t, map[string]string{"task": "7"}, b.rec.Events()[1].Action.Value)
}

func TestLongConnectionBadSecret(t *testing.T) {
	t.Parallel()
	fake := feishutest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddApp(feishutest.App{ID: "cli_ws_bad", Secret: "right"})
	a, err := feishu.New(feishu.Config{Apps: []feishu.App{{ID: "cli_ws_bad", Secret: "wrong", Mode: feishu.ModeWebSocket, BaseURL: fake.URL}}}, &recorderStub{}, feishu.WithLogger(quietLogger()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = a.Start(ctx)
	require.Error(t, err)
	require.Contains(t, err.Error(), "app secret invalid")
	require.False(t, fake.Connected("cli_ws_bad"))
}

func TestLongConnectionIgnoresOtherEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{mode: feishu.ModeWebSocket})
	payload := b.fake.MessageEvent(feishutest.Delivery{App: b.app.ID, OpenID: "ou_a", ChatID: "oc_1", Text: "x"})
	payload = []byte(strings.Replace(string(payload), "im.message.receive_v1", "im.message.message_read_v1", 1))
	r := b.fake.Push(t, b.app.ID, payload)
	require.Equal(t, http.StatusOK, r.Status, "acknowledged, not redelivered")
	require.Empty(t, b.rec.Events())
}
