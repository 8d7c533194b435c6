package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// TestDemoSeed seeds two months through the real engine and store and
// reads them back through the aggregate: the planted bottleneck (expense
// finance, 14-36 working hours, median 25h) is found, and nothing is left
// in the outbox to send.
func TestDemoSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testConfig(t.TempDir())
	a, err := newApp(ctx, cfg, &bytes.Buffer{})
	require.NoError(t, err)
	t.Cleanup(a.close)
	cal, err := loadCalendar(cfg.Calendar.File)
	require.NoError(t, err)
	s := &seeder{a: a, cal: cal, rng: newSeedRand(7)}
	end := time.Now()
	n, err := s.run(ctx, end.AddDate(0, -2, 0), end)
	require.NoError(t, err)
	require.Greater(t, n, 100)
	depth, err := a.store.OutboxDepth(ctx)
	require.NoError(t, err)
	require.Zero(t, depth, "the past's cards are not sent")
	require.WithinDuration(t, time.Now(), a.clock.Now(), time.Minute, "the clock is back to now")

	agg := flowstats.NewAggregate(cal)
	_, err = agg.Update(ctx, a.store)
	require.NoError(t, err)
	sum := agg.Summary(flowstats.Filter{})
	require.Equal(t, n, sum.Total.Submitted)
	exp := sum.Flow("expense")
	require.Greater(t, exp.Ratings, exp.Approved/2, "most applicants rate")
	require.Greater(t, exp.Satisfaction, 3.0)
	require.Zero(t, sum.Flow("leave").Ratings, "leave does not ask for ratings")
	b := agg.Bottleneck(flowstats.Filter{}, "expense")
	require.NotNil(t, b)
	require.Equal(t, "finance", b.StepID)
	require.InDelta(t, 25, b.Median.Hours(), 4, "median of a uniform 14-36h wait")
	fin := sum.Flow("expense").Step("finance")
	require.GreaterOrEqual(t, fin.WaitWork.P90, 30*time.Hour)
	require.LessOrEqual(t, fin.WaitWork.P90, 36*time.Hour)
	open, err := a.store.Instances(ctx, flows.InstanceFilter{Status: []flows.Status{flows.StatusPending}, Limit: 1000})
	require.NoError(t, err)
	require.NotEmpty(t, open, "the latest requests still wait")
}

func TestDemoSeedBadArgs(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"demo", "seed", "-months", "0"}, {"demo", "seed", "-months", "25"}, {"demo", "seed", "-months", "x"}, {"demo", "seed", "extra", "-nope"}} {
		var out, errw bytes.Buffer
		err := run(context.Background(), args, &out, &errw)
		require.Error(t, err, "%v", args)
		require.Empty(t, out.String(), "%v seeded nothing", args)
	}
}
