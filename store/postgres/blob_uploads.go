package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/blobs"
)

// The ledger of kept attachments (blobs.Ledger, table blob_uploads).

// Kept records blob key as kept at at.
func (db *DB) Kept(ctx context.Context, key string, at time.Time) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO blob_uploads (blob_key, created_at) VALUES ($1, $2) ON CONFLICT (blob_key) DO NOTHING`, key, at.UTC()); err != nil {
		return fmt.Errorf("record kept attachment %s: %w", key, mapErr(err))
	}
	return nil
}

// Uploads returns up to limit keys recorded before before, oldest first,
// each saying whether a request's form or event names it.
func (db *DB) Uploads(ctx context.Context, before time.Time, limit int) ([]blobs.Upload, error) {
	rows, err := db.pool.Query(ctx, `SELECT u.blob_key,
		EXISTS (SELECT 1 FROM instances i WHERE position(convert_to(u.blob_key, 'UTF8') IN i.form) > 0)
		OR EXISTS (SELECT 1 FROM events e WHERE position(convert_to(u.blob_key, 'UTF8') IN e.data) > 0)
		FROM blob_uploads u WHERE u.created_at < $1 ORDER BY u.created_at LIMIT $2`, before.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("list kept attachments: %w", mapErr(err))
	}
	ups, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (blobs.Upload, error) {
		var u blobs.Upload
		err := r.Scan(&u.Key, &u.Named)
		return u, err
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
	if _, err := db.pool.Exec(ctx, `DELETE FROM blob_uploads WHERE blob_key = ANY($1)`, keys); err != nil {
		return fmt.Errorf("forget %d attachments: %w", len(keys), mapErr(err))
	}
	return nil
}
