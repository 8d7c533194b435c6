package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ReleaseDeadClaims undoes, at the start of the one process that uses
// this database, what a killed earlier run of it held: outbox messages it
// had claimed but never tried (their lease would otherwise delay them up
// to a minute) and event ids it was handling but never finished (their
// redelivery would be answered "retry later" until the hold ran out).
// Only call it when no other process shares the file (SQLite without
// Redis: the embedded single-machine setup). It reports how many of each
// it released.
//
// Only keys that expire within holdsUpTo are taken for holds: an event
// hold lasts bot.processing_ttl (seconds), renewed while its handler runs,
// while the scheduler's "digest sent" claims last 48 h and are never
// confirmed; a restart keeps those.
func (db *DB) ReleaseDeadClaims(ctx context.Context, now time.Time) (claims, holds int, err error) {
	err = db.write(ctx, func(t *tx) error {
		// A message is enqueued due now; a pending one due later that was
		// never tried is a claim (retries have attempts > 0).
		res, err := t.exec(`UPDATE outbox SET next_at = ? WHERE status = 'pending' AND attempts = 0 AND next_at > ?`, ms(now), ms(now))
		if err != nil {
			return fmt.Errorf("release outbox claims: %w", err)
		}
		n, _ := res.RowsAffected()
		claims = int(n)
		rows, err := t.query(`SELECT key, expires_at FROM kv_dedupe`)
		if err != nil {
			return fmt.Errorf("read event holds: %w", err)
		}
		keys, held := map[string]bool{}, map[string]bool{}
		for rows.Next() {
			var k string
			var exp int64
			if err := rows.Scan(&k, &exp); err != nil {
				rows.Close()
				return fmt.Errorf("read event holds: %w", err)
			}
			keys[k] = true
			held[k] = exp <= ms(now.Add(holdsUpTo))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read event holds: %w", err)
		}
		done := doneKey("")
		for k := range keys {
			if !held[k] || strings.HasPrefix(k, done) || keys[doneKey(k)] {
				continue
			}
			if _, err := t.exec(`DELETE FROM kv_dedupe WHERE key = ?`, k); err != nil {
				return fmt.Errorf("release event hold %q: %w", k, err)
			}
			holds++
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("release dead claims: %w", err)
	}
	return claims, holds, nil
}

// holdsUpTo bounds what ReleaseDeadClaims takes for an event hold.
const holdsUpTo = time.Hour
