package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// Inbox returns the inbox of events acknowledged before they were handled
// (bots.Inbox) backed by db.
func (db *DB) Inbox() bots.Inbox { return (*inbox)(db) }

type inbox DB

var _ bots.Inbox = (*inbox)(nil)

// Keep stores event under key unless key is kept already.
func (s *inbox) Keep(ctx context.Context, key string, event []byte, due time.Time) error {
	if key == "" {
		return fmt.Errorf("keep event: empty key")
	}
	err := (*DB)(s).write(ctx, func(t *tx) error {
		_, err := t.exec(`INSERT INTO inbox (key, event, due_at, attempts, kept_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT (key) DO NOTHING`,
			key, event, ms(due), ms(time.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("keep event %q: %w", key, err)
	}
	return nil
}

// Claim returns up to n entries due at or before now (those due first), and
// makes them due at until with one more attempt. The single writer makes
// the read and the update one step.
func (s *inbox) Claim(ctx context.Context, now, until time.Time, n int) ([]bots.InboxEntry, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []bots.InboxEntry
	err := (*DB)(s).write(ctx, func(t *tx) error {
		out = out[:0]
		rows, err := t.query(`SELECT key, event, attempts FROM inbox WHERE due_at <= ? ORDER BY due_at, key LIMIT ?`, ms(now), n)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e bots.InboxEntry
			if err := rows.Scan(&e.Key, &e.Event, &e.Attempts); err != nil {
				rows.Close()
				return err
			}
			e.Attempts++
			out = append(out, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range out {
			if _, err := t.exec(`UPDATE inbox SET due_at = ?, attempts = ? WHERE key = ?`, ms(until), e.Attempts, e.Key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim kept events: %w", err)
	}
	return out, nil
}

// Remove deletes key's entry.
func (s *inbox) Remove(ctx context.Context, key string) error {
	err := (*DB)(s).write(ctx, func(t *tx) error {
		_, err := t.exec(`DELETE FROM inbox WHERE key = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove kept event %q: %w", key, err)
	}
	return nil
}
