package bots_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
	"github.com/flowbot/flowbot/internal/testkit"
)

// forecastSetup publishes the trip flow with a first deadline of
// remindAfter (working time), files six trips each decided by cto after
// exactly two working hours (one a working day, at 10:00 Shanghai), and
// gives the bot an aggregate for forecasts. The clock is left at 10:00 of
// the next working day.
func forecastSetup(t *testing.T, remindAfter string) *bundle {
	t.Helper()
	b := setup(t)
	src := strings.Replace(ratedYAML, "satisfaction: true\n", "satisfaction: true\ncalendar: working\ndeadline: {remind_after: "+remindAfter+"}\n", 1)
	_, _, err := b.engine.PublishFlow(b.ctx, "trip.yaml", []byte(src))
	require.NoError(t, err)
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin,
		Stats: flowstats.NewAggregate(workcal.Default())})
	sh := workcal.Default().Location
	nextWorkday := func() {
		for {
			b.clock.Add(24 * time.Hour)
			if wd := b.clock.Now().In(sh).Weekday(); wd != time.Saturday && wd != time.Sunday {
				return
			}
		}
	}
	for range 6 {
		out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "trip", Values: map[string]any{"city": "Hangzhou"}})
		require.NoError(t, err)
		b.clock.Add(2 * time.Hour)
		_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, out, "cto").ID, Approve: true})
		require.NoError(t, err)
		b.clock.Add(-2 * time.Hour)
		nextWorkday()
	}
	require.Equal(t, 10, b.clock.Now().In(sh).Hour())
	return b
}

func renderFor(t *testing.T, b *bundle, kind flows.MsgKind, out *flows.Outcome, taskID int64, to string) *bots.Card {
	t.Helper()
	u, err := b.db.User(b.ctx, to)
	require.NoError(t, err)
	msg, err := b.bot.Render(b.ctx, &flows.OutboxMessage{ID: 1, Kind: kind, InstanceID: out.Instance.ID, TaskID: taskID, Data: json.RawMessage(`{}`)}, u)
	require.NoError(t, err)
	return msg.Card
}

// TestForecastOnStatusAndCard: with six past trips each decided in two
// working hours, a trip filed at 10:00 is expected at 12:00, on /status
// and on the applicant's "submitted" card, with the approver named.
func TestForecastOnStatusAndCard(t *testing.T) {
	t.Parallel()
	b := forecastSetup(t, "8h")
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "trip", Values: map[string]any{"city": "Xi'an"}})
	require.NoError(t, err)
	status := text(b.say(t, "dev1", "/status "+out.Instance.Number))
	require.Contains(t, status, "预计完成: 12:00（十有八九在 12:00 前）")
	require.Contains(t, status, "- 上级审批（李雷）：预计 12:00 完成")
	require.NotContains(t, status, "可能超过期限", "two hours of eight")

	c := renderFor(t, b, flows.MsgSubmitted, out, 0, "dev1")
	require.Contains(t, cardText(c), "预计完成: 12:00")
	require.NotContains(t, cardText(renderFor(t, b, flows.MsgSubmitted, out, 0, "cto")), "预计完成", "only the applicant's card")
	task := pendingTask(t, out, "cto")
	require.NotContains(t, cardText(renderFor(t, b, flows.MsgTask, out, task.ID, "cto")), "⚠", "no breach predicted")

	// An hour later the forecast counts the hour waited already.
	b.clock.Add(time.Hour)
	require.Contains(t, text(b.say(t, "dev1", "/status "+out.Instance.Number)), "预计完成: 12:00")
	// A finished request has no forecast.
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)
	require.NotContains(t, text(b.say(t, "dev1", "/status "+out.Instance.Number)), "预计完成")
}

// TestForecastFlagsABreach: with a first deadline of one working hour and
// steps that take two, the approver's new task card warns before the
// deadline passes, and /status marks the step.
func TestForecastFlagsABreach(t *testing.T) {
	t.Parallel()
	b := forecastSetup(t, "1h")
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "trip", Values: map[string]any{"city": "Xi'an"}})
	require.NoError(t, err)
	task := pendingTask(t, out, "cto")
	c := renderFor(t, b, flows.MsgTask, out, task.ID, "cto")
	require.Contains(t, c.Markdown, "⚠ 按以往的用时，这一步预计 12:00 才能完成，会超过期限 11:00。")
	st := text(b.say(t, "dev1", "/status "+out.Instance.Number))
	require.Contains(t, st, "⚠ 可能超过期限 11:00")
	require.NotContains(t, cardText(renderFor(t, b, flows.MsgTask, out, task.ID, "ceo")), "⚠ 按以往", "only the assignee's card")
}

// TestForecastWithoutHistory: a flow's first request gets no forecast
// rather than a guess.
func TestForecastWithoutHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := b.engine.PublishFlow(b.ctx, "trip.yaml", []byte(ratedYAML))
	require.NoError(t, err)
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), Stats: flowstats.NewAggregate(nil)})
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "trip", Values: map[string]any{"city": "Xi'an"}})
	require.NoError(t, err)
	got := text(b.say(t, "dev1", "/status "+out.Instance.Number))
	require.Contains(t, got, out.Instance.Number)
	require.NotContains(t, got, "预计完成")
}
