package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// SyncState returns the cursor and the records fetched so far of an
// unfinished directory sync from source, or flows.ErrNotFound when none is
// in progress.
func (db *DB) SyncState(ctx context.Context, source string) (string, []byte, error) {
	var cursor string
	var data []byte
	if err := db.queryRow(ctx, `SELECT cursor, data FROM directory_sync WHERE source = ?`, source).Scan(&cursor, &data); err != nil {
		return "", nil, fmt.Errorf("get sync state of %s: %w", source, mapErr(err))
	}
	return cursor, data, nil
}

// SaveSyncState records the progress of a directory sync from source.
func (db *DB) SaveSyncState(ctx context.Context, source, cursor string, data []byte) error {
	if source == "" {
		return fmt.Errorf("save sync state: empty source")
	}
	if data == nil {
		data = []byte{}
	}
	err := db.write(ctx, func(t *tx) error {
		_, err := t.exec(`INSERT INTO directory_sync (source, cursor, data, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, data = excluded.data, updated_at = excluded.updated_at`,
			source, cursor, data, time.Now().UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("save sync state of %s: %w", source, mapErr(err))
	}
	return nil
}

// ClearSyncState forgets the progress of source (its sync finished).
func (db *DB) ClearSyncState(ctx context.Context, source string) error {
	err := db.write(ctx, func(t *tx) error {
		_, err := t.exec(`DELETE FROM directory_sync WHERE source = ?`, source)
		return err
	})
	if err != nil {
		return fmt.Errorf("clear sync state of %s: %w", source, mapErr(err))
	}
	return nil
}

// Preference returns the platform user prefers to be reached on, "" when
// they chose none.
func (db *DB) Preference(ctx context.Context, user string) (string, error) {
	var p string
	err := db.queryRow(ctx, `SELECT platform FROM user_prefs WHERE user_id = ?`, user).Scan(&p)
	if err != nil {
		if err = mapErr(err); errors.Is(err, flows.ErrNotFound) {
			return "", nil
		}
		return "", fmt.Errorf("get preference of %s: %w", user, err)
	}
	return p, nil
}

// SetPreference records the platform user prefers ("" clears it).
func (db *DB) SetPreference(ctx context.Context, user, platform string) error {
	if user == "" {
		return fmt.Errorf("set preference: empty user")
	}
	err := db.write(ctx, func(t *tx) error {
		if platform == "" {
			_, err := t.exec(`DELETE FROM user_prefs WHERE user_id = ?`, user)
			return err
		}
		_, err := t.exec(`INSERT INTO user_prefs (user_id, platform) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET platform = excluded.platform`, user, platform)
		return err
	})
	if err != nil {
		return fmt.Errorf("set preference of %s: %w", user, mapErr(err))
	}
	return nil
}
