package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// series counts the series of metric name on /metrics.
func series(t *testing.T, base, name string) (int, string) {
	t.Helper()
	_, _, body := getBody(t, base+"/metrics")
	return len(regexp.MustCompile(`(?m)^`+name+`\{`).FindAllString(body, -1)), body
}

// TestMetricsLabelsAreBounded: 1,000 random command words, from known and
// unknown senders, create no new series; only the bot's own commands get
// their own label, and refused and duplicate events are counted apart.
func TestMetricsLabelsAreBounded(t *testing.T) {
	t.Parallel()
	r := startApp(t, testConfig(t.TempDir()))
	h := countingHandler{next: r.app.bot, m: r.app.metrics}
	ctx := context.Background()
	send := func(id, user, text string) {
		_, err := h.Handle(ctx, bots.Event{Platform: "web", ID: id, UserID: user, ChatID: user, ChatType: "p2p", Text: text})
		require.NoError(t, err)
	}
	send("", applicant, "/help")
	send("", applicant, "/nosuchcommand")
	send("", "mallory", "/help")
	send("ev-dup", applicant, "/todo")
	send("ev-dup", applicant, "/todo")
	cmds, _ := series(t, r.base, "flowbot_commands_total")
	events, body := series(t, r.base, "flowbot_events_total")
	require.Contains(t, body, `flowbot_commands_total{command="help"} 1`) // mallory's is not counted
	require.Contains(t, body, `flowbot_commands_total{command="unknown"} 1`)
	require.Contains(t, body, `flowbot_events_total{kind="message",outcome="refused",platform="web"} 1`)
	require.Contains(t, body, `flowbot_events_total{kind="message",outcome="duplicate",platform="web"} 1`)
	require.Contains(t, body, `flowbot_events_total{kind="message",outcome="handled",platform="web"} 3`)
	require.NotContains(t, body, "flowbot_events_in_total")

	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		word := fmt.Sprintf("/w%x", rnd.Uint64())
		user := applicant
		if i%2 == 1 {
			user = fmt.Sprintf("ou_stranger_%d", i)
		}
		send("", user, word)
	}
	cmdsAfter, body := series(t, r.base, "flowbot_commands_total")
	eventsAfter, _ := series(t, r.base, "flowbot_events_total")
	require.Equal(t, cmds, cmdsAfter, "series of flowbot_commands_total: got %d, want %d", cmdsAfter, cmds)
	require.Equal(t, events, eventsAfter, "series of flowbot_events_total: got %d, want %d", eventsAfter, events)
	require.Contains(t, body, `flowbot_commands_total{command="unknown"} 501`)
}
