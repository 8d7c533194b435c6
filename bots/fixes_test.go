package bots_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// Two clicks on the summary's Submit at the same moment (a double click,
// or the platform redelivering under a new event id) file one request.
func TestDoubleSubmitFilesOnce(t *testing.T) {
	t.Parallel()
	for range 5 {
		b := setup(t)
		rep := b.say(t, "dev1", "/leave type=annual from=2026-12-01 to=2026-12-02 reason=家事")
		submit := button(t, lastCard(t, rep), "submit")
		var wg sync.WaitGroup
		replies := make([]bots.Reply, 2)
		for i := range replies {
			wg.Go(func() { replies[i] = b.click(t, "dev1", submit, nil) })
		}
		wg.Wait()
		ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
		require.NoError(t, err)
		require.Len(t, ins, 1, "one request, whatever the timing")
		// The second click is told, not silently ignored.
		for _, r := range replies {
			require.NotEmpty(t, r.Toast+text(r))
		}
		// And the conversation is over: a third click files nothing.
		b.click(t, "dev1", submit, nil)
		ins, err = b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
		require.NoError(t, err)
		require.Len(t, ins, 1)
	}
}

// A directory keyed on Feishu's union_id serves every app of the tenant.
func TestIdentifyByUnionID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	users, depts := testOrg()
	users = append(users, &flows.User{ID: "amy", Name: "Amy", Dept: "eng", Manager: "cto", Locale: "en",
		Platforms: map[string]string{"feishu": "on_amy"}})
	require.NoError(t, b.db.ReplaceDirectory(b.ctx, users, depts))
	rep, err := b.bot.Handle(b.ctx, bots.Event{Platform: "feishu", App: "cli_new", ID: "ev1",
		UserID: "ou_unknown_in_this_app", UnionID: "on_amy", ChatID: "oc_1", ChatType: "p2p", Text: "/help"})
	require.NoError(t, err)
	require.Contains(t, text(rep), "I can file and handle approvals")
	// Unknown everywhere: the clear "ask your admin" answer.
	rep, err = b.bot.Handle(b.ctx, bots.Event{Platform: "feishu", App: "cli_new", ID: "ev2",
		UserID: "ou_x", UnionID: "on_x", ChatID: "oc_2", ChatType: "p2p", Text: "/help"})
	require.NoError(t, err)
	require.Contains(t, text(rep), admin)
}

// A redelivery that finds its event still held by a handler that has not
// finished (another replica, or one that died) asks to be delivered again
// rather than being dropped; once handled, duplicates are dropped quietly.
func TestRedeliveryOfAnEventInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.db.Deduper()
	bot := bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: d})
	ev := b.msg("dev1", "/help")
	first, err := d.FirstSeen(b.ctx, "web:"+ev.ID, bots.ProcessingTTL) // held elsewhere
	require.NoError(t, err)
	require.True(t, first)
	_, err = bot.Handle(b.ctx, ev)
	require.ErrorIs(t, err, bots.ErrInFlight)

	ev2 := b.msg("dev1", "/help")
	rep, err := bot.Handle(b.ctx, ev2)
	require.NoError(t, err)
	require.NotEmpty(t, text(rep))
	rep, err = bot.Handle(b.ctx, ev2) // handled: a plain duplicate
	require.NoError(t, err)
	require.Empty(t, rep.Messages)
	require.Empty(t, rep.Toast)
}

// A wait shorter than a minute reads "under a minute", never "0 minutes".
func TestShortWaitsAreNotZero(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)
	rep := b.say(t, "ceo", "/stats") // decided within the same second
	require.Contains(t, text(rep), "不到 1 分钟")
	require.NotContains(t, text(rep), "0 分钟")
}
