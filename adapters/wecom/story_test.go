package wecom_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// realBot is the adapter wired to the real bot, engine (SQLite, example
// company and flows) and notifier.
type realBot struct {
	*testBundle
	engine *flows.Engine
	bot    *bots.Bot
	n      *notify.Notifier
}

func setupRealBot(tb testing.TB, o setupOpts) *realBot {
	tb.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(tb)
	engine := flows.New(flows.Config{Store: db, Calendar: testkit.ExampleCalendar(tb), Logger: quietLogger()})
	testkit.LoadExampleOrg(tb, ctx, db)
	testkit.PublishExampleFlows(tb, ctx, engine)
	bot := bots.New(bots.Config{Engine: engine, Store: db, State: testkit.NewMemState(nil), Dedupe: testkit.NewMemDedupe(), Logger: quietLogger()})
	o.handler = bot
	b := setup(tb, o)
	n := notify.New(notify.Config{Store: db, Renderer: bot, Messengers: map[string]bots.Messenger{wecom.Platform: b.adapter},
		Backoff: []time.Duration{10 * time.Millisecond}, Logger: quietLogger()})
	return &realBot{testBundle: b, engine: engine, bot: bot, n: n}
}

// drain sends every due outbox message.
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

// say sends text as user, lets the notifier send the bot's reply and
// returns the messages the user got.
func (r *realBot) say(t testing.TB, user, text string) []wecomtest.Message {
	t.Helper()
	before := len(r.fake.MessagesTo(user))
	resp, err := r.fake.SendText(r.ctx, r.app.CorpID, r.app.AgentID, user, text)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Empty(t, resp.Body, "a callback is answered with an empty 200")
	r.drain(t)
	got := r.fake.MessagesTo(user)[before:]
	require.NotEmpty(t, got, "an answer to %q", text)
	return got
}

func lastText(ms []wecomtest.Message) string {
	m := ms[len(ms)-1]
	if m.Card != nil {
		return wecomtest.CardText(m.Card)
	}
	return m.Text
}

// TestOnboardingStory: the admin files an onboarding in the WeCom chat;
// IT, HR and the office approve in parallel on their cards; every copy of
// every card is updated and the applicant is told.
func TestOnboardingStory(t *testing.T) {
	t.Parallel()
	r := setupRealBot(t, setupOpts{})
	const applicant = "WangZong"
	ask := r.say(t, applicant, "入职")
	require.Contains(t, lastText(ask), "新员工")
	lastText(r.say(t, applicant, "新同事"))
	lastText(r.say(t, applicant, "2026-12-07"))
	lastText(r.say(t, applicant, "1"))
	got := r.say(t, applicant, "lilei")
	for i := 0; i < 2 && got[len(got)-1].Card == nil; i++ {
		got = r.say(t, applicant, "是")
	}
	summary := got[len(got)-1]
	require.NotNil(t, summary.Card, "a summary card; got %q", lastText(got))
	submit := keyOf(t, summary.Card, buttonText(t, summary.Card, "submit"))
	resp, err := r.fake.Click(r.ctx, r.app.CorpID, r.app.AgentID, applicant, summary.TaskID, submit)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	r.drain(t)

	// IT, HR and the office each get a task card.
	approvers := []string{"WuQiang", "ChenJing", "ZhouFang"}
	cards := map[string]wecomtest.Message{}
	for _, u := range approvers {
		for _, m := range r.fake.MessagesTo(u) {
			if m.Card != nil && len(wecomtest.Buttons(m.Card)) > 0 {
				cards[u] = m
			}
		}
		require.Contains(t, cards, u, "%s has a task card", u)
		require.Contains(t, wecomtest.CardText(cards[u].Card), "新同事")
	}
	// They approve at the same time.
	var wg sync.WaitGroup
	for _, u := range approvers {
		m := cards[u]
		key := keyOf(t, m.Card, buttonText(t, m.Card, "approve"))
		wg.Go(func() {
			resp, err := r.fake.Click(r.ctx, r.app.CorpID, r.app.AgentID, u, m.TaskID, key)
			if err == nil && resp.Status != http.StatusOK {
				t.Errorf("click of %s: %d %s", u, resp.Status, resp.Body)
			}
		})
	}
	wg.Wait()
	r.drain(t)
	// Every copy of every card is updated: no card with buttons is left,
	// and the applicant is told.
	defer func() {
		if t.Failed() {
			for _, m := range r.fake.Messages() {
				t.Logf("%s updates=%d task=%s %s %s", m.ToUser, m.Updates, m.TaskID, m.Text, wecomtest.CardText(m.Card))
			}
		}
	}()
	waitFor(t, 5*time.Second, "every card updated", func() bool {
		for _, m := range r.fake.Messages() {
			if m.Card != nil && len(wecomtest.Buttons(m.Card)) > 0 {
				return false
			}
		}
		return true
	})
	for _, c := range append([]wecomtest.Message{summary}, cards["WuQiang"], cards["ChenJing"], cards["ZhouFang"]) {
		m, ok := r.fake.Task(r.app.CorpID, r.app.AgentID, c.TaskID)
		require.True(t, ok)
		require.GreaterOrEqual(t, m.Updates, 1, "the card of %s was updated", c.ToUser)
	}
	told := false
	for _, m := range r.fake.MessagesTo(applicant) {
		if m.TaskID != summary.TaskID && strings.Contains(lastText([]wecomtest.Message{m}), "通过") {
			told = true
		}
	}
	require.True(t, told, "the applicant is told")
}

// buttonText is the text of the button whose key has action.
func buttonText(t testing.TB, card map[string]any, action string) string {
	t.Helper()
	for _, b := range wecomtest.Buttons(card) {
		if strings.Contains(b.Key, "_a="+action+"&") || strings.HasSuffix(b.Key, "_a="+action) {
			return b.Text
		}
	}
	t.Fatalf("no %s button in %s", action, wecomtest.CardText(card))
	return ""
}
