package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// Inbox returns the inbox of events acknowledged before they were handled
// (bots.Inbox) backed by db, shared by every replica.
func (db *DB) Inbox() bots.Inbox { return (*inbox)(db) }

type inbox DB

var _ bots.Inbox = (*inbox)(nil)

// Keep stores event under key unless key is kept already.
func (s *inbox) Keep(ctx context.Context, key string, event []byte, due time.Time) error {
	if key == "" {
		return fmt.Errorf("keep event: empty key")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO inbox (key, event, due_at, attempts, kept_at) VALUES ($1, $2, $3, 0, now()) ON CONFLICT (key) DO NOTHING`,
		key, event, due)
	if err != nil {
		return fmt.Errorf("keep event %q: %w", key, err)
	}
	return nil
}

// Claim returns up to n entries due at or before now (those due first), and
// makes them due at until with one more attempt; rows another replica is
// claiming at the same moment are skipped.
func (s *inbox) Claim(ctx context.Context, now, until time.Time, n int) ([]bots.InboxEntry, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE inbox SET due_at = $2, attempts = attempts + 1
		WHERE key IN (SELECT key FROM inbox WHERE due_at <= $1 ORDER BY due_at, key LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING key, event, attempts`, now, until, n)
	if err != nil {
		return nil, fmt.Errorf("claim kept events: %w", err)
	}
	defer rows.Close()
	var out []bots.InboxEntry
	for rows.Next() {
		var e bots.InboxEntry
		if err := rows.Scan(&e.Key, &e.Event, &e.Attempts); err != nil {
			return nil, fmt.Errorf("claim kept events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim kept events: %w", err)
	}
	return out, nil
}

// Remove deletes key's entry.
func (s *inbox) Remove(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM inbox WHERE key = $1`, key); err != nil {
		return fmt.Errorf("remove kept event %q: %w", key, err)
	}
	return nil
}
