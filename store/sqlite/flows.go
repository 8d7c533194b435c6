package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// SaveFlow stores source as a new version of flow id unless the latest
// version has the same hash (then it returns that version, created=false).
// Saving a deleted flow undeletes it. The version's CreatedAt is the wall
// clock: the interface carries no time.
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
	err = db.write(ctx, func(t *tx) error {
		var latest int
		var latestHash string
		err := t.queryRow(`SELECT f.latest, v.hash FROM flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest WHERE f.id = ?`, id).
			Scan(&latest, &latestHash)
		switch err = mapErr(err); {
		case errors.Is(err, flows.ErrNotFound):
		case err != nil:
			return err
		case latestHash == hash:
			version = latest
			_, err := t.exec(`UPDATE flows SET deleted = 0 WHERE id = ?`, id)
			return err
		}
		version, created = latest+1, true
		if _, err := t.exec(`INSERT INTO flows (id, latest, deleted) VALUES (?, ?, 0) ON CONFLICT (id) DO UPDATE SET latest = excluded.latest, deleted = 0`, id, version); err != nil {
			return err
		}
		_, err = t.exec(`INSERT INTO flow_versions (flow_id, version, source, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			id, version, source, hash, time.Now().UnixMilli())
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("save flow %s: %w", id, mapErr(err))
	}
	return version, created, nil
}

// Flow returns version v of flow id (v = 0: the latest, even if deleted).
func (db *DB) Flow(ctx context.Context, id string, v int) (*flows.FlowVersion, error) {
	if v < 0 {
		return nil, fmt.Errorf("get flow %s version %d: negative version: %w", id, v, flows.ErrNotFound)
	}
	q := `SELECT v.flow_id, v.version, v.source, v.hash, f.deleted, v.created_at FROM flow_versions v JOIN flows f ON f.id = v.flow_id WHERE v.flow_id = ? AND v.version = `
	args := []any{id}
	if v == 0 {
		q += `f.latest`
	} else {
		q += `?`
		args = append(args, v)
	}
	fv, err := scanFlow(db.queryRow(ctx, q, args...))
	if err != nil {
		return nil, fmt.Errorf("get flow %s version %d: %w", id, v, mapErr(err))
	}
	return fv, nil
}

func scanFlow(s scanner) (*flows.FlowVersion, error) {
	fv := &flows.FlowVersion{}
	if err := s.Scan(&fv.ID, &fv.Version, &fv.Source, &fv.Hash, &fv.Deleted, msTime{&fv.CreatedAt}); err != nil {
		return nil, err
	}
	return fv, nil
}

// LatestFlows returns the latest version of every flow not deleted, by id.
func (db *DB) LatestFlows(ctx context.Context) ([]*flows.FlowVersion, error) {
	rows, err := db.query(ctx, `SELECT v.flow_id, v.version, v.source, v.hash, f.deleted, v.created_at FROM flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest WHERE f.deleted = 0 ORDER BY f.id`)
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	fvs, err := collect(rows, scanFlow)
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	return fvs, nil
}

// DeleteFlow marks flow id deleted; its versions stay.
func (db *DB) DeleteFlow(ctx context.Context, id string) error {
	err := db.write(ctx, func(t *tx) error {
		res, err := t.exec(`UPDATE flows SET deleted = 1 WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return flows.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete flow %s: %w", id, err)
	}
	return nil
}
