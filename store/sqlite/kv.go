package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// The chat layer's small key-value needs (bots.StateStore, bots.Deduper,
// bots.Locker), kept in the same file as the flows. Expiry uses the wall
// clock at millisecond precision; expired rows are invisible at once and
// purged now and then (every purgeEvery writes).

const purgeEvery = 256

// StateStore returns the conversation state store backed by db.
func (db *DB) StateStore() bots.StateStore { return (*stateStore)(db) }

// Deduper returns the event-id deduper backed by db.
func (db *DB) Deduper() bots.Deduper { return (*deduper)(db) }

// Locker returns the named-lease locker backed by db.
func (db *DB) Locker() bots.Locker { return (*locker)(db) }

type (
	stateStore DB
	deduper    DB
	locker     DB
)

func checkKV(op, key string, ttl time.Duration, needTTL bool) error {
	if key == "" {
		return fmt.Errorf("%s: empty key", op)
	}
	if needTTL && ttl <= 0 {
		return fmt.Errorf("%s %q: ttl must be positive, got %s", op, key, ttl)
	}
	return nil
}

// kvWrite runs fn in a write transaction and, now and then, purges expired
// rows of table in the same transaction.
func (db *DB) kvWrite(ctx context.Context, table string, fn func(t *tx, now int64) error) error {
	return db.write(ctx, func(t *tx) error {
		now := time.Now().UnixMilli()
		if err := fn(t, now); err != nil {
			return err
		}
		if db.purgeTick.Add(1)%purgeEvery == 0 {
			if _, err := t.exec(`DELETE FROM `+table+` WHERE expires_at <= ?`, now); err != nil {
				return fmt.Errorf("purge expired %s: %w", table, err)
			}
		}
		return nil
	})
}

// Get returns the value of key; ok is false when absent or expired.
func (s *stateStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := checkKV("get state", key, 0, false); err != nil {
		return nil, false, err
	}
	var val []byte
	err := (*DB)(s).queryRow(ctx, `SELECT val FROM kv_state WHERE key = ? AND expires_at > ?`, key, time.Now().UnixMilli()).Scan(&val)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get state %q: %w", key, err)
	}
	if val == nil {
		val = []byte{}
	}
	return val, true, nil
}

// Set stores val under key for ttl (> 0).
func (s *stateStore) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := checkKV("set state", key, ttl, true); err != nil {
		return err
	}
	if val == nil {
		val = []byte{}
	}
	err := (*DB)(s).kvWrite(ctx, "kv_state", func(t *tx, now int64) error {
		_, err := t.exec(`INSERT INTO kv_state (key, val, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET val = excluded.val, expires_at = excluded.expires_at`,
			key, val, now+ttlMS(ttl))
		return err
	})
	if err != nil {
		return fmt.Errorf("set state %q: %w", key, err)
	}
	return nil
}

// Swap stores val under key for ttl (> 0) if key holds old (nil: if it
// is absent or expired), in one write transaction.
func (s *stateStore) Swap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error) {
	if err := checkKV("swap state", key, ttl, true); err != nil {
		return false, err
	}
	if val == nil {
		val = []byte{}
	}
	var swapped bool
	err := (*DB)(s).kvWrite(ctx, "kv_state", func(t *tx, now int64) error {
		var res sql.Result
		var err error
		if old == nil {
			res, err = t.exec(`INSERT INTO kv_state (key, val, expires_at) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET val = excluded.val, expires_at = excluded.expires_at WHERE kv_state.expires_at <= ?`,
				key, val, now+ttlMS(ttl), now)
		} else {
			res, err = t.exec(`UPDATE kv_state SET val = ?, expires_at = ? WHERE key = ? AND val = ? AND expires_at > ?`,
				val, now+ttlMS(ttl), key, old, now)
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		swapped = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("swap state %q: %w", key, err)
	}
	return swapped, nil
}

// Delete removes key (absent is not an error).
func (s *stateStore) Delete(ctx context.Context, key string) error {
	if err := checkKV("delete state", key, 0, false); err != nil {
		return err
	}
	err := (*DB)(s).write(ctx, func(t *tx) error {
		_, err := t.exec(`DELETE FROM kv_state WHERE key = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete state %q: %w", key, err)
	}
	return nil
}

// FirstSeen records key for ttl and reports whether it was not already
// recorded (and unexpired).
func (d *deduper) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkKV("dedupe", key, ttl, true); err != nil {
		return false, err
	}
	var first bool
	err := (*DB)(d).kvWrite(ctx, "kv_dedupe", func(t *tx, now int64) error {
		res, err := t.exec(`INSERT INTO kv_dedupe (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE kv_dedupe.expires_at <= ?`,
			key, now+ttlMS(ttl), now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("dedupe %q: %w", key, err)
	}
	return first, nil
}

// Confirm keeps key seen for ttl from now (bots.DedupeConfirmer: after the
// event was handled).
func (d *deduper) Confirm(ctx context.Context, key string, ttl time.Duration) error {
	if err := checkKV("confirm dedupe key", key, ttl, true); err != nil {
		return err
	}
	err := (*DB)(d).kvWrite(ctx, "kv_dedupe", func(t *tx, now int64) error { return confirmIn(t, key, ttl, now) })
	if err != nil {
		return fmt.Errorf("confirm dedupe key %q: %w", key, err)
	}
	return nil
}

// confirmIn writes key seen and done for ttl from now in t.
func confirmIn(t *tx, key string, ttl time.Duration, now int64) error {
	for _, k := range []string{key, doneKey(key)} {
		if _, err := t.exec(`INSERT INTO kv_dedupe (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at`,
			k, now+ttlMS(ttl)); err != nil {
			return err
		}
	}
	return nil
}

// Done reports whether key was confirmed (and has not expired).
func (d *deduper) Done(ctx context.Context, key string) (bool, error) {
	if err := checkKV("dedupe done", key, 0, false); err != nil {
		return false, err
	}
	var n int
	err := (*DB)(d).queryRow(ctx, `SELECT count(*) FROM kv_dedupe WHERE key = ? AND expires_at > ?`,
		doneKey(key), time.Now().UnixMilli()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("dedupe done %q: %w", key, err)
	}
	return n > 0, nil
}

// Renew keeps the processing hold of key for ttl from now, if it is
// still held and not done, never shortening it (bots.DedupeRenewer).
func (d *deduper) Renew(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkKV("renew dedupe hold", key, ttl, true); err != nil {
		return false, err
	}
	var held bool
	err := (*DB)(d).kvWrite(ctx, "kv_dedupe", func(t *tx, now int64) error {
		var done int
		if err := t.queryRow(`SELECT count(*) FROM kv_dedupe WHERE key = ? AND expires_at > ?`, doneKey(key), now).Scan(&done); err != nil || done > 0 {
			return err
		}
		until := now + ttlMS(ttl)
		res, err := t.exec(`UPDATE kv_dedupe SET expires_at = max(expires_at, ?) WHERE key = ? AND expires_at > ?`, until, key, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("renew dedupe hold %q: %w", key, err)
	}
	return held, nil
}

// doneKey is where Confirm marks a key done.
func doneKey(key string) string { return "done\x00" + key }

// Forget removes a dedupe key, so that an event whose handling failed is
// handled again when the platform redelivers it (bots.DedupeForgetter).
func (d *deduper) Forget(ctx context.Context, key string) error {
	if err := checkKV("forget dedupe key", key, 0, false); err != nil {
		return err
	}
	err := (*DB)(d).write(ctx, func(t *tx) error {
		_, err := t.exec(`DELETE FROM kv_dedupe WHERE key IN (?, ?)`, key, doneKey(key))
		return err
	})
	if err != nil {
		return fmt.Errorf("forget dedupe key %q: %w", key, err)
	}
	return nil
}

// TryLock takes lock name for owner for ttl, or renews it when owner holds
// it, and reports whether owner holds it now.
func (l *locker) TryLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := checkKV("lock", name, ttl, true); err != nil {
		return false, err
	}
	if owner == "" {
		return false, fmt.Errorf("lock %q: empty owner", name)
	}
	var held bool
	err := (*DB)(l).kvWrite(ctx, "kv_locks", func(t *tx, now int64) error {
		res, err := t.exec(`INSERT INTO kv_locks (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE kv_locks.owner = excluded.owner OR kv_locks.expires_at <= ?`,
			name, owner, now+ttlMS(ttl), now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("lock %q for %s: %w", name, owner, err)
	}
	return held, nil
}

// Unlock releases lock name if owner holds it.
func (l *locker) Unlock(ctx context.Context, name, owner string) error {
	if err := checkKV("unlock", name, 0, false); err != nil {
		return err
	}
	err := (*DB)(l).write(ctx, func(t *tx) error {
		_, err := t.exec(`DELETE FROM kv_locks WHERE name = ? AND owner = ?`, name, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("unlock %q for %s: %w", name, owner, err)
	}
	return nil
}

// ttlMS rounds ttl up to whole milliseconds so that a tiny ttl still lasts.
func ttlMS(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}
