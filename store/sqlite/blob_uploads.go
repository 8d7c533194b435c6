package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/blobs"
)

// The ledger of kept attachments (blobs.Ledger, table blob_uploads).

// Kept records blob key as kept at at.
func (db *DB) Kept(ctx context.Context, key string, at time.Time) error {
	err := db.write(ctx, func(t *tx) error {
		_, err := t.exec(`INSERT INTO blob_uploads (blob_key, created_at) VALUES (?, ?) ON CONFLICT (blob_key) DO NOTHING`, key, ms(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("record kept attachment %s: %w", key, mapErr(err))
	}
	return nil
}

// Uploads returns up to limit keys recorded before before, oldest first,
// each saying whether a request's form or event names it.
func (db *DB) Uploads(ctx context.Context, before time.Time, limit int) ([]blobs.Upload, error) {
	var ups []blobs.Upload
	err := db.read(ctx, func(t *tx) error {
		rows, err := t.query(`SELECT u.blob_key,
			EXISTS (SELECT 1 FROM instances i WHERE instr(CAST(i.form AS TEXT), u.blob_key) > 0)
			OR EXISTS (SELECT 1 FROM events e WHERE instr(CAST(e.data AS TEXT), u.blob_key) > 0)
			FROM blob_uploads u WHERE u.created_at < ? ORDER BY u.created_at LIMIT ?`, ms(before), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u blobs.Upload
			if err := rows.Scan(&u.Key, &u.Named); err != nil {
				return err
			}
			ups = append(ups, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list kept attachments: %w", mapErr(err))
	}
	return ups, nil
}

// Forget removes keys from the ledger.
func (db *DB) Forget(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	err := db.write(ctx, func(t *tx) error {
		for _, k := range keys {
			if _, err := t.exec(`DELETE FROM blob_uploads WHERE blob_key = ?`, k); err != nil {
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
