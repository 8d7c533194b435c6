package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/flowbot/flowbot/webhooks"
)

// Subscriptions returns the store of webhook subscriptions made at run
// time, backed by db.
func (db *DB) Subscriptions() webhooks.SubscriptionStore { return (*subStore)(db) }

type subStore DB

var _ webhooks.SubscriptionStore = (*subStore)(nil)

func joinList(l []string) string { return strings.Join(l, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CreateSubscription keeps s, its cursor at the end of the event log (or
// 0 with fromStart), in one transaction.
func (s *subStore) CreateSubscription(ctx context.Context, sub webhooks.Subscription, fromStart bool) error {
	return (*DB)(s).write(ctx, func(t *tx) error {
		var cursor int64
		if !fromStart {
			if err := t.queryRow(`SELECT coalesce(max(id), 0) FROM events`).Scan(&cursor); err != nil {
				return fmt.Errorf("create webhook subscription %s: read end of event log: %w", sub.Name, err)
			}
		}
		res, err := t.exec(`INSERT INTO webhook_subscriptions(name, cursor, stored, url, secret, events, flows) VALUES (?, ?, 1, ?, ?, ?, ?)
			ON CONFLICT(name) DO NOTHING`, sub.Name, cursor, sub.URL, sub.Secret, joinList(sub.Events), joinList(sub.Flows))
		if err != nil {
			return fmt.Errorf("create webhook subscription %s: %w", sub.Name, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("create webhook subscription %s: %w", sub.Name, webhooks.ErrExists)
		}
		return nil
	})
}

// Subscriptions lists the stored subscriptions by name.
func (s *subStore) Subscriptions(ctx context.Context) ([]webhooks.Subscription, error) {
	rows, err := (*DB)(s).query(ctx, `SELECT name, url, secret, events, flows FROM webhook_subscriptions WHERE stored = 1 ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	defer rows.Close()
	var out []webhooks.Subscription
	for rows.Next() {
		var sub webhooks.Subscription
		var events, flows string
		if err := rows.Scan(&sub.Name, &sub.URL, &sub.Secret, &events, &flows); err != nil {
			return nil, fmt.Errorf("list webhook subscriptions: %w", err)
		}
		sub.Events, sub.Flows = splitList(events), splitList(flows)
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	return out, nil
}

// UpdateSubscription replaces URL, events, flows and (when given) secret.
func (s *subStore) UpdateSubscription(ctx context.Context, sub webhooks.Subscription) error {
	return (*DB)(s).write(ctx, func(t *tx) error {
		res, err := t.exec(`UPDATE webhook_subscriptions SET url = ?, events = ?, flows = ?,
			secret = CASE WHEN ? = '' THEN secret ELSE ? END WHERE name = ? AND stored = 1`,
			sub.URL, joinList(sub.Events), joinList(sub.Flows), sub.Secret, sub.Secret, sub.Name)
		if err != nil {
			return fmt.Errorf("update webhook subscription %s: %w", sub.Name, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update webhook subscription %s: %w", sub.Name, webhooks.ErrNoSubscription)
		}
		return nil
	})
}

// DeleteSubscription forgets a stored subscription (its deliveries stay).
func (s *subStore) DeleteSubscription(ctx context.Context, name string) error {
	return (*DB)(s).write(ctx, func(t *tx) error {
		res, err := t.exec(`DELETE FROM webhook_subscriptions WHERE name = ? AND stored = 1`, name)
		if err != nil {
			return fmt.Errorf("delete webhook subscription %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("delete webhook subscription %s: %w", name, webhooks.ErrNoSubscription)
		}
		return nil
	})
}
