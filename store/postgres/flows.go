package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
)

// SaveFlow stores source as a new version of flow id unless the latest
// version has the same hash (then it returns that version, created=false).
// Saving a deleted flow undeletes it. The flow's row is locked for the
// transaction, so concurrent saves of one flow number versions in turn.
// The version's CreatedAt is the wall clock: the interface carries no time.
func (db *DB) SaveFlow(ctx context.Context, id string, source []byte, hash string) (version int, created bool, err error) {
	if id == "" {
		return 0, false, errors.New("save flow: empty id")
	}
	if hash == "" {
		return 0, false, fmt.Errorf("save flow %s: empty hash", id)
	}
	if source == nil {
		source = []byte{}
	}
	err = db.inTx(ctx, true, func(t *tx) error {
		if _, err := t.tx.Exec(ctx, `INSERT INTO flows (id, latest, deleted) VALUES ($1, 0, false) ON CONFLICT (id) DO NOTHING`, id); err != nil {
			return mapErr(err)
		}
		var latest int
		var latestHash *string
		err := t.tx.QueryRow(ctx, `SELECT f.latest, v.hash FROM flows f
			LEFT JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest
			WHERE f.id = $1 FOR UPDATE OF f`, id).Scan(&latest, &latestHash)
		if err != nil {
			return mapErr(err)
		}
		if latestHash != nil && *latestHash == hash {
			version = latest
			_, err := t.tx.Exec(ctx, `UPDATE flows SET deleted = false WHERE id = $1`, id)
			return mapErr(err)
		}
		version, created = latest+1, true
		if _, err := t.tx.Exec(ctx, `UPDATE flows SET latest = $2, deleted = false WHERE id = $1`, id, version); err != nil {
			return mapErr(err)
		}
		_, err = t.tx.Exec(ctx, `INSERT INTO flow_versions (flow_id, version, source, hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id, version, source, hash, ms(time.Now()))
		return mapErr(err)
	})
	if err != nil {
		return 0, false, fmt.Errorf("save flow %s: %w", id, err)
	}
	return version, created, nil
}

const flowCols = `v.flow_id, v.version, v.source, v.hash, f.deleted, v.created_at`

// Flow returns version v of flow id (v = 0: the latest, even if deleted).
func (db *DB) Flow(ctx context.Context, id string, v int) (*flows.FlowVersion, error) {
	if v < 0 {
		return nil, fmt.Errorf("get flow %s version %d: negative version: %w", id, v, flows.ErrNotFound)
	}
	q, args := flowQuery(id, v)
	fv, err := scanFlow(db.pool.QueryRow(ctx, q, args...))
	if err != nil {
		return nil, fmt.Errorf("get flow %s version %d: %w", id, v, mapErr(err))
	}
	return fv, nil
}

// flowQuery selects version v of flow id (0: the latest).
func flowQuery(id string, v int) (string, []any) {
	q := `SELECT ` + flowCols + ` FROM flow_versions v JOIN flows f ON f.id = v.flow_id WHERE v.flow_id = $1 AND v.version = `
	if v == 0 {
		return q + `f.latest`, []any{id}
	}
	return q + `$2`, []any{id, v}
}

func scanFlow(s pgx.Row) (*flows.FlowVersion, error) {
	fv := &flows.FlowVersion{}
	if err := s.Scan(&fv.ID, &fv.Version, &fv.Source, &fv.Hash, &fv.Deleted, &fv.CreatedAt); err != nil {
		return nil, err
	}
	if fv.Source == nil {
		fv.Source = []byte{}
	}
	utc(&fv.CreatedAt)
	return fv, nil
}

// LatestFlows returns the latest version of every flow not deleted, by id.
func (db *DB) LatestFlows(ctx context.Context) ([]*flows.FlowVersion, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+flowCols+` FROM flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest WHERE NOT f.deleted ORDER BY f.id`)
	fvs, err := collect(rows, scanFlow)
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", mapErr(err))
	}
	return fvs, nil
}

// DeleteFlow marks flow id deleted; its versions stay.
func (db *DB) DeleteFlow(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE flows SET deleted = true WHERE id = $1 AND latest > 0`, id)
	if err != nil {
		return fmt.Errorf("delete flow %s: %w", id, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete flow %s: %w", id, flows.ErrNotFound)
	}
	return nil
}
