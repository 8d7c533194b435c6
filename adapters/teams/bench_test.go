package teams_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// taskCard files a purchase request of Han Meimei and sends Li Lei's task
// card through the adapter; it returns the card's activity.
func (r *realBot) taskCard(tb testing.TB) teamstest.Activity {
	tb.Helper()
	out, err := r.engine.Submit(r.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "purchase", Values: map[string]any{
		"item": "Monitor", "quantity": 1, "amount": "1200", "vendor": "Dell",
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
	ref, err := r.adapter.Send(r.ctx, bots.Recipient{UserID: teamsLiLei}, bots.Message{Card: r.bot.TaskCard(v, task, lilei)}, "")
	require.NoError(tb, err)
	acts := r.fake.ActivitiesIn(r.fake.PersonalConversation(teamsLiLei))
	a := acts[len(acts)-1]
	require.Contains(tb, ref, a.ID)
	return a
}

// BenchmarkInvokeToAnswer measures an approver's Action.Execute from the
// fake's signed invoke through the adapter's token check, the real bot
// and the engine on SQLite (the decision's transaction) to the invoke's
// answer with the refreshed card. Filing the request and sending the task
// card are not timed.
func BenchmarkInvokeToAnswer(b *testing.B) {
	r := setupRealBot(b)
	tok := r.token()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		card := r.taskCard(b)
		var data map[string]any
		for _, btn := range teamstest.Buttons(card.Card()) {
			if btn.Verb == "approve" {
				data = btn.Data
			}
		}
		inv := r.fake.Invoke(r.appID, teamsLiLei, "aad-lilei", "approve", data, card.ID)
		b.StartTimer()
		start := time.Now()
		resp := teamstest.Post(r.adapter, inv, tok)
		lat = append(lat, time.Since(start))
		if resp.Status != http.StatusOK || resp.Invoke.StatusCode != http.StatusOK || resp.Card() == nil {
			b.Fatalf("invoke failed: %d %s", resp.Status, resp.Body)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
