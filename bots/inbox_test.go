package bots_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// inboxBundle is a bot with the SQLite deduper (two phases, as in
// production) and the SQLite inbox.
type inboxBundle struct {
	*bundle
	inbox bots.Inbox
	bot   *bots.Bot
	task  *flows.Task
}

func setupInbox(t *testing.T) *inboxBundle {
	t.Helper()
	b := setup(t)
	ib := &inboxBundle{bundle: b, inbox: b.db.Inbox()}
	ib.bot = ib.replica(time.Second)
	ib.task = pendingTask(t, b.submit(t, "dev1", 2), "cto")
	return ib
}

// replica is a bot sharing the bundle's database, deduper and inbox, as a
// second process would.
func (b *inboxBundle) replica(hold time.Duration) *bots.Bot {
	return bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: b.db.Deduper(), Inbox: b.inbox, ProcessingTTL: hold})
}

// approveClick is the approver's click on the task card, as Feishu
// delivers it.
func (b *inboxBundle) approveClick(id string) bots.Event {
	btn := taskButton("approve", b.task)
	return bots.Event{Platform: "web", ID: id, UserID: "cto", ChatID: "cto", ChatType: "p2p",
		Action: &bots.Action{Name: btn.Action, Value: btn.Value, Inputs: map[string]string{"comment": "ok"}}}
}

// approvals counts the approvals recorded for the task's request.
func (b *inboxBundle) approvals(t *testing.T) int {
	t.Helper()
	evs, err := b.db.Events(b.ctx, flows.EventFilter{InstanceID: b.task.InstanceID, Types: []flows.EventType{flows.EvApproved}})
	require.NoError(t, err)
	return len(evs)
}

// kept lists the keys the inbox still holds (claiming them far ahead).
func (b *inboxBundle) kept(t *testing.T) []string {
	t.Helper()
	far := time.Now().Add(time.Hour)
	got, err := b.inbox.Claim(b.ctx, far, far, 1000)
	require.NoError(t, err)
	var keys []string
	for _, e := range got {
		keys = append(keys, e.Key)
	}
	return keys
}

var farAhead = time.Now().Add(24 * time.Hour)

// A click acknowledged and kept, whose process died before its handler
// ran (or committed), is handled by the replay: the approval happens.
func TestReplayHandlesAClickCutOffByACrash(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	ev := b.approveClick("ev-crash")
	require.NoError(t, b.bot.Keep(b.ctx, ev))
	require.Equal(t, 0, b.approvals(t))

	early, err := b.bot.ReplayInbox(b.ctx, time.Now())
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{}, early, "a kept event is not replayed before its hold ended: its handler may still run")

	rep, err := b.bot.ReplayInbox(b.ctx, farAhead)
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{Handled: 1}, rep)
	require.Equal(t, 1, b.approvals(t), "got %d approvals, want the replayed click's one", b.approvals(t))
	require.Empty(t, b.kept(t), "a replayed event leaves the inbox")

	// The platform will not deliver it again, but if it did, it is a
	// duplicate.
	r, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.Equal(t, bots.OutcomeDuplicate, r.Outcome)
	require.Equal(t, 1, b.approvals(t))
}

// A click whose handler finished but whose process died before Done is
// replayed and dropped by the deduper: exactly one approval.
func TestReplayDropsAClickHandledBeforeTheCrash(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	ev := b.approveClick("ev-handled")
	require.NoError(t, b.bot.Keep(b.ctx, ev))
	_, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.Equal(t, 1, b.approvals(t))

	rep, err := b.bot.ReplayInbox(b.ctx, farAhead)
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{Duplicates: 1}, rep)
	require.Equal(t, 1, b.approvals(t), "got %d approvals, want 1: the replay must not decide twice", b.approvals(t))
	require.Empty(t, b.kept(t))
}

// Done removes the kept event: nothing is replayed.
func TestDoneClickIsNotReplayed(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	ev := b.approveClick("ev-done")
	require.NoError(t, b.bot.Keep(b.ctx, ev))
	_, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.NoError(t, b.bot.Done(b.ctx, ev))
	rep, err := b.bot.ReplayInbox(b.ctx, farAhead)
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{}, rep)
	require.Equal(t, 1, b.approvals(t))
}

// An event still held by a live handler elsewhere is left in the inbox
// and replayed once the hold is over.
func TestReplayLeavesAnEventInFlight(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	ev := b.approveClick("ev-inflight")
	require.NoError(t, b.bot.Keep(b.ctx, ev))
	// Another replica holds the id: its handler runs.
	first, err := b.db.Deduper().FirstSeen(b.ctx, "web:ev-inflight", time.Hour)
	require.NoError(t, err)
	require.True(t, first)

	rep, err := b.bot.ReplayInbox(b.ctx, farAhead)
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{InFlight: 1}, rep)
	require.Equal(t, 0, b.approvals(t))
	require.Equal(t, []string{"web:ev-inflight"}, b.kept(t), "an event in flight stays kept")

	// The holder died: its hold is released (as a restart does).
	require.NoError(t, b.db.Deduper().(bots.DedupeForgetter).Forget(b.ctx, "web:ev-inflight"))
	rep, err = b.bot.ReplayInbox(b.ctx, farAhead.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{Handled: 1}, rep)
	require.Equal(t, 1, b.approvals(t))
}

// Two replicas replaying the same inbox at once handle each event once.
func TestConcurrentReplaysHandleOnce(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	// Kept by a replica that died, due now.
	raw, err := json.Marshal(b.approveClick("ev-race"))
	require.NoError(t, err)
	require.NoError(t, b.inbox.Keep(b.ctx, "web:ev-race", raw, time.Now()))
	bots2 := []*bots.Bot{b.bot, b.replica(time.Second), b.replica(time.Second)}
	reps := make([]bots.InboxReport, len(bots2))
	var wg sync.WaitGroup
	for i, x := range bots2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := x.ReplayInbox(b.ctx, time.Now())
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
			reps[i] = r
		}()
	}
	wg.Wait()
	handled := 0
	for _, r := range reps {
		handled += r.Handled + r.Duplicates + r.InFlight
	}
	require.Equal(t, 1, handled, "got reports %+v: the event must be claimed by one replica", reps)
	require.Equal(t, 1, b.approvals(t))
}

// Bad entries change nothing, never panic, and are dropped: an
// undecodable event, an event kept under another key, an event without
// id.
func TestReplayDropsBadEntries(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	good, err := json.Marshal(b.approveClick("ev-other"))
	require.NoError(t, err)
	cases := map[string][]byte{
		"web:garbage": []byte("{not json"),
		"web:wrong":   good, // the event is web:ev-other
		"web:noid":    []byte(`{"Platform":"web","UserID":"cto"}`),
		"web:array":   []byte(`[1,2]`),
	}
	for k, v := range cases {
		require.NoError(t, b.inbox.Keep(b.ctx, k, v, time.Now()))
	}
	rep, err := b.bot.ReplayInbox(b.ctx, farAhead)
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{Abandoned: len(cases)}, rep)
	require.Equal(t, 0, b.approvals(t), "a bad entry decides nothing")
	require.Empty(t, b.kept(t))
}

// An event without id cannot be kept: the adapter then answers "try
// again" instead of "processing".
func TestKeepRefusesAnEventWithoutID(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	err := b.bot.Keep(b.ctx, b.approveClick(""))
	require.ErrorIs(t, err, bots.ErrNoEventID)
	require.Empty(t, b.kept(t))
}

// An event with a file cannot be kept (how to read the file again is no
// data): Keep refuses it with an error and keeps nothing, and a kept entry
// naming a file (the fuzzer's find) decodes to an error, not to an event
// that could not be encoded again.
func TestKeepRefusesAnEventWithAFile(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	ev := b.approveClick("f1")
	ev.File = &bots.InFile{Name: "invoice.pdf"}
	require.Error(t, b.bot.Keep(b.ctx, ev))
	require.Empty(t, b.kept(t))
	_, err := bots.DecodeInboxEvent("web:f1", []byte(`{"Platform":"web","ID":"f1","File":{}}`))
	require.Error(t, err)
}

// A replay that keeps failing is retried, then dropped after
// InboxMaxAttempts with an error in the log.
func TestReplayGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	b := setupInbox(t)
	stuck := bots.New(bots.Config{Engine: b.engine, Store: stuckStore{b.db}, State: b.state, Dedupe: b.db.Deduper(), Inbox: b.inbox, ProcessingTTL: 30 * time.Millisecond})
	require.NoError(t, stuck.Keep(b.ctx, b.approveClick("ev-fails")))
	due := farAhead
	for i := 1; i < bots.InboxMaxAttempts; i++ {
		rep, err := stuck.ReplayInbox(b.ctx, due)
		require.NoError(t, err)
		require.Equalf(t, bots.InboxReport{Failed: 1}, rep, "attempt %d", i)
		due = due.Add(time.Hour)
	}
	rep, err := stuck.ReplayInbox(b.ctx, due)
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{Abandoned: 1}, rep)
	require.Empty(t, b.kept(t))
}

// Without an inbox, Keep and Done do nothing and ReplayInbox has nothing.
func TestNoInboxKeepsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ev := b.msg("dev1", "/help")
	require.NoError(t, b.bot.Keep(context.Background(), ev))
	require.NoError(t, b.bot.Done(context.Background(), ev))
	rep, err := b.bot.ReplayInbox(context.Background(), farAhead)
	require.NoError(t, err)
	require.Equal(t, bots.InboxReport{}, rep)
}

// A kept event decodes back to itself; any bytes under any key decode to
// an event of that key or an error, never a panic.
func FuzzDecodeInboxEvent(f *testing.F) {
	good, _ := json.Marshal(bots.Event{Platform: "feishu", ID: "e1", UserID: "ou_1",
		Action: &bots.Action{Name: "approve", Value: map[string]string{"task": "1"}}})
	f.Add("feishu:e1", good)
	f.Add("feishu:e2", good)
	f.Add("x", []byte(`{"Platform":"x","ID":""}`))
	f.Add("", []byte("null"))
	f.Fuzz(func(t *testing.T, key string, raw []byte) {
		ev, err := bots.DecodeInboxEvent(key, raw)
		if err != nil {
			return
		}
		if ev.Platform+":"+ev.ID != key || ev.ID == "" || ev.Platform == "" {
			t.Fatalf("decoded %q:%q under key %q", ev.Platform, ev.ID, key)
		}
		again, err := json.Marshal(ev)
		require.NoError(t, err)
		back, err := bots.DecodeInboxEvent(key, again)
		require.NoError(t, err, "a decoded event must decode again after Keep's encoding")
		require.Equal(t, ev.ID, back.ID)
	})
}
