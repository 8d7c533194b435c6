package dingtalk_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// DingTalk staff ids of the example company (examples/org.yaml).
const (
	staffHanMeimei = "user0004"    // applicant
	staffLiLei     = "user0003"    // her manager
	staffSunLi     = "manager0002" // finance
)

// realBot is the adapter wired to the real bot, the engine on SQLite with
// the example company and flows, and a notifier sending the outbox
// through the adapter.
type realBot struct {
	*testBundle
	engine *flows.Engine
	bot    *bots.Bot
	n      *notify.Notifier
	ctx    context.Context
}

func setupRealBot(tb testing.TB, mode string) *realBot {
	tb.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(tb)
	clock := testkit.NewClock(time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC))
	engine := flows.New(flows.Config{Store: db, Clock: clock, Calendar: testkit.ExampleCalendar(tb), Logger: quietLogger()})
	testkit.LoadExampleOrg(tb, ctx, db)
	testkit.PublishExampleFlows(tb, ctx, engine)
	bot := bots.New(bots.Config{Engine: engine, Store: db, State: testkit.NewMemState(clock.Now), Dedupe: testkit.NewMemDedupe(), Logger: quietLogger()})
	b := setup(tb, setupOpts{mode: mode, handler: bot})
	n := notify.New(notify.Config{Store: db, Renderer: bot, Messengers: map[string]bots.Messenger{"dingtalk": b.adapter},
		Backoff: []time.Duration{10 * time.Millisecond}, Logger: quietLogger()})
	return &realBot{testBundle: b, engine: engine, bot: bot, n: n, ctx: ctx}
}

// drain sends everything the outbox holds.
func (r *realBot) drain(tb testing.TB) {
	tb.Helper()
	for {
		got, err := r.n.DrainOnce(r.ctx)
		require.NoError(tb, err)
		if got == 0 {
			return
		}
	}
}

// say delivers text from staff in a 1:1 chat over the Stream, drains the
// outbox and returns what the bot showed that user since.
func (r *realBot) say(tb testing.TB, staff, text string) []dingtalktest.Sent {
	tb.Helper()
	before := len(r.fake.Sent())
	ack, err := r.fake.Callback(r.app.Key, topicBot, "", r.fake.MessageData(r.app.Key, dingtalktest.Message{StaffID: staff, Text: text}))
	require.NoError(tb, err)
	require.Equal(tb, "SUCCESS", ack.Status())
	r.drain(tb)
	var out []dingtalktest.Sent
	for _, s := range r.fake.Sent()[before:] {
		if s.UserID == staff {
			out = append(out, s)
		}
	}
	require.NotEmpty(tb, out, "the bot answers %q", text)
	return out
}

// buttonSlot finds the slot of the card's button with action.
func buttonSlot(tb testing.TB, c dingtalktest.Card, action string) int {
	tb.Helper()
	for i := range 6 {
		if strings.Contains(c.Params["btn"+strconv.Itoa(i)], `"a":"`+action+`"`) {
			return i
		}
	}
	tb.Fatalf("card %s (%s) has no %q button", c.OutTrackID, c.Params["title"], action)
	return -1
}

// cardOf is the latest card shown to staff.
func (r *realBot) cardOf(tb testing.TB, staff string) dingtalktest.Card {
	tb.Helper()
	sent := r.fake.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].UserID == staff && sent[i].Card != "" {
			c, _ := r.fake.Card(sent[i].Card)
			return c
		}
	}
	tb.Fatalf("no card was shown to %s", staff)
	return dingtalktest.Card{}
}

// click clicks action on card as staff over the Stream and checks the
// answer carries an updated card.
func (r *realBot) click(tb testing.TB, staff string, c dingtalktest.Card, action string, inputs map[string]string) dingtalktest.ClickAnswer {
	tb.Helper()
	ack, ans, err := r.fake.ClickStream(r.app.Key, dingtalktest.Click{OutTrackID: c.OutTrackID, UserID: staff, Button: buttonSlot(tb, c, action), Inputs: inputs})
	require.NoError(tb, err)
	require.Equal(tb, 200, ack.Code)
	return ans
}

// TestExpenseStory: Han Meimei files an expense claim of ¥6,000 in a 1:1
// chat; Li Lei (manager) and Sun Li (finance) approve on their cards; she
// is told, and every copy of every card is updated.
func TestExpenseStory(t *testing.T) {
	t.Parallel()
	r := setupRealBot(t, "")
	r.say(t, staffHanMeimei, "/expense")
	r.say(t, staffHanMeimei, "6000")
	r.say(t, staffHanMeimei, "1")
	r.say(t, staffHanMeimei, "客户拜访差旅 client visit")
	summary := r.cardOf(t, staffHanMeimei)
	ans := r.click(t, staffHanMeimei, summary, "submit", nil)
	require.NotEmpty(t, ans.CardData.CardParamMap["toast"], "the submit is answered at once")
	r.drain(t)

	mgr := r.cardOf(t, staffLiLei)
	require.Contains(t, mgr.Params["fields"]+mgr.Params["markdown"]+mgr.Params["title"], "韩梅梅")
	ans = r.click(t, staffLiLei, mgr, "approve", map[string]string{"comment": "同意"})
	require.Equal(t, "false", ans.CardData.CardParamMap["btn0_show"], "the decided card has no buttons")
	r.drain(t)

	fin := r.cardOf(t, staffSunLi)
	require.NotEqual(t, mgr.OutTrackID, fin.OutTrackID)
	ans = r.click(t, staffSunLi, fin, "approve", nil)
	require.Equal(t, "green", ans.CardData.CardParamMap["color"])
	r.drain(t)

	// A second click on a decided card changes nothing and says so.
	fin, _ = r.fake.Card(fin.OutTrackID)
	require.Equal(t, "false", fin.Params["btn0_show"])

	told := false
	for _, s := range r.fake.Sent() {
		if s.UserID == staffHanMeimei && s.Text != "" && (strings.Contains(s.Text, "通过") || strings.Contains(s.Text, "同意") || strings.Contains(s.Text, "批准")) {
			told = true
		}
	}
	for _, c := range r.fake.Cards() {
		if c.OutTrackID == fin.OutTrackID || c.OutTrackID == mgr.OutTrackID {
			require.GreaterOrEqual(t, c.Updates, 1, "card %s (%s) updated", c.OutTrackID, c.Params["title"])
			require.Equal(t, "false", c.Params["btn0_show"], "card %s keeps no buttons", c.Params["title"])
		}
	}
	mgr, _ = r.fake.Card(mgr.OutTrackID)
	require.Equal(t, "green", mgr.Params["color"], "the manager's copy shows the final approval")
	require.True(t, told || summaryUpdated(r, summary.OutTrackID), "the applicant is told")
}

func summaryUpdated(r *realBot, track string) bool {
	c, _ := r.fake.Card(track)
	return c.Updates > 0 && c.Params["color"] == "green"
}

// TestDecidedTaskClickedAgain: a second click on a task already decided
// (a stale copy still showing the buttons) reaches the bot, which refuses
// it with a toast; nothing changes.
func TestDecidedTaskClickedAgain(t *testing.T) {
	t.Parallel()
	r := setupRealBot(t, "")
	out, err := r.engine.Submit(r.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "expense", Values: map[string]any{
		"amount": "300", "category": "office", "description": "键盘 keyboard",
	}})
	require.NoError(t, err)
	r.drain(t)
	mgr := r.cardOf(t, staffLiLei)
	stale := mgr.Params["btn"+strconv.Itoa(buttonSlot(t, mgr, "approve"))]
	r.click(t, staffLiLei, mgr, "approve", nil)
	r.drain(t)
	before, err := r.engine.View(r.ctx, out.Instance.ID)
	require.NoError(t, err)
	ack, ans, err := r.fake.ClickStream(r.app.Key, dingtalktest.Click{OutTrackID: mgr.OutTrackID, UserID: staffLiLei, Override: &stale})
	require.NoError(t, err)
	require.Equal(t, 200, ack.Code)
	require.NotEmpty(t, ans.CardData.CardParamMap["toast"], "the bot says the task is decided")
	require.Equal(t, "warning", ans.CardData.CardParamMap["toast_kind"])
	after, err := r.engine.View(r.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, before.Instance.Status, after.Instance.Status)
	require.Equal(t, len(before.Events), len(after.Events), "nothing changed")
}

func ptr[T any](v T) *T { return &v }

// TestUnknownSender: a staff id not in the directory gets the bot's
// answer (from bots' texts), through the outbox.
func TestUnknownSender(t *testing.T) {
	t.Parallel()
	r := setupRealBot(t, "")
	got := r.say(t, "stranger-01", "/expense")
	require.NotEmpty(t, got[0].Text)
}
