package flowstats_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowstats"
)

// TestAccuracyOfPastForecasts: over the generated history, the last 200
// approved purchases are each forecast from the weeks before them; the
// planted waits repeat a five-request cycle, so the forecasts are as good
// as the held-out test's.
func TestAccuracyOfPastForecasts(t *testing.T) {
	t.Parallel()
	evs, tr := generate(planted, origin)
	a := flowstats.NewAggregate(nil)
	a.SetDirectory(tr.users)
	a.Apply(evs...)
	acc := a.Accuracy("purchase", 0)
	require.NotNil(t, acc)
	t.Logf("measured %d; within p90 %.0f%%; within a quarter %.0f%%; median error %s", acc.N, 100*acc.WithinP90, 100*acc.Within, acc.MedianError)
	require.Equal(t, 200, acc.N, "the last 200 all have history before them")
	require.Equal(t, 50, a.Accuracy("purchase", 50).N)
	require.GreaterOrEqual(t, acc.WithinP90, 0.85)
	// The planted totals run 4 to 29 working hours in a five-request
	// cycle; the forecast's median is one number for all of them.
	require.Less(t, acc.MedianError, 9*time.Hour, "within a working day")
	require.Greater(t, acc.MedianError, time.Duration(0))
	require.Equal(t, acc, a.Accuracy("purchase", 0), "the draws are repeatable")

	require.Nil(t, a.Accuracy("nope", 0), "an unknown flow has nothing to measure")
	require.Nil(t, flowstats.NewAggregate(nil).Accuracy("purchase", 0))
	// The first requests of a history have nothing before them.
	b := flowstats.NewAggregate(nil)
	b.SetDirectory(tr.users)
	b.Apply(evs[:40]...)
	require.Nil(t, b.Accuracy("purchase", 0))
}
