package webhookstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/webhooks"
)

// SubscriptionsBundle is one fresh database seen as the stores the
// subscription suite needs. AddEvents appends events to its log and
// returns the id of the last one.
type SubscriptionsBundle struct {
	Subs      webhooks.SubscriptionStore
	Store     webhooks.Store
	AddEvents func(t *testing.T) int64
}

// RunSubscriptions checks a SubscriptionStore against its contract.
func RunSubscriptions(t *testing.T, open func(t *testing.T) SubscriptionsBundle) {
	ctx := context.Background()
	sub := func(name string) webhooks.Subscription {
		return webhooks.Subscription{Name: name, URL: "https://erp.example.com/hook", Secret: "s3cret",
			Events: []string{webhooks.RequestApproved, webhooks.RequestRejected}, Flows: []string{"leave"}}
	}

	t.Run("StartsAtTheEndOfTheLog", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		last := b.AddEvents(t)
		require.Positive(t, last)
		require.NoError(t, b.Subs.CreateSubscription(ctx, sub("erp"), false))
		cur, err := b.Store.Cursor(ctx, "erp")
		require.NoError(t, err)
		require.Equal(t, last, cur, "a new subscription gets no history")
		require.NoError(t, b.Subs.CreateSubscription(ctx, sub("crm"), true))
		cur, err = b.Store.Cursor(ctx, "crm")
		require.NoError(t, err)
		require.Zero(t, cur, "from the start: the whole history")

		got, err := b.Subs.Subscriptions(ctx)
		require.NoError(t, err)
		require.Equal(t, []webhooks.Subscription{sub("crm"), sub("erp")}, got, "listed by name, secret kept")
	})

	t.Run("NameTaken", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		require.NoError(t, b.Subs.CreateSubscription(ctx, sub("erp"), false))
		other := sub("erp")
		other.URL = "https://evil.example.com/"
		err := b.Subs.CreateSubscription(ctx, other, false)
		require.True(t, errors.Is(err, webhooks.ErrExists), "got %v, want ErrExists", err)
		// a configured subscription's cursor row holds its name too
		_, err = b.Store.AcquireLease(ctx, "from-config", "me", timeNow(), 60e9)
		require.NoError(t, err)
		err = b.Subs.CreateSubscription(ctx, sub("from-config"), false)
		require.True(t, errors.Is(err, webhooks.ErrExists), "got %v, want ErrExists", err)
		got, err := b.Subs.Subscriptions(ctx)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, "https://erp.example.com/hook", got[0].URL, "the first one is unchanged")
	})

	t.Run("UpdateKeepsCursorAndSecret", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		last := b.AddEvents(t)
		require.NoError(t, b.Subs.CreateSubscription(ctx, sub("erp"), false))
		up := webhooks.Subscription{Name: "erp", URL: "https://erp2.example.com/hook", Events: []string{"*"}}
		require.NoError(t, b.Subs.UpdateSubscription(ctx, up))
		got, err := b.Subs.Subscriptions(ctx)
		require.NoError(t, err)
		require.Equal(t, webhooks.Subscription{Name: "erp", URL: "https://erp2.example.com/hook", Secret: "s3cret", Events: []string{"*"}}, got[0])
		cur, err := b.Store.Cursor(ctx, "erp")
		require.NoError(t, err)
		require.Equal(t, last, cur)
		up.Secret = "rotated"
		require.NoError(t, b.Subs.UpdateSubscription(ctx, up))
		got, _ = b.Subs.Subscriptions(ctx)
		require.Equal(t, "rotated", got[0].Secret)
		err = b.Subs.UpdateSubscription(ctx, webhooks.Subscription{Name: "nope", URL: "https://x.example.com/"})
		require.True(t, errors.Is(err, webhooks.ErrNoSubscription), "got %v", err)
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		require.NoError(t, b.Subs.CreateSubscription(ctx, sub("erp"), false))
		require.NoError(t, b.Subs.DeleteSubscription(ctx, "erp"))
		got, err := b.Subs.Subscriptions(ctx)
		require.NoError(t, err)
		require.Empty(t, got)
		err = b.Subs.DeleteSubscription(ctx, "erp")
		require.True(t, errors.Is(err, webhooks.ErrNoSubscription), "deleting twice: got %v", err)
		_, err = b.Store.AcquireLease(ctx, "from-config", "me", timeNow(), 60e9)
		require.NoError(t, err)
		err = b.Subs.DeleteSubscription(ctx, "from-config")
		require.True(t, errors.Is(err, webhooks.ErrNoSubscription), "a configured subscription is not deleted: got %v", err)
		require.NoError(t, b.Subs.CreateSubscription(ctx, sub("erp"), false), "the name is free again")
	})
}

func timeNow() time.Time { return time.Now() }
