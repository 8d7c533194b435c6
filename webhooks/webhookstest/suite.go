package webhookstest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/webhooks"
)

// Run runs the suite; open returns a fresh, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) webhooks.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	mk := func(event, instance int64) *webhooks.Delivery {
		return &webhooks.Delivery{EventID: event, InstanceID: instance, Type: webhooks.TaskCreated, At: t0,
			Request: json.RawMessage(`{"id":1}`), NextAt: t0, CreatedAt: t0}
	}

	t.Run("CursorMovesWithDeliveries", func(t *testing.T) {
		st := open(t)
		c, err := st.Cursor(ctx, "erp")
		require.NoError(t, err)
		require.Zero(t, c)
		ds := []*webhooks.Delivery{mk(3, 1), mk(5, 2)}
		require.NoError(t, st.AddDeliveries(ctx, "erp", 0, 7, ds))
		require.Positive(t, ds[0].ID)
		require.Greater(t, ds[1].ID, ds[0].ID, "ids follow the order given")
		c, err = st.Cursor(ctx, "erp")
		require.NoError(t, err)
		require.EqualValues(t, 7, c)
		other, err := st.Cursor(ctx, "crm")
		require.NoError(t, err)
		require.Zero(t, other, "cursors are per subscription")

		got, err := st.Delivery(ctx, ds[1].ID)
		require.NoError(t, err)
		require.Equal(t, "erp", got.Subscription)
		require.EqualValues(t, 5, got.EventID)
		require.EqualValues(t, 2, got.InstanceID)
		require.Equal(t, webhooks.StatusPending, got.Status)
		require.JSONEq(t, `{"id":1}`, string(got.Request))
		require.Nil(t, got.Task)
		require.True(t, got.At.Equal(t0))
	})

	t.Run("ErrCursorMovedWritesNothing", func(t *testing.T) {
		st := open(t)
		require.NoError(t, st.AddDeliveries(ctx, "erp", 0, 4, []*webhooks.Delivery{mk(4, 1)}))
		err := st.AddDeliveries(ctx, "erp", 0, 9, []*webhooks.Delivery{mk(8, 1)})
		require.ErrorIs(t, err, webhooks.ErrCursorMoved)
		c, err := st.Cursor(ctx, "erp")
		require.NoError(t, err)
		require.EqualValues(t, 4, c)
		all, err := st.Deliveries(ctx, webhooks.DeliveryFilter{Subscription: "erp"})
		require.NoError(t, err)
		require.Len(t, all, 1, "the losing batch wrote no delivery")
	})

	t.Run("SameEventTwiceRefusedAtomically", func(t *testing.T) {
		st := open(t)
		require.NoError(t, st.AddDeliveries(ctx, "erp", 0, 4, []*webhooks.Delivery{mk(4, 1)}))
		// A forged cursor move back cannot create a second delivery of event 4.
		err := st.AddDeliveries(ctx, "erp", 4, 6, []*webhooks.Delivery{mk(6, 1), mk(4, 1)})
		require.Error(t, err)
		c, err := st.Cursor(ctx, "erp")
		require.NoError(t, err)
		require.EqualValues(t, 4, c, "cursor unchanged after a failed batch")
		all, err := st.Deliveries(ctx, webhooks.DeliveryFilter{})
		require.NoError(t, err)
		require.Len(t, all, 1)
	})

	t.Run("DueIsHeadOfEachRequest", func(t *testing.T) {
		st := open(t)
		a1, a2, b1 := mk(1, 100), mk(2, 100), mk(3, 200)
		later := mk(4, 300)
		later.NextAt = t0.Add(time.Hour)
		require.NoError(t, st.AddDeliveries(ctx, "erp", 0, 4, []*webhooks.Delivery{a1, a2, b1, later}))
		due, err := st.DueDeliveries(ctx, "erp", t0, 10)
		require.NoError(t, err)
		require.Equal(t, []int64{a1.ID, b1.ID}, ids(due), "a2 waits behind a1; 300 is not due yet")

		// a1 fails and is retried later: a2 still waits, b moves on.
		require.NoError(t, st.RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: a1.ID, At: t0, StatusCode: 500, Response: "boom", Duration: 20 * time.Millisecond},
			webhooks.StatusPending, t0.Add(time.Minute), "HTTP 500: boom"))
		require.NoError(t, st.RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: b1.ID, At: t0, StatusCode: 204},
			webhooks.StatusDelivered, t0, ""))
		due, err = st.DueDeliveries(ctx, "erp", t0.Add(time.Second), 10)
		require.NoError(t, err)
		require.Empty(t, due)
		due, err = st.DueDeliveries(ctx, "erp", t0.Add(time.Minute), 10)
		require.NoError(t, err)
		require.Equal(t, []int64{a1.ID}, ids(due))

		// a1 given up: a2 is next.
		require.NoError(t, st.RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: a1.ID, At: t0.Add(time.Minute)}, webhooks.StatusFailed, t0.Add(time.Minute), "dial refused"))
		due, err = st.DueDeliveries(ctx, "erp", t0.Add(time.Minute), 10)
		require.NoError(t, err)
		require.Equal(t, []int64{a2.ID}, ids(due))
		due, err = st.DueDeliveries(ctx, "crm", t0.Add(time.Hour), 10)
		require.NoError(t, err)
		require.Empty(t, due, "due deliveries are per subscription")

		got, err := st.Delivery(ctx, a1.ID)
		require.NoError(t, err)
		require.Equal(t, webhooks.StatusFailed, got.Status)
		require.Equal(t, 2, got.Attempts)
		require.Equal(t, "dial refused", got.LastError)
		at, err := st.Attempts(ctx, a1.ID)
		require.NoError(t, err)
		require.Len(t, at, 2)
		require.Equal(t, 500, at[0].StatusCode)
		require.Equal(t, "boom", at[0].Response)
		require.Equal(t, 20*time.Millisecond, at[0].Duration)
		require.Zero(t, at[1].StatusCode)
		gb, err := st.Delivery(ctx, b1.ID)
		require.NoError(t, err)
		require.Equal(t, webhooks.StatusDelivered, gb.Status)
		require.NotNil(t, gb.DeliveredAt)
	})

	t.Run("ReplaySameID", func(t *testing.T) {
		st := open(t)
		d := mk(1, 1)
		require.NoError(t, st.AddDeliveries(ctx, "erp", 0, 1, []*webhooks.Delivery{d}))
		require.NoError(t, st.RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: d.ID, At: t0}, webhooks.StatusFailed, t0, "x"))
		require.NoError(t, st.Replay(ctx, d.ID, t0.Add(time.Hour)))
		due, err := st.DueDeliveries(ctx, "erp", t0.Add(time.Hour), 10)
		require.NoError(t, err)
		require.Equal(t, []int64{d.ID}, ids(due))
		require.Equal(t, 1, due[0].Attempts, "attempts are kept")
		require.ErrorIs(t, st.Replay(ctx, d.ID+1000, t0), webhooks.ErrNotFound)
		_, err = st.Delivery(ctx, d.ID+1000)
		require.ErrorIs(t, err, webhooks.ErrNotFound)
		require.ErrorIs(t, st.RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: d.ID + 1000, At: t0}, webhooks.StatusFailed, t0, ""), webhooks.ErrNotFound)
	})

	t.Run("Lease", func(t *testing.T) {
		st := open(t)
		ok, err := st.AcquireLease(ctx, "erp", "a", t0, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = st.AcquireLease(ctx, "erp", "b", t0.Add(30*time.Second), time.Minute)
		require.NoError(t, err)
		require.False(t, ok, "b waits while a holds the lease")
		ok, err = st.AcquireLease(ctx, "erp", "a", t0.Add(50*time.Second), time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "a renews")
		ok, err = st.AcquireLease(ctx, "erp", "b", t0.Add(100*time.Second), time.Minute)
		require.NoError(t, err)
		require.False(t, ok, "renewed lease still runs")
		ok, err = st.AcquireLease(ctx, "erp", "b", t0.Add(111*time.Second), time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "b takes an expired lease")
		ok, err = st.AcquireLease(ctx, "crm", "a", t0, time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "leases are per subscription")
		// Taking a lease keeps the cursor.
		require.NoError(t, st.AddDeliveries(ctx, "erp", 0, 3, nil))
		_, err = st.AcquireLease(ctx, "erp", "b", t0.Add(112*time.Second), time.Minute)
		require.NoError(t, err)
		c, err := st.Cursor(ctx, "erp")
		require.NoError(t, err)
		require.EqualValues(t, 3, c)
	})

	t.Run("ListAndOldestPending", func(t *testing.T) {
		st := open(t)
		_, ok, err := st.OldestPending(ctx)
		require.NoError(t, err)
		require.False(t, ok)
		d1, d2 := mk(1, 1), mk(2, 2)
		d2.CreatedAt = t0.Add(time.Minute)
		require.NoError(t, st.AddDeliveries(ctx, "erp", 0, 2, []*webhooks.Delivery{d1, d2}))
		d3 := mk(2, 2)
		require.NoError(t, st.AddDeliveries(ctx, "crm", 0, 2, []*webhooks.Delivery{d3}))
		at, ok, err := st.OldestPending(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, at.Equal(t0))
		require.NoError(t, st.RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: d1.ID, At: t0, StatusCode: 200}, webhooks.StatusDelivered, t0, ""))
		require.NoError(t, st.RecordAttempt(ctx, &webhooks.Attempt{DeliveryID: d3.ID, At: t0, StatusCode: 200}, webhooks.StatusDelivered, t0, ""))
		at, _, err = st.OldestPending(ctx)
		require.NoError(t, err)
		require.True(t, at.Equal(t0.Add(time.Minute)))

		all, err := st.Deliveries(ctx, webhooks.DeliveryFilter{})
		require.NoError(t, err)
		require.Equal(t, []int64{d3.ID, d2.ID, d1.ID}, ids(all), "newest first")
		erp, err := st.Deliveries(ctx, webhooks.DeliveryFilter{Subscription: "erp", Status: webhooks.StatusPending})
		require.NoError(t, err)
		require.Equal(t, []int64{d2.ID}, ids(erp))
		byReq, err := st.Deliveries(ctx, webhooks.DeliveryFilter{InstanceID: 2, Limit: 1})
		require.NoError(t, err)
		require.Equal(t, []int64{d3.ID}, ids(byReq))
		none, err := st.Deliveries(ctx, webhooks.DeliveryFilter{Subscription: "x' OR '1'='1"})
		require.NoError(t, err)
		require.Empty(t, none)
	})
}

func ids(ds []*webhooks.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
