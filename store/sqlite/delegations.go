package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
)

const delegationCols = `id, from_user, to_user, start_at, end_at, source, created_by, created_at, ended_at`

const qDelegationsOf = `SELECT ` + delegationCols + ` FROM delegations WHERE from_user = ? AND ended_at IS NULL AND end_at > ? ORDER BY id`

const qDelegationsTo = `SELECT ` + delegationCols + ` FROM delegations WHERE to_user = ? AND ended_at IS NULL AND end_at > ? ORDER BY id`

func scanDelegation(s scanner) (*flows.Delegation, error) {
	d := &flows.Delegation{}
	if err := s.Scan(&d.ID, &d.From, &d.To, msTime{&d.Start}, msTime{&d.End}, &d.Source, &d.CreatedBy,
		msTime{&d.CreatedAt}, nullMS{&d.EndedAt}); err != nil {
		return nil, err
	}
	return d, nil
}

// SaveDelegation inserts d and sets d.ID.
func (t *tx) SaveDelegation(d *flows.Delegation) error {
	if err := t.mustWrite("save delegation"); err != nil {
		return err
	}
	if d == nil || d.From == "" || d.To == "" {
		return errors.New("save delegation: no delegation, or no from or to")
	}
	res, err := t.exec(`INSERT INTO delegations (from_user, to_user, start_at, end_at, source, created_by, created_at, ended_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, d.From, d.To, ms(d.Start), ms(d.End), d.Source, d.CreatedBy, ms(d.CreatedAt), nms(d.EndedAt))
	if err != nil {
		return fmt.Errorf("save delegation of %s: %w", d.From, mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("save delegation of %s: %w", d.From, err)
	}
	d.ID = id
	return nil
}

// EndDelegation sets ended_at of delegation id.
func (t *tx) EndDelegation(id int64, at time.Time) error {
	if err := t.mustWrite("end delegation"); err != nil {
		return err
	}
	res, err := t.exec(`UPDATE delegations SET ended_at = ? WHERE id = ?`, ms(at), id)
	if err != nil {
		return fmt.Errorf("end delegation %d: %w", id, mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("end delegation %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("end delegation %d: %w", id, flows.ErrNotFound)
	}
	return nil
}

// DelegationsOf returns user's delegations not ended early that end after now.
func (t *tx) DelegationsOf(user string, now time.Time) ([]*flows.Delegation, error) {
	ds, err := queryDelegations(t.ctx, txQuerier{t}, user, now)
	if err != nil {
		return nil, fmt.Errorf("list delegations of %s: %w", user, err)
	}
	return ds, nil
}

// DelegationsTo returns the delegations to user not ended early that end
// after now.
func (t *tx) DelegationsTo(user string, now time.Time) ([]*flows.Delegation, error) {
	ds, err := queryDelegationsBy(t.ctx, txQuerier{t}, qDelegationsTo, user, now)
	if err != nil {
		return nil, fmt.Errorf("list delegations to %s: %w", user, err)
	}
	return ds, nil
}

// Delegations returns user's delegations not ended early that end after now.
func (db *DB) Delegations(ctx context.Context, user string, now time.Time) ([]*flows.Delegation, error) {
	ds, err := queryDelegations(ctx, poolQuerier{db}, user, now)
	if err != nil {
		return nil, fmt.Errorf("list delegations of %s: %w", user, err)
	}
	return ds, nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (rowsIter, error)
}

// txQuerier runs queries in a transaction, through its statement cache.
type txQuerier struct{ t *tx }

func (q txQuerier) QueryContext(_ context.Context, query string, args ...any) (rowsIter, error) {
	return q.t.query(query, args...)
}

// poolQuerier runs queries on the reader pool, through its statement cache.
type poolQuerier struct{ db *DB }

func (q poolQuerier) QueryContext(ctx context.Context, query string, args ...any) (rowsIter, error) {
	return q.db.query(ctx, query, args...)
}

func queryDelegations(ctx context.Context, q querier, user string, now time.Time) ([]*flows.Delegation, error) {
	return queryDelegationsBy(ctx, q, qDelegationsOf, user, now)
}

func queryDelegationsBy(ctx context.Context, q querier, query, user string, now time.Time) ([]*flows.Delegation, error) {
	rows, err := q.QueryContext(ctx, query, user, ms(now))
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*flows.Delegation
	for rows.Next() {
		d, err := scanDelegation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
