package dingtalk_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots"
)

const (
	topicBot  = "/v1.0/im/bot/messages/get"
	topicCard = "/v1.0/card/instances/callback"
)

func TestStreamMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		msg      dingtalktest.Message
		want     bool // an event reaches the bot
		wantText string
		wantChat string
		wantType string
	}{
		{"p2p", dingtalktest.Message{StaffID: "u1", Text: " /expense "}, true, "/expense", "", "p2p"},
		{"group mention stripped", dingtalktest.Message{StaffID: "u1", Text: "@flowbot /expense", Group: "cidG1", AtBot: true}, true, "/expense", "cidG1", "group"},
		{"group without mention", dingtalktest.Message{StaffID: "u1", Text: "hello all", Group: "cidG1"}, false, "", "", ""},
		{"sender outside the org", dingtalktest.Message{StaffID: "", Text: "/help"}, false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			ack, err := b.fake.Callback(b.app.Key, topicBot, "", b.fake.MessageData(b.app.Key, tt.msg))
			require.NoError(t, err)
			require.Equal(t, 200, ack.Code)
			require.Equal(t, "SUCCESS", ack.Status())
			evs := b.rec.Events()
			if !tt.want {
				require.Empty(t, evs)
				return
			}
			require.Len(t, evs, 1)
			ev := evs[0]
			require.Equal(t, dingtalk.Platform, ev.Platform)
			require.Equal(t, b.app.Key, ev.App)
			require.Equal(t, tt.msg.StaffID, ev.UserID)
			require.Equal(t, tt.wantText, ev.Text)
			require.Equal(t, tt.wantChat, ev.ChatID)
			require.Equal(t, tt.wantType, ev.ChatType)
			require.NotEmpty(t, ev.ID)
			// The reply rule: the adapter sent nothing itself.
			require.Empty(t, b.fake.Sent())
		})
	}
}

// flaky fails the first n calls, then records.
type flaky struct {
	mu    sync.Mutex
	fails int
	calls int
	ok    []bots.Event
}

func (f *flaky) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fails > 0 {
		f.fails--
		return bots.Reply{}, errors.New("store down")
	}
	f.ok = append(f.ok, ev)
	return bots.Reply{}, nil
}

func TestStreamLaterThenOnce(t *testing.T) {
	t.Parallel()
	h := &flaky{fails: 1}
	b := setup(t, setupOpts{handler: h})
	data := b.fake.MessageData(b.app.Key, dingtalktest.Message{MsgID: "m-1", StaffID: "u1", Text: "/help"})
	ack, err := b.fake.Callback(b.app.Key, topicBot, "frame-1", data)
	require.NoError(t, err)
	require.Equal(t, "LATER", ack.Status(), "a failed frame asks to be delivered again")
	for range 3 { // DingTalk redelivers; duplicates are handled once
		ack, err = b.fake.Callback(b.app.Key, topicBot, "frame-1", data)
		require.NoError(t, err)
		require.Equal(t, "SUCCESS", ack.Status())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Equal(t, 2, h.calls, "got %d calls, want 2 (one failure, one success)", h.calls)
	require.Len(t, h.ok, 1)
}

func TestStreamBadFrames(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ack, err := b.fake.Callback(b.app.Key, "/v1.0/unknown/topic", "", []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, 404, ack.Code, "an unknown topic is answered 404")
	for _, data := range []string{`not json`, `{"msgId":1}`, `{}`, `{"msgId":"m","conversationId":"c","conversationType":"9"}`} {
		ack, err = b.fake.Callback(b.app.Key, topicBot, "", []byte(data))
		require.NoError(t, err, data)
		require.Equal(t, 200, ack.Code, data)
	}
	ack, err = b.fake.Callback(b.app.Key, topicCard, "", []byte(`{"outTrackId":"x","userId":"u","content":"{bad"}`))
	require.NoError(t, err)
	require.Equal(t, 200, ack.Code)
	require.Empty(t, b.rec.Events(), "malformed frames reach no handler")
	require.NoError(t, b.fake.Ping(b.app.Key), "the connection still answers")
}

func TestStreamClick(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{reply: func(ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Toast: "已同意", Card: &bots.Card{Title: "Approved", Color: bots.ColorGreen, Note: "by " + ev.UserID}}, nil
	}})
	track := b.sendCard(t, "manager", bots.Card{
		Title:   "Expense",
		Inputs:  []bots.Input{{Name: "comment", Label: "Comment"}},
		Buttons: []bots.Button{{Label: "Approve", Action: "approve", Value: map[string]string{"task": "7"}}, {Label: "Reject", Action: "reject", Value: map[string]string{"task": "7"}}},
	})
	forged := `{"a":"approve","v":{"task":"8"},"s":"AAAAAAAAAAAAAAAAAAAAAA"}`
	ack, err := func() (dingtalktest.Ack, error) {
		data, err := b.fake.ClickData(dingtalktest.Click{OutTrackID: track, UserID: "manager", Override: &forged})
		require.NoError(t, err)
		return b.fake.Callback(b.app.Key, topicCard, "", data)
	}()
	require.NoError(t, err)
	require.Equal(t, 200, ack.Code)
	require.Empty(t, b.rec.Events(), "a forged button token reaches no handler")

	ack, ans, err := b.fake.ClickStream(b.app.Key, dingtalktest.Click{OutTrackID: track, UserID: "manager", Button: 1, Inputs: map[string]string{"comment": "too much"}})
	require.NoError(t, err)
	require.Equal(t, 200, ack.Code)
	require.Equal(t, "Approved", ans.CardData.CardParamMap["title"])
	require.Equal(t, "已同意", ans.CardData.CardParamMap["toast"])
	require.True(t, ans.CardUpdateOptions.UpdateCardDataByKey)
	evs := b.rec.Events()
	require.Len(t, evs, 1)
	require.Equal(t, "reject", evs[0].Action.Name)
	require.Equal(t, map[string]string{"task": "7"}, evs[0].Action.Value)
	require.Equal(t, "too much", evs[0].Action.Inputs["comment"])
	require.Equal(t, b.app.Key+"/"+track, evs[0].Action.MessageRef)
	card, _ := b.fake.Card(track)
	require.Equal(t, "green", card.Params["color"], "the answer updated the card")

}

func TestStreamSlowClickAnswersInTime(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rec := &adaptertest.Recorder{ReplyFunc: func(ev bots.Event) (bots.Reply, error) {
		<-release
		return bots.Reply{Card: &bots.Card{Title: "late"}}, nil
	}}
	b := setup(t, setupOpts{handler: rec, cfg: func(c *dingtalk.Config) { c.ClickTimeout = 50 * time.Millisecond }})
	track := b.sendCard(t, "manager", bots.Card{Title: "x", Buttons: []bots.Button{{Label: "ok", Action: "approve"}}})
	start := time.Now()
	_, ans, err := b.fake.ClickStream(b.app.Key, dingtalktest.Click{OutTrackID: track, UserID: "manager"})
	require.NoError(t, err)
	require.Less(t, time.Since(start), time.Second)
	require.Empty(t, ans.CardData.CardParamMap["title"], "a late answer leaves the card to the outbox")
	close(release)
	rec.WaitEvents(t, 1, 5*time.Second)
}

// counter counts metrics.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) Inc(app, kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[kind]++
}

func (c *counter) get(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[kind]
}

func TestStreamReconnects(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"disconnect frame", "dropped socket"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			m := &counter{}
			b := setup(t, setupOpts{metrics: m})
			require.NoError(t, b.adapter.Ready(context.Background()))
			if how == "disconnect frame" {
				require.NoError(t, b.fake.Disconnect(b.app.Key))
			} else {
				b.fake.Drop(b.app.Key)
			}
			waitFor(t, 5*time.Second, "a second connection", func() bool { return b.fake.Opens(b.app.Key) >= 2 && b.fake.Connected(b.app.Key) })
			waitFor(t, 5*time.Second, "readiness", func() bool { return b.adapter.Ready(context.Background()) == nil })
			ack, err := b.fake.Callback(b.app.Key, topicBot, "", b.fake.MessageData(b.app.Key, dingtalktest.Message{StaffID: "u1", Text: "hi"}))
			require.NoError(t, err)
			require.Equal(t, "SUCCESS", ack.Status())
			require.GreaterOrEqual(t, m.get("reconnect"), 1)
			waitFor(t, 5*time.Second, "the ack counted", func() bool { return m.get("ack") >= 1 }) // counted just after the write the fake saw
		})
	}
}

func TestStreamBadCredentials(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddApp(dingtalktest.App{Key: "dingk", Secret: "right"})
	a, err := dingtalk.New(dingtalk.Config{Apps: []dingtalk.App{{Key: "dingk", Secret: "wrong", BaseURL: fake.URL, TextOnly: true}}}, &adaptertest.Recorder{}, dingtalk.WithLogger(quietLogger()))
	require.NoError(t, err)
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.Error(t, a.Start(ctx))
	require.Error(t, a.Ready(ctx))
	require.Zero(t, fake.Opens("dingk"))
}

func TestCloseStopsEverything(t *testing.T) {
	t.Parallel()
	var handled atomic.Int32
	b := setup(t, setupOpts{reply: func(bots.Event) (bots.Reply, error) { handled.Add(1); return bots.Reply{}, nil }})
	require.NoError(t, b.adapter.Close())
	waitFor(t, 5*time.Second, "the fake to see the socket closed", func() bool { return !b.fake.Connected(b.app.Key) })
	require.Equal(t, 1, b.fake.Opens(b.app.Key), "no reconnect after Close")
}
