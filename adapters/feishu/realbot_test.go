package feishu_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// Feishu open_ids of the example company (examples/org.yaml).
const (
	openIDHanMeimei = "ou_3d4e5f60718293a4b5c6d7e8f9012a3b" // applicant
	openIDLiLei     = "ou_2c3d4e5f60718293a4b5c6d7e8f9012a" // her manager
)

// realBot is the adapter wired to a real bot over the engine on SQLite
// with the example company and flows.
type realBot struct {
	*testBundle
	h      *countingHandler
	engine *flows.Engine
	bot    *bots.Bot
	ctx    context.Context
}

func setupRealBot(tb testing.TB) *realBot {
	tb.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(tb)
	clock := testkit.NewClock(time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC))
	engine := flows.New(flows.Config{Store: db, Clock: clock, Calendar: testkit.ExampleCalendar(tb), Logger: slog.New(slog.DiscardHandler)})
	testkit.LoadExampleOrg(tb, ctx, db)
	testkit.PublishExampleFlows(tb, ctx, engine)
	bot := bots.New(bots.Config{
		Engine: engine, Store: db, State: testkit.NewMemState(clock.Now), Dedupe: testkit.NewMemDedupe(),
		Logger: slog.New(slog.DiscardHandler),
	})
	h := &countingHandler{h: bot}
	return &realBot{testBundle: setup(tb, setupOpts{handler: h, rate: feishu.RateLimits{ChatPerSecond: 1000, AppPerSecond: 1e6, AppPerMinute: 1e8}}), h: h, engine: engine, bot: bot, ctx: ctx}
}

// countingHandler counts the replies that carry messages.
type countingHandler struct {
	h       feishu.Handler
	mu      sync.Mutex
	answers int
}

func (c *countingHandler) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	rep, err := c.h.Handle(ctx, ev)
	if len(rep.Messages) > 0 {
		c.mu.Lock()
		c.answers++
		c.mu.Unlock()
	}
	return rep, err
}

func (c *countingHandler) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answers
}

// taskCard files a leave request of Han Meimei and sends Li Lei's task
// card through the adapter; it returns the fake's message id.
func (r *realBot) taskCard(tb testing.TB) string {
	tb.Helper()
	out, err := r.engine.Submit(r.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": "2026-12-01", "to": "2026-12-02"}, "reason": "family",
	}})
	require.NoError(tb, err)
	var task *flows.Task
	for _, x := range out.Tasks {
		if x.Status == flows.TaskPending && x.Assignee == "lilei" {
			task = x
		}
	}
	require.NotNil(tb, task, "Li Lei has the task")
	v, err := r.engine.View(r.ctx, out.Instance.ID)
	require.NoError(tb, err)
	lilei, err := r.engine.Store().User(r.ctx, "lilei")
	require.NoError(tb, err)
	card := r.bot.TaskCard(v, task, lilei)
	ref, err := r.adapter.Send(r.ctx, bots.Recipient{UserID: openIDLiLei}, bots.Message{Card: card}, "")
	require.NoError(tb, err)
	return strings.TrimPrefix(ref, r.app.ID+":")
}

// TestRedeliveredEventAnsweredOnce: Feishu delivers the same message event
// three times; the real bot's Deduper lets one reply through.
func TestRedeliveredEventAnsweredOnce(t *testing.T) {
	t.Parallel()
	r := setupRealBot(t)
	d := feishutest.Delivery{App: r.app.ID, EventID: "ev_thrice", OpenID: openIDHanMeimei, ChatID: feishutest.P2PChatID(openIDHanMeimei), Text: "/help"}
	for range 3 {
		require.Equal(t, http.StatusOK, r.fake.Deliver(t, d).Status)
	}
	// Handle runs before each delivery is answered: the count is final.
	require.Equal(t, 1, r.h.count(), "the bot answers one of three deliveries")
	waitFor(t, 5*time.Second, "the reply", func() bool { return len(r.fake.Messages()) == 1 })
	msgs := r.fake.Messages()
	require.Equal(t, feishutest.P2PChatID(openIDHanMeimei), msgs[0].ChatID)
	require.Contains(t, msgs[0].Content, "/todo", "the help text")
}

// TestClickDecidesSharedCard: Li Lei approves on his card; the answer's
// card replaces the message (the fake applies it, as Feishu does).
func TestClickDecidesSharedCard(t *testing.T) {
	t.Parallel()
	r := setupRealBot(t)
	msgID := r.taskCard(t)
	m, _ := r.fake.Message(msgID)
	value := buttonByAction(t, m.Card(), "approve")
	c := r.fake.Click(t, r.app.ID, openIDLiLei, msgID, value, map[string]any{"comment": "好的"})
	require.Equal(t, http.StatusOK, c.Status, "%s", c.Body)
	require.NotNil(t, c.Toast)
	require.Equal(t, "info", c.Toast.Type)
	m, _ = r.fake.Message(msgID)
	require.Equal(t, 1, m.Updates)
	require.Equal(t, "green", m.Card()["header"].(map[string]any)["template"])
	require.Empty(t, feishutest.Buttons(m.Card()), "the decided card has no buttons")
}
