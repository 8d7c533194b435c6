package bots_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// A late redelivery of an event that already started, advanced or ended a
// conversation, while the dedupe store is down (the bot fails open),
// changes nothing: the conversation records the ids of the events that
// changed it, in the same write as its state. Before, the redelivered
// "/leave" restarted the conversation and the applicant's Submit then got
// "this card is out of date" (the lost submits of the chaos run with Redis
// restarts).
func TestConversationEventRedeliveredWithDedupeDown(t *testing.T) {
	t.Parallel()
	type lang struct {
		user, start, period, skip, submit, reason, q2, q3, stale, summary string
	}
	zh := lang{user: "dev1", start: "请假", period: "2026-12-01~2026-12-03", skip: "跳过", submit: "提交", reason: "家事",
		q2: "第 2/3 项", q3: "第 3/3 项", stale: "确认卡已过期", summary: "请确认：请假"}
	en := lang{user: "dev2", start: "/leave", period: "2026-12-01~2026-12-03", skip: "skip", submit: "submit", reason: "family",
		q2: "question 2 of 3", q3: "question 3 of 3", stale: "out of date", summary: "Please confirm: Leave"}

	// convo walks a conversation, keeping every event so that a test can
	// deliver any of them again.
	type convo struct {
		b   *bundle
		bot *bots.Bot
		l   lang
		evs map[string]bots.Event
	}
	handle := func(t *testing.T, c *convo, ev bots.Event) bots.Reply {
		t.Helper()
		rep, err := c.bot.Handle(c.b.ctx, ev)
		require.NoError(t, err)
		return rep
	}
	say := func(t *testing.T, c *convo, name, text string) bots.Reply {
		t.Helper()
		ev := c.b.msg(c.l.user, text)
		c.evs[name] = ev
		return handle(t, c, ev)
	}
	again := func(t *testing.T, c *convo, name string) bots.Reply {
		t.Helper()
		rep := handle(t, c, c.evs[name])
		require.Equal(t, bots.OutcomeDuplicate, rep.Outcome, "%s delivered again is a duplicate: %q", name, text(rep))
		require.Empty(t, rep.Messages, "%s delivered again sends nothing more", name)
		require.Empty(t, rep.Toast)
		return rep
	}
	clickEv := func(c *convo, btn bots.Button) bots.Event {
		return bots.Event{Platform: "web", ID: c.b.msg(c.l.user, "").ID, UserID: c.l.user, ChatID: c.l.user,
			Action: &bots.Action{Name: btn.Action, Value: btn.Value}}
	}
	filed := func(t *testing.T, c *convo) []*flows.Instance {
		t.Helper()
		mine, err := c.b.db.Instances(c.b.ctx, flows.InstanceFilter{Applicant: c.l.user})
		require.NoError(t, err)
		return mine
	}
	// toSummary starts and answers the three questions: the summary card.
	toSummary := func(t *testing.T, c *convo) *bots.Card {
		t.Helper()
		say(t, c, "start", c.l.start)
		require.Contains(t, text(say(t, c, "type", "1")), c.l.q2)
		require.Contains(t, text(say(t, c, "period", c.l.period)), c.l.q3)
		card := lastCard(t, say(t, c, "reason", c.l.reason))
		require.Equal(t, c.l.summary, card.Title)
		return card
	}
	submitClick := func(t *testing.T, c *convo, card *bots.Card) bots.Reply {
		t.Helper()
		ev := clickEv(c, button(t, card, "submit"))
		c.evs["click"] = ev
		return handle(t, c, ev)
	}

	cases := []struct {
		name string
		run  func(t *testing.T, c *convo)
	}{
		{"start again mid-conversation does not restart it", func(t *testing.T, c *convo) {
			say(t, c, "start", c.l.start)
			say(t, c, "type", "1")
			again(t, c, "start")
			require.Contains(t, text(say(t, c, "period", c.l.period)), c.l.q3, "still at question 2 when answered")
			card := lastCard(t, say(t, c, "reason", c.l.reason))
			again(t, c, "start") // and once more, at the summary
			rep := submitClick(t, c, card)
			require.NotEqual(t, bots.ToastWarning, rep.ToastKind, rep.Toast)
			require.Len(t, filed(t, c), 1, "the later Submit files the request")
		}},
		{"start again at the summary, then submit by text", func(t *testing.T, c *convo) {
			toSummary(t, c)
			again(t, c, "start")
			rep := say(t, c, "submit", c.l.submit)
			require.Contains(t, text(rep), "LEAVE-", "filed: %q", text(rep))
			require.Len(t, filed(t, c), 1)
			again(t, c, "start") // after the filing: no new conversation
			again(t, c, "submit")
			require.Len(t, filed(t, c), 1)
		}},
		{"an answer again does not answer the next question", func(t *testing.T, c *convo) {
			say(t, c, "start", c.l.start)
			say(t, c, "type", "1")
			require.Contains(t, text(say(t, c, "period", c.l.period)), c.l.q3)
			again(t, c, "period") // would be taken as the reason
			again(t, c, "type")
			card := lastCard(t, say(t, c, "reason", c.l.reason))
			require.Contains(t, cardText(card), c.l.reason)
			submitClick(t, c, card)
			mine := filed(t, c)
			require.Len(t, mine, 1)
			var form map[string]any
			require.NoError(t, json.Unmarshal(mine[0].Form, &form))
			require.Equal(t, c.l.reason, form["reason"])
		}},
		{"the submit click again files once and answers as a duplicate", func(t *testing.T, c *convo) {
			card := toSummary(t, c)
			rep := submitClick(t, c, card)
			require.Contains(t, rep.Toast, "LEAVE-")
			rep, err := c.bot.Handle(c.b.ctx, c.evs["click"])
			require.NoError(t, err)
			require.Equal(t, bots.OutcomeDuplicate, rep.Outcome)
			require.Empty(t, rep.Toast)
			require.Len(t, filed(t, c), 1)
			// A new click (new id) on the same card is still refused as before.
			rep = handle(t, c, clickEv(c, button(t, card, "submit")))
			require.Contains(t, rep.Toast, c.l.stale)
			require.Len(t, filed(t, c), 1)
		}},
		{"a typed submit again, after the next conversation started, shows nothing", func(t *testing.T, c *convo) {
			// The chaos run's doubled summary card: the next conversation
			// carries the submit's id, and the submit again was answered
			// with that conversation's summary card, a second copy of it.
			toSummary(t, c)
			require.Contains(t, text(say(t, c, "submit", c.l.submit)), "LEAVE-")
			card := toSummary(t, c)
			again(t, c, "submit")
			again(t, c, "start") // the first conversation's start, carried too
			submitClick(t, c, card)
			require.Len(t, filed(t, c), 2, "the second conversation files its own request")
		}},
		{"a cancel again does not end a newer conversation", func(t *testing.T, c *convo) {
			say(t, c, "start", c.l.start)
			say(t, c, "cancel", "cancel")
			card := toSummary(t, c)
			again(t, c, "cancel")
			submitClick(t, c, card)
			require.Len(t, filed(t, c), 1)
		}},
		{"a new start (new id) still restarts the conversation", func(t *testing.T, c *convo) {
			old := toSummary(t, c)
			rep := say(t, c, "restart", c.l.start)
			require.NotEqual(t, bots.OutcomeDuplicate, rep.Outcome)
			require.NotContains(t, text(rep), c.l.q2, "asked from the first question")
			require.Contains(t, text(say(t, c, "type2", "1")), c.l.q2)
			rep = handle(t, c, clickEv(c, button(t, old, "submit")))
			require.Contains(t, rep.Toast, c.l.stale, "the older card is out of date")
			require.Empty(t, filed(t, c))
			again(t, c, "start") // the first start again changes nothing either
			require.Contains(t, text(say(t, c, "period2", c.l.period)), c.l.q3)
			card := lastCard(t, say(t, c, "reason2", c.l.skip))
			submitClick(t, c, card)
			require.Len(t, filed(t, c), 1)
		}},
	}
	for _, tc := range cases {
		for _, l := range []lang{zh, en} {
			t.Run(tc.name+"/"+l.user, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				bot := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.db.StateStore(), Dedupe: downDedupe{}, AdminContact: admin})
				tc.run(t, &convo{b: b, bot: bot, l: l, evs: map[string]bots.Event{}})
			})
		}
	}
}

// The "amend" click of a returned request, delivered again with the
// dedupe store down after the applicant changed a field, does not start
// amending over (which dropped the change): the resubmission carries it.
func TestAmendClickRedeliveredWithDedupeDown(t *testing.T) {
	t.Parallel()
	b, out := setupTrip(t, "dev1")
	bot := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.db.StateStore(), Dedupe: downDedupe{}, AdminContact: admin})
	handle := func(ev bots.Event) bots.Reply {
		t.Helper()
		rep, err := bot.Handle(b.ctx, ev)
		require.NoError(t, err)
		return rep
	}
	btn := button(t, returnedMessage(t, b, out, "dev1"), "amend")
	amend := bots.Event{Platform: "web", ID: "amend-1", UserID: "dev1", ChatID: "dev1", Action: &bots.Action{Name: btn.Action, Value: btn.Value}}
	require.Equal(t, "请修改后重新提交", handle(amend).Toast)
	sum := lastCard(t, handle(b.msg("dev1", "天数=7")))
	require.Contains(t, sum.Fields, bots.Field{Label: "天数", Value: "7"})

	rep := handle(amend) // delivered again
	require.Equal(t, bots.OutcomeDuplicate, rep.Outcome)
	require.Empty(t, rep.Toast)
	require.Empty(t, rep.Messages)

	rc := lastCard(t, handle(b.msg("dev1", "确认")))
	require.Contains(t, cardText(rc), "已重新提交 TRIP-20261126-0001")
	require.Contains(t, cardText(rc), "天数: 7", "the change made before the redelivery is resubmitted")
}

// flowsDown is a store whose flow definitions cannot be read while down
// is set, as when PostgreSQL restarts under a replica whose definition
// cache is empty.
type flowsDown struct {
	flows.Store
	down *atomic.Bool
}

func (s flowsDown) Flow(ctx context.Context, id string, version int) (*flows.FlowVersion, error) {
	if s.down.Load() {
		return nil, errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	}
	return s.Store.Flow(ctx, id, version)
}

// A typed "submit" whose flow definition cannot be read (the database is
// restarting) fails and keeps the conversation: the platform's
// redelivery of the same event files the request. Before, the
// conversation was ended with the event recorded in it, and the
// redelivery was dropped as a duplicate: the chaos run's lost typed
// submits.
func TestTypedSubmitSurvivesDatabaseRestart(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ user, submit, filed string }{
		{"dev1", "提交", "已提交"},
		{"dev2", "submit", "submitted"},
	} {
		t.Run(tt.user, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.say(t, tt.user, "/leave type=annual period=2026-12-01~2026-12-03 reason=family")
			var down atomic.Bool
			down.Store(true)
			// Another replica (its definition cache empty) gets the submit.
			other := bots.New(bots.Config{
				Engine: flows.New(flows.Config{Store: flowsDown{b.db, &down}, Clock: b.clock}),
				Store:  b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin,
			})
			ev := b.msg(tt.user, tt.submit)
			_, err := other.Handle(b.ctx, ev)
			require.Error(t, err, "the event must fail so that the platform delivers it again")
			mine, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: tt.user})
			require.NoError(t, err)
			require.Empty(t, mine, "nothing is filed while the database is down")

			down.Store(false)
			rep, err := other.Handle(b.ctx, ev) // the platform's redelivery
			require.NoError(t, err)
			require.NotEqual(t, bots.OutcomeDuplicate, rep.Outcome, "the redelivery was dropped: %q", text(rep))
			require.Contains(t, strings.ToLower(text(rep)), tt.filed)
			mine, err = b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: tt.user})
			require.NoError(t, err)
			require.Len(t, mine, 1, "the redelivered submit files the request once")
		})
	}
}

// writesDown is a store that refuses every write while down is set.
type writesDown struct {
	flows.Store
	down *atomic.Bool
}

func (s writesDown) Update(ctx context.Context, fn func(tx flows.Tx) error) error {
	if s.down.Load() {
		return errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	}
	return s.Store.Update(ctx, fn)
}

// A message that started a conversation but whose summary card could not
// be made durable (the database went down between the two) fails; its
// redelivery, on a replica that cannot read the flow either, fails too
// instead of being answered as a duplicate with nothing; once the
// database answers, the redelivery gets the summary card, once. Before,
// the second delivery was acknowledged with an empty answer and the card
// never arrived.
func TestSummaryCardSurvivesDatabaseRestart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var writes, reads atomic.Bool
	writes.Store(true)
	reads.Store(true)
	first := bots.New(bots.Config{Engine: b.engine, Store: writesDown{b.db, &writes}, State: b.state,
		Dedupe: testkit.NewMemDedupe(), AdminContact: admin})
	other := bots.New(bots.Config{
		Engine: flows.New(flows.Config{Store: flowsDown{b.db, &reads}, Clock: b.clock}),
		Store:  b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin,
	})
	ev := b.msg("dev1", "/leave type=annual period=2026-12-01~2026-12-03 reason=family")
	_, err := first.Handle(b.ctx, ev)
	require.Error(t, err, "a summary card that is not durable fails the event")

	_, err = other.Handle(b.ctx, ev)
	require.Error(t, err, "a redelivery that cannot show the step must fail, not be acknowledged with nothing")

	reads.Store(false)
	rep, err := other.Handle(b.ctx, ev)
	require.NoError(t, err)
	card := lastCard(t, rep)
	require.Equal(t, "请确认：请假", card.Title)
	queued := func() int {
		pending, err := b.db.Outbox(b.ctx, flows.OutboxPending, 100)
		require.NoError(t, err)
		n := 0
		for _, m := range pending {
			if m.Kind == flows.MsgReply && m.Recipient == "dev1" {
				n++
			}
		}
		return n
	}
	require.Equal(t, 1, queued(), "the summary card is queued once")

	rep, err = other.Handle(b.ctx, ev) // and once more: nothing new
	require.NoError(t, err)
	require.Equal(t, 1, queued(), "a later redelivery queues no second card: %q", text(rep))
}

// pausedWrites is a state store whose writes wait, once armed, until
// released: a handler slowed by a restarting store, or in a frozen
// process, that wakes up after the chat moved on.
type pausedWrites struct {
	bots.StateStore
	entered, release chan struct{}
}

func (s pausedWrites) pause(key string) {
	if strings.HasPrefix(key, "conv:") {
		s.entered <- struct{}{}
		<-s.release
	}
}

func (s pausedWrites) Swap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error) {
	s.pause(key)
	return s.StateStore.Swap(ctx, key, old, val, ttl)
}

func (s pausedWrites) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	s.pause(key)
	return s.StateStore.Set(ctx, key, val, ttl)
}

// A handler that read the chat's conversation and writes it late, after
// the applicant filed that request and started the next one, overwrites
// nothing: its event fails (the platform delivers it again), and the
// applicant's current summary card still files. Before, the late write
// put the old conversation back: the next Submit click was "out of date"
// and a typed submit answered "already submitted" (the chaos runs' lost
// submits around a freeze or a Redis restart).
func TestLateConversationWriteOverwritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slowState := pausedWrites{StateStore: b.state, entered: make(chan struct{}), release: make(chan struct{})}
	slow := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: slowState, Dedupe: testkit.NewMemDedupe(), AdminContact: admin})

	b.say(t, "dev1", "/leave type=annual period=2026-12-01~2026-12-03 reason=first")
	late := make(chan error, 1)
	go func() {
		_, err := slow.Handle(b.ctx, b.msg("dev1", "/leave type=annual period=2026-12-07~2026-12-08 reason=stale"))
		late <- err
	}()
	<-slowState.entered // read the first conversation, about to replace it

	require.Contains(t, text(b.say(t, "dev1", "提交")), "已提交")
	card := lastCard(t, b.say(t, "dev1", "/leave type=annual period=2026-12-14~2026-12-15 reason=current"))
	close(slowState.release)
	require.Error(t, <-late, "the late write must fail, not replace the current conversation")

	rep := b.click(t, "dev1", button(t, card, "submit"), nil)
	require.Contains(t, rep.Toast, "已提交", "the current summary card files: %q", text(rep))
	mine, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	require.Len(t, mine, 2)
	var reasons []string
	for _, in := range mine {
		reasons = append(reasons, string(in.Form))
	}
	require.Contains(t, strings.Join(reasons, " "), "current")
	require.NotContains(t, strings.Join(reasons, " "), "stale")
}

// heldUnknown is a Deduper that finds every event held by an earlier
// attempt whose outcome it cannot read (Redis answering again after a
// restart, the failed attempt's hold still there) until known is set.
type heldUnknown struct {
	*testkit.MemDedupe
	known *atomic.Bool
}

func (d heldUnknown) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if !d.known.Load() {
		return false, nil
	}
	return d.MemDedupe.FirstSeen(ctx, key, ttl)
}

func (d heldUnknown) Done(context.Context, string) (bool, error) {
	if !d.known.Load() {
		return false, errors.New("LOADING Redis is loading the dataset in memory")
	}
	return false, nil
}

func (heldUnknown) Confirm(context.Context, string, time.Duration) error { return nil }

// An event held by an attempt whose outcome cannot be read is asked for
// again, not dropped as a duplicate: the attempt may have failed, and the
// redelivery is then the only copy. Before, it was acknowledged with
// nothing and its summary card never came (the chaos runs' lost cards
// after a Redis restart).
func TestEventHeldWithUnknownOutcomeIsAskedForAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var known atomic.Bool
	bot := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state,
		Dedupe: heldUnknown{testkit.NewMemDedupe(), &known}, AdminContact: admin})
	ev := b.msg("dev1", "/leave type=annual period=2026-12-01~2026-12-03 reason=family")
	_, err := bot.Handle(b.ctx, ev)
	require.ErrorIs(t, err, bots.ErrInFlight, "an event whose earlier attempt is of unknown outcome must be delivered again")

	known.Store(true)
	rep, err := bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.Equal(t, "请确认：请假", lastCard(t, rep).Title, "the redelivery gets the summary card")
}

// flakyRead is a state store whose next read fails once armed (Redis
// answering again, but not every call yet).
type flakyRead struct {
	bots.StateStore
	fail *atomic.Bool
}

func (s flakyRead) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if s.fail.CompareAndSwap(true, false) {
		return nil, false, errors.New("redis: get state: i/o timeout")
	}
	return s.StateStore.Get(ctx, key)
}

// A late redelivery of the event that started the previous conversation,
// while the dedupe store is down and the duplicate check cannot read the
// chat's record, does not start that conversation over in place of the
// open one: the record it would replace lists it. Before, it replaced the
// open conversation, and the applicant's Submit was "out of date" (the
// chaos runs' lost submits right after a Redis restart).
func TestLateRedeliveryDoesNotReplaceTheOpenConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.msg("dev1", "/leave type=annual period=2026-12-01~2026-12-03 reason=first")
	_, err := b.bot.Handle(b.ctx, first)
	require.NoError(t, err)
	require.Contains(t, text(b.say(t, "dev1", "提交")), "已提交")
	card := lastCard(t, b.say(t, "dev1", "/leave type=annual period=2026-12-14~2026-12-15 reason=second"))

	var fail atomic.Bool
	fail.Store(true)
	flaky := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: flakyRead{b.state, &fail}, Dedupe: downDedupe{}, AdminContact: admin})
	rep, err := flaky.Handle(b.ctx, first) // the late redelivery
	require.Error(t, err, "a redelivery that would replace the open conversation must fail: %q", text(rep))

	rep = b.click(t, "dev1", button(t, card, "submit"), nil)
	require.Contains(t, rep.Toast, "已提交", "the open conversation's card still files: %q", text(rep))
	mine, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	require.Len(t, mine, 2)
}

// countedReads is a state store that counts the reads of conversation
// records.
type countedReads struct {
	bots.StateStore
	n *atomic.Int64
}

func (s countedReads) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if strings.HasPrefix(key, "conv:") {
		s.n.Add(1)
	}
	return s.StateStore.Get(ctx, key)
}

// Each event reads its chat's conversation record once: the duplicate
// check, the conversation's load and a new conversation's carried events
// share the read (every write still swaps exactly what was read). Before,
// a filing and a Submit click each read it twice, a read of the store per
// event that the whole-product profile showed.
func TestEachEventReadsItsConversationOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var n atomic.Int64
	bot := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: countedReads{b.state, &n}, Dedupe: testkit.NewMemDedupe(), AdminContact: admin})
	handle := func(ev bots.Event) bots.Reply {
		t.Helper()
		n.Store(0)
		rep, err := bot.Handle(b.ctx, ev)
		require.NoError(t, err)
		require.LessOrEqual(t, n.Load(), int64(1), "conversation reads for one event: %q", text(rep))
		return rep
	}
	card := lastCard(t, handle(b.msg("dev1", "/leave type=annual period=2026-12-01~2026-12-03 reason=family")))
	require.Equal(t, "请确认：请假", card.Title)
	handle(b.msg("dev1", "/leave type=annual period=2026-12-07~2026-12-08 reason=second")) // replaces the first
	btn := button(t, lastCard(t, handle(b.msg("dev1", "/leave type=annual period=2026-12-14~2026-12-15 reason=third"))), "submit")
	rep := handle(bots.Event{Platform: "web", ID: b.msg("dev1", "").ID, UserID: "dev1", ChatID: "dev1",
		Action: &bots.Action{Name: btn.Action, Value: btn.Value}})
	require.Contains(t, rep.Toast, "已提交", "the latest summary card files: %q", text(rep))
	mine, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	require.Contains(t, string(mine[0].Form), "third")
}

// Event ids that JSON writes escaped (as in the conversation record) are
// still found there: their redelivery, with the dedupe store down, is a
// duplicate.
func TestRedeliveredEventWithAnEscapedID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{`plain-1`, `a<b>&"c"`, "tab\there", `back\slash`, "中文\u2028"} {
		b := setup(t)
		bot := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: downDedupe{}, AdminContact: admin})
		ev := b.msg("dev1", "/leave")
		ev.ID = id
		rep, err := bot.Handle(b.ctx, ev)
		require.NoError(t, err)
		require.Contains(t, text(rep), "第 1/3 项", id)
		rep, err = bot.Handle(b.ctx, ev)
		require.NoError(t, err)
		require.Equal(t, bots.OutcomeDuplicate, rep.Outcome, "%q delivered again", id)
	}
}
