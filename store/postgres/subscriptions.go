package postgres

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

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CreateSubscription keeps s, its cursor at the end of the event log (or
// 0 with fromStart).
func (s *subStore) CreateSubscription(ctx context.Context, sub webhooks.Subscription, fromStart bool) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO webhook_subscriptions(name, cursor, stored, url, secret, events, flows)
		VALUES ($1, CASE WHEN $2 THEN 0 ELSE (SELECT coalesce(max(id), 0) FROM events) END, true, $3, $4, $5, $6)
		ON CONFLICT (name) DO NOTHING`, sub.Name, fromStart, sub.URL, sub.Secret, strings.Join(sub.Events, ","), strings.Join(sub.Flows, ","))
	if err != nil {
		return fmt.Errorf("create webhook subscription %s: %w", sub.Name, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("create webhook subscription %s: %w", sub.Name, webhooks.ErrExists)
	}
	return nil
}

// Subscriptions lists the stored subscriptions by name.
func (s *subStore) Subscriptions(ctx context.Context) ([]webhooks.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, url, secret, events, flows FROM webhook_subscriptions WHERE stored ORDER BY name`)
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
	tag, err := s.pool.Exec(ctx, `UPDATE webhook_subscriptions SET url = $1, events = $2, flows = $3,
		secret = CASE WHEN $4 = '' THEN secret ELSE $4 END WHERE name = $5 AND stored`,
		sub.URL, strings.Join(sub.Events, ","), strings.Join(sub.Flows, ","), sub.Secret, sub.Name)
	if err != nil {
		return fmt.Errorf("update webhook subscription %s: %w", sub.Name, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("update webhook subscription %s: %w", sub.Name, webhooks.ErrNoSubscription)
	}
	return nil
}

// DeleteSubscription forgets a stored subscription (its deliveries stay).
func (s *subStore) DeleteSubscription(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE name = $1 AND stored`, name)
	if err != nil {
		return fmt.Errorf("delete webhook subscription %s: %w", name, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("delete webhook subscription %s: %w", name, webhooks.ErrNoSubscription)
	}
	return nil
}
