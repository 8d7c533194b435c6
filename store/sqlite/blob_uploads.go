package sqlite

import (
	"context"
	"fmt"
	"time"
)

// The ledger of kept attachments (blobs.Ledger, table blob_uploads).

// Kept records blob key as kept at at.
func (db *DB) Kept(ctx context.Context, key string, at time.Time) error {
	err := db.write(ctx, func(t *tx) error {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO blob_uploads (blob_key, created_at) VALUES (?, ?) ON CONFLICT (blob_key) DO NOTHING`, key, ms(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("record kept attachment %s: %w", key, mapErr(err))
	}
	return nil
}

// Orphans returns up to limit keys recorded before before that no
// request's form or event names; the keys a request names are forgotten.
func (db *DB) Orphans(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var orphans, named []string
	err := db.read(ctx, func(t *tx) error {
		rows, err := t.tx.QueryContext(ctx, `SELECT u.blob_key,
			EXISTS (SELECT 1 FROM instances i WHERE instr(CAST(i.form AS TEXT), u.blob_key) > 0)
			OR EXISTS (SELECT 1 FROM events e WHERE instr(CAST(e.data AS TEXT), u.blob_key) > 0)
			FROM blob_uploads u WHERE u.created_at < ? ORDER BY u.created_at LIMIT ?`, ms(before), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var used bool
			if err := rows.Scan(&k, &used); err != nil {
				return err
			}
			if used {
				named = append(named, k)
			} else {
				orphans = append(orphans, k)
			}
		}
		return rows.Err()
	})
	if err != nil {
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
	err := db.write(ctx, func(t *tx) error {
		for _, k := range keys {
			if _, err := t.tx.ExecContext(ctx, `DELETE FROM blob_uploads WHERE blob_key = ?`, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget %d attachments: %w", len(keys), mapErr(err))
	}
	return nil
}
