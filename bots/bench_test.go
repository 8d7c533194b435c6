package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"
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
