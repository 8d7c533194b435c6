package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/webhooks"
)

// Webhooks returns the outgoing-webhook store backed by db.
func (db *DB) Webhooks() webhooks.Store { return (*webhookStore)(db) }

type webhookStore DB

var _ webhooks.Store = (*webhookStore)(nil)

const deliveryCols = `id, subscription, event_id, instance_id, type, at, request, task, status, attempts, next_at, last_error, created_at, delivered_at`

func scanDelivery(s scanner) (*webhooks.Delivery, error) {
	var (
		d                 webhooks.Delivery
		at, next, created int64
		delivered         sql.NullInt64
		req, task         []byte
		status            string
	)
	if err := s.Scan(&d.ID, &d.Subscription, &d.EventID, &d.InstanceID, &d.Type, &at, &req, &task, &status,
		&d.Attempts, &next, &d.LastError, &created, &delivered); err != nil {
		return nil, mapErr(err)
	}
	d.At, d.NextAt, d.CreatedAt = fromMS(at), fromMS(next), fromMS(created)
	d.Status = webhooks.Status(status)
	d.Request = req
	if len(task) > 0 {
		d.Task = task
	}
	if delivered.Valid {
		t := fromMS(delivered.Int64)
		d.DeliveredAt = &t
	}
	return &d, nil
}

func (w *webhookStore) db() *DB { return (*DB)(w) }

func (w *webhookStore) Cursor(ctx context.Context, sub string) (int64, error) {
	var c int64
	err := w.db().queryRow(ctx, `SELECT cursor FROM webhook_subscriptions WHERE name = ?`, sub).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read webhook cursor of %s: %w", sub, err)
	}
	return c, nil
}

func (w *webhookStore) AddDeliveries(ctx context.Context, sub string, from, to int64, ds []*webhooks.Delivery) error {
	return w.db().write(ctx, func(t *tx) error {
		if _, err := t.exec(`INSERT INTO webhook_subscriptions(name) VALUES (?) ON CONFLICT(name) DO NOTHING`, sub); err != nil {
			return fmt.Errorf("add webhook subscription %s: %w", sub, err)
		}
		res, err := t.exec(`UPDATE webhook_subscriptions SET cursor = ? WHERE name = ? AND cursor = ?`, to, sub, from)
		if err != nil {
			return fmt.Errorf("move webhook cursor of %s: %w", sub, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return webhooks.ErrCursorMoved
		}
		for _, d := range ds {
			var task any
			if len(d.Task) > 0 {
				task = []byte(d.Task)
			}
			err := t.queryRow(`INSERT INTO webhook_deliveries(subscription, event_id, instance_id, type, at, request, task, status, attempts, next_at, last_error, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '', ?) RETURNING id`,
				sub, d.EventID, d.InstanceID, d.Type, ms(d.At), []byte(d.Request), task, string(webhooks.StatusPending), ms(d.NextAt), ms(d.CreatedAt)).Scan(&d.ID)
			if err != nil {
				return fmt.Errorf("add webhook delivery of event %d: %w", d.EventID, mapErr(err))
			}
			d.Subscription, d.Status = sub, webhooks.StatusPending
		}
		return nil
	})
}

func (w *webhookStore) DueDeliveries(ctx context.Context, sub string, now time.Time, limit int) ([]*webhooks.Delivery, error) {
	rows, err := w.db().query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d
		WHERE subscription = ? AND status = 'pending' AND next_at <= ?
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription = d.subscription
			AND e.instance_id = d.instance_id AND e.status = 'pending' AND e.id < d.id)
		ORDER BY id LIMIT ?`, sub, ms(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("list due webhook deliveries of %s: %w", sub, err)
	}
	return collect(rows, scanDelivery)
}

func (w *webhookStore) RecordAttempt(ctx context.Context, a *webhooks.Attempt, status webhooks.Status, next time.Time, lastError string) error {
	return w.db().write(ctx, func(t *tx) error {
		var delivered any
		if status == webhooks.StatusDelivered {
			delivered = ms(a.At.Add(a.Duration))
		}
		res, err := t.exec(`UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_at = ?, last_error = ?, delivered_at = ? WHERE id = ?`,
			string(status), ms(next), lastError, delivered, a.DeliveryID)
		if err != nil {
			return fmt.Errorf("update webhook delivery %d: %w", a.DeliveryID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update webhook delivery %d: %w", a.DeliveryID, webhooks.ErrNotFound)
		}
		if _, err := t.exec(`INSERT INTO webhook_attempts(delivery_id, at, status_code, response, duration_ms) VALUES (?, ?, ?, ?, ?)`,
			a.DeliveryID, ms(a.At), a.StatusCode, a.Response, a.Duration.Milliseconds()); err != nil {
			return fmt.Errorf("record webhook attempt of %d: %w", a.DeliveryID, err)
		}
		return nil
	})
}

func (w *webhookStore) Delivery(ctx context.Context, id int64) (*webhooks.Delivery, error) {
	d, err := scanDelivery(w.db().queryRow(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = ?`, id))
	if err != nil {
		if errors.Is(err, flows.ErrNotFound) {
			return nil, fmt.Errorf("webhook delivery %d: %w", id, webhooks.ErrNotFound)
		}
		return nil, fmt.Errorf("read webhook delivery %d: %w", id, err)
	}
	return d, nil
}

func (w *webhookStore) Deliveries(ctx context.Context, f webhooks.DeliveryFilter) ([]*webhooks.Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE 1=1`
	var args []any
	if f.Subscription != "" {
		q, args = q+` AND subscription = ?`, append(args, f.Subscription)
	}
	if f.InstanceID != 0 {
		q, args = q+` AND instance_id = ?`, append(args, f.InstanceID)
	}
	if f.Status != "" {
		q, args = q+` AND status = ?`, append(args, string(f.Status))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := w.db().query(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return collect(rows, scanDelivery)
}

func (w *webhookStore) Attempts(ctx context.Context, id int64) ([]*webhooks.Attempt, error) {
	rows, err := w.db().query(ctx, `SELECT delivery_id, at, status_code, response, duration_ms FROM webhook_attempts WHERE delivery_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts of %d: %w", id, err)
	}
	return collect(rows, func(s scanner) (*webhooks.Attempt, error) {
		var a webhooks.Attempt
		var at, dur int64
		if err := s.Scan(&a.DeliveryID, &at, &a.StatusCode, &a.Response, &dur); err != nil {
			return nil, err
		}
		a.At, a.Duration = fromMS(at), time.Duration(dur)*time.Millisecond
		return &a, nil
	})
}

func (w *webhookStore) Replay(ctx context.Context, id int64, now time.Time) error {
	return w.db().write(ctx, func(t *tx) error {
		res, err := t.exec(`UPDATE webhook_deliveries SET status = 'pending', next_at = ?, delivered_at = NULL WHERE id = ?`, ms(now), id)
		if err != nil {
			return fmt.Errorf("replay webhook delivery %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("webhook delivery %d: %w", id, webhooks.ErrNotFound)
		}
		return nil
	})
}

func (w *webhookStore) AcquireLease(ctx context.Context, sub, owner string, now time.Time, ttl time.Duration) (bool, error) {
	var got bool
	err := w.db().write(ctx, func(t *tx) error {
		res, err := t.exec(`INSERT INTO webhook_subscriptions(name, lease_owner, lease_until) VALUES (?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
			WHERE webhook_subscriptions.lease_owner = excluded.lease_owner OR webhook_subscriptions.lease_until <= ?`,
			sub, owner, ms(now.Add(ttl)), ms(now))
		if err != nil {
			return fmt.Errorf("take webhook lease of %s: %w", sub, err)
		}
		n, _ := res.RowsAffected()
		got = n == 1
		return nil
	})
	return got, err
}

func (w *webhookStore) OldestPending(ctx context.Context) (time.Time, bool, error) {
	var v sql.NullInt64
	if err := w.db().queryRow(ctx, `SELECT MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&v); err != nil {
		return time.Time{}, false, fmt.Errorf("read oldest pending webhook delivery: %w", err)
	}
	if !v.Valid {
		return time.Time{}, false, nil
	}
	return fromMS(v.Int64), true, nil
}
