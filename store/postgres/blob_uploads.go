package postgres

import (
	"context"
	"fmt"
	"time"
)

// The ledger of kept attachments (blobs.Ledger, table blob_uploads).

// Kept records blob key as kept at at.
func (db *DB) Kept(ctx context.Context, key string, at time.Time) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO blob_uploads (blob_key, created_at) VALUES ($1, $2) ON CONFLICT (blob_key) DO NOTHING`, key, at.UTC()); err != nil {
		return fmt.Errorf("record kept attachment %s: %w", key, mapErr(err))
	}
	return nil
}

// Orphans returns up to limit keys recorded before before that no
// request's form or event names; the keys a request names are forgotten.
func (db *DB) Orphans(ctx context.Context, before time.Time, limit int) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT u.blob_key,
		EXISTS (SELECT 1 FROM instances i WHERE position(convert_to(u.blob_key, 'UTF8') IN i.form) > 0)
		OR EXISTS (SELECT 1 FROM events e WHERE position(convert_to(u.blob_key, 'UTF8') IN e.data) > 0)
		FROM blob_uploads u WHERE u.created_at < $1 ORDER BY u.created_at LIMIT $2`, before.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("list orphan attachments: %w", mapErr(err))
	}
	var orphans, named []string
	for rows.Next() {
		var k string
		var used bool
		if err := rows.Scan(&k, &used); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list orphan attachments: %w", mapErr(err))
		}
		if used {
			named = append(named, k)
		} else {
			orphans = append(orphans, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orphan attachments: %w", mapErr(err))
	}
	if err := db.Forget(ctx, named); err != nil {
		return nil, err
	}
	if len(orphans) == 0 && len(named) == limit && limit > 0 {
		// A whole batch of attachments: look further.
		return db.Orphans(ctx, before, limit)
	}
	return orphans, nil
}

// Forget removes keys from the ledger.
func (db *DB) Forget(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM blob_uploads WHERE blob_key = ANY($1)`, keys); err != nil {
		return fmt.Errorf("forget %d attachments: %w", len(keys), mapErr(err))
	}
	return nil
}
