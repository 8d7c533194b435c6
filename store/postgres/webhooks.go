package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/webhooks"
)

// Webhooks returns the outgoing-webhook store backed by db.
func (db *DB) Webhooks() webhooks.Store { return (*webhookStore)(db) }

type webhookStore DB

var _ webhooks.Store = (*webhookStore)(nil)

const deliveryCols = `id, subscription, event_id, instance_id, type, at, request, task, status, attempts, next_at, last_error, created_at, delivered_at`

func scanDelivery(s pgx.Row) (*webhooks.Delivery, error) {
	var (
		d         webhooks.Delivery
		req, task []byte
		status    string
	)
	if err := s.Scan(&d.ID, &d.Subscription, &d.EventID, &d.InstanceID, &d.Type, &d.At, &req, &task, &status,
		&d.Attempts, &d.NextAt, &d.LastError, &d.CreatedAt, &d.DeliveredAt); err != nil {
		return nil, err
	}
	utc(&d.At)
	utc(&d.NextAt)
	utc(&d.CreatedAt)
	nutc(&d.DeliveredAt)
	d.Status = webhooks.Status(status)
	d.Request, d.Task = raw(req), raw(task)
	return &d, nil
}

// inWrite runs fn in a read-write transaction.
func (w *webhookStore) inWrite(ctx context.Context, fn func(pgx.Tx) error) error {
	// inTx always gives its tx a pgx.Tx.
	return (*DB)(w).inTx(ctx, true, func(t *tx) error { return fn(t.tx.(pgx.Tx)) })
}

func (w *webhookStore) Cursor(ctx context.Context, sub string) (int64, error) {
	var c int64
	err := w.pool.QueryRow(ctx, `SELECT cursor FROM webhook_subscriptions WHERE name = $1`, sub).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read webhook cursor of %s: %w", sub, err)
	}
	return c, nil
}

func (w *webhookStore) AddDeliveries(ctx context.Context, sub string, from, to int64, ds []*webhooks.Delivery) error {
	return w.inWrite(ctx, func(t pgx.Tx) error {
		if _, err := t.Exec(ctx, `INSERT INTO webhook_subscriptions(name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, sub); err != nil {
			return fmt.Errorf("add webhook subscription %s: %w", sub, err)
		}
		tag, err := t.Exec(ctx, `UPDATE webhook_subscriptions SET cursor = $1 WHERE name = $2 AND cursor = $3`, to, sub, from)
		if err != nil {
			return fmt.Errorf("move webhook cursor of %s: %w", sub, err)
		}
		if tag.RowsAffected() != 1 {
			return webhooks.ErrCursorMoved
		}
		for _, d := range ds {
			err := t.QueryRow(ctx, `INSERT INTO webhook_deliveries(subscription, event_id, instance_id, type, at, request, task, status, attempts, next_at, last_error, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, '', $9) RETURNING id`,
				sub, d.EventID, d.InstanceID, d.Type, ms(d.At), []byte(d.Request), blob(d.Task), ms(d.NextAt), ms(d.CreatedAt)).Scan(&d.ID)
			if err != nil {
				return fmt.Errorf("add webhook delivery of event %d: %w", d.EventID, mapErr(err))
			}
			d.Subscription, d.Status = sub, webhooks.StatusPending
		}
		return nil
	})
}

func (w *webhookStore) DueDeliveries(ctx context.Context, sub string, now time.Time, limit int) ([]*webhooks.Delivery, error) {
	rows, err := w.pool.Query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d
		WHERE subscription = $1 AND status = 'pending' AND next_at <= $2
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription = d.subscription
			AND e.instance_id = d.instance_id AND e.status = 'pending' AND e.id < d.id)
		ORDER BY id LIMIT $3`, sub, ms(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("list due webhook deliveries of %s: %w", sub, err)
	}
	return collect(rows, scanDelivery)
}

func (w *webhookStore) RecordAttempt(ctx context.Context, a *webhooks.Attempt, status webhooks.Status, next time.Time, lastError string) error {
	return w.inWrite(ctx, func(t pgx.Tx) error {
		var delivered *time.Time
		if status == webhooks.StatusDelivered {
			v := ms(a.At.Add(a.Duration))
			delivered = &v
		}
		tag, err := t.Exec(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_at = $2, last_error = $3, delivered_at = $4 WHERE id = $5`,
			string(status), ms(next), lastError, delivered, a.DeliveryID)
		if err != nil {
			return fmt.Errorf("update webhook delivery %d: %w", a.DeliveryID, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update webhook delivery %d: %w", a.DeliveryID, webhooks.ErrNotFound)
		}
		if _, err := t.Exec(ctx, `INSERT INTO webhook_attempts(delivery_id, at, status_code, response, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
			a.DeliveryID, ms(a.At), a.StatusCode, a.Response, a.Duration.Milliseconds()); err != nil {
			return fmt.Errorf("record webhook attempt of %d: %w", a.DeliveryID, err)
		}
		return nil
	})
}

func (w *webhookStore) Delivery(ctx context.Context, id int64) (*webhooks.Delivery, error) {
	d, err := scanDelivery(w.pool.QueryRow(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("webhook delivery %d: %w", id, webhooks.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook delivery %d: %w", id, err)
	}
	return d, nil
}

func (w *webhookStore) Deliveries(ctx context.Context, f webhooks.DeliveryFilter) ([]*webhooks.Delivery, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := w.pool.Query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries
		WHERE ($1 = '' OR subscription = $1) AND ($2 = 0 OR instance_id = $2) AND ($3 = '' OR status = $3)
		ORDER BY id DESC LIMIT $4`, f.Subscription, f.InstanceID, string(f.Status), limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return collect(rows, scanDelivery)
}

func (w *webhookStore) Attempts(ctx context.Context, id int64) ([]*webhooks.Attempt, error) {
	rows, err := w.pool.Query(ctx, `SELECT delivery_id, at, status_code, response, duration_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts of %d: %w", id, err)
	}
	return collect(rows, func(s pgx.Row) (*webhooks.Attempt, error) {
		var a webhooks.Attempt
		var dur int64
		if err := s.Scan(&a.DeliveryID, &a.At, &a.StatusCode, &a.Response, &dur); err != nil {
			return nil, err
		}
		utc(&a.At)
		a.Duration = time.Duration(dur) * time.Millisecond
		return &a, nil
	})
}

func (w *webhookStore) Replay(ctx context.Context, id int64, now time.Time) error {
	tag, err := w.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_at = $1, delivered_at = NULL WHERE id = $2`, ms(now), id)
	if err != nil {
		return fmt.Errorf("replay webhook delivery %d: %w", id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("webhook delivery %d: %w", id, webhooks.ErrNotFound)
	}
	return nil
}

func (w *webhookStore) AcquireLease(ctx context.Context, sub, owner string, now time.Time, ttl time.Duration) (bool, error) {
	tag, err := w.pool.Exec(ctx, `INSERT INTO webhook_subscriptions(name, lease_owner, lease_until) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
		WHERE webhook_subscriptions.lease_owner = excluded.lease_owner OR webhook_subscriptions.lease_until <= $4`,
		sub, owner, ms(now.Add(ttl)), ms(now))
	if err != nil {
		return false, fmt.Errorf("take webhook lease of %s: %w", sub, err)
	}
	return tag.RowsAffected() == 1, nil
}

func (w *webhookStore) OldestPending(ctx context.Context) (time.Time, bool, error) {
	var v *time.Time
	if err := w.pool.QueryRow(ctx, `SELECT MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&v); err != nil {
		return time.Time{}, false, fmt.Errorf("read oldest pending webhook delivery: %w", err)
	}
	if v == nil {
		return time.Time{}, false, nil
	}
	return v.UTC(), true, nil
}
