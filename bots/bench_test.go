package bots_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// BenchmarkHandleApprove measures one approval click: event in, dedupe,
// identity, engine decision (transaction, events, outbox), card out.
func BenchmarkHandleApprove(b *testing.B) {
	x := setup(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		out := x.submit(b, "dev1", 2)
		btn := taskButton("approve", pendingTask(b, out, "cto"))
		b.StartTimer()
		rep := x.click(b, "cto", btn, nil)
		if rep.Toast != "已同意" {
			require.Equal(b, "已同意", rep.Toast)
		}
	}
}

// BenchmarkFileAndSubmit measures the applicant's side of a cycle as
// `flowbot serve` runs it by default, with the conversation state and the
// dedupe in the SQLite store: a "/leave" with every field (the summary
// card), then its Submit click (the request filed).
func BenchmarkFileAndSubmit(b *testing.B) {
	x := setup(b)
	x.bot = bots.New(bots.Config{Engine: x.engine, Store: x.db, State: x.db.StateStore(), Dedupe: x.db.Deduper(), AdminContact: admin})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rep := x.say(b, "dev1", fmt.Sprintf("/leave type=annual period=2026-12-01~2026-12-03 reason=r%d", i))
		btn := button(b, lastCard(b, rep), "submit")
		done := x.click(b, "dev1", btn, nil)
		if done.Toast == "" || !strings.Contains(done.Toast, "已提交") {
			b.Fatalf("the Submit click did not file: %q", text(done))
		}
	}
}
