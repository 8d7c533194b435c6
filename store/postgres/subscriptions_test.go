package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/webhooks/webhookstest"
)

func TestSubscriptionStore(t *testing.T) {
	t.Parallel()
	webhookstest.RunSubscriptions(t, func(t *testing.T) webhookstest.SubscriptionsBundle {
		db := mustOpen(t)
		return webhookstest.SubscriptionsBundle{Subs: db.Subscriptions(), Store: db.Webhooks(), AddEvents: func(t *testing.T) int64 {
			return fileOneRequest(t, db)
		}}
	})
}

// fileOneRequest files an expense claim through the engine and returns the
// id of the last event of the log.
func fileOneRequest(t *testing.T, st flows.Store) int64 {
	t.Helper()
	ctx := context.Background()
	testkit.LoadExampleOrg(t, ctx, st)
	engine := flows.New(flows.Config{Store: st, Clock: testkit.NewClock(time.Now())})
	testkit.PublishExampleFlows(t, ctx, engine)
	_, err := engine.Submit(ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "expense", Values: map[string]any{"amount": 100, "category": "travel", "description": "taxi"}})
	require.NoError(t, err)
	evs, err := st.Events(ctx, flows.EventFilter{Limit: 1000})
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	return evs[len(evs)-1].ID
}
