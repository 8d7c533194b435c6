package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Owner names the process that claims outbox messages: Instance is the
// same at every start of one replica (config server.instance), Run is new
// at every start. Two replicas running at once must have different
// instances.
type Owner struct {
	Instance string
	Run      string
}

// WithOwner tags every outbox claim with o, so that ReleaseDeadClaims of
// a later run of the same instance can release what this run left when
// it was killed. Without it claims carry no owner and only their lease
// ends them.
func WithOwner(o Owner) Option {
	return func(db *DB) { db.owner = o }
}

// ReleaseDeadClaims makes due at now the outbox messages claimed by an
// earlier run of this store's instance (WithOwner) and never finished: that
// run is dead (a replica restarts only after its process ended), so its
// claims need not wait out their lease. Claims of other instances, of this
// run, and messages waiting for a retry are left alone. It reports how
// many it released.
func (db *DB) ReleaseDeadClaims(ctx context.Context, now time.Time) (int, error) {
	if db.owner.Instance == "" || db.owner.Run == "" {
		return 0, errors.New("release dead claims: no owner (open the store WithOwner)")
	}
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET next_at = $1, claimed_by = NULL, claimed_run = NULL
		WHERE status = 'pending' AND next_at > $1 AND claimed_by = $2 AND claimed_run <> $3`,
		ms(now), db.owner.Instance, db.owner.Run)
	if err != nil {
		return 0, fmt.Errorf("release dead claims of instance %q: %w", db.owner.Instance, mapErr(err))
	}
	return int(tag.RowsAffected()), nil
}

// nullable is s, or SQL NULL when s is empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
