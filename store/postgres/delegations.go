package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
)

const delegationCols = `id, from_user, to_user, start_at, end_at, source, created_by, created_at, ended_at`

const qDelegationsOf = `SELECT ` + delegationCols + ` FROM delegations WHERE from_user = $1 AND ended_at IS NULL AND end_at > $2 ORDER BY id`

const qDelegationsTo = `SELECT ` + delegationCols + ` FROM delegations WHERE to_user = $1 AND ended_at IS NULL AND end_at > $2 ORDER BY id`

func scanDelegation(s pgx.Row) (*flows.Delegation, error) {
	d := &flows.Delegation{}
	if err := s.Scan(&d.ID, &d.From, &d.To, &d.Start, &d.End, &d.Source, &d.CreatedBy, &d.CreatedAt, &d.EndedAt); err != nil {
		return nil, err
	}
	utc(&d.Start)
	utc(&d.End)
	utc(&d.CreatedAt)
	nutc(&d.EndedAt)
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
	err := t.queryRow(`INSERT INTO delegations (from_user, to_user, start_at, end_at, source, created_by, created_at, ended_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		d.From, d.To, ms(d.Start), ms(d.End), d.Source, d.CreatedBy, ms(d.CreatedAt), nms(d.EndedAt)).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("save delegation of %s: %w", d.From, mapErr(err))
	}
	return nil
}

// EndDelegation sets ended_at of delegation id.
func (t *tx) EndDelegation(id int64, at time.Time) error {
	if err := t.mustWrite("end delegation"); err != nil {
		return err
	}
	tag, err := t.exec(`UPDATE delegations SET ended_at = $1 WHERE id = $2`, ms(at), id)
	if err != nil {
		return fmt.Errorf("end delegation %d: %w", id, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("end delegation %d: %w", id, flows.ErrNotFound)
	}
	return nil
}

// DelegationsOf returns user's delegations not ended early that end after now.
func (t *tx) DelegationsOf(user string, now time.Time) ([]*flows.Delegation, error) {
	ds, err := queryAll(t, scanDelegation, qDelegationsOf, user, ms(now))
	if err != nil {
		return nil, fmt.Errorf("list delegations of %s: %w", user, mapErr(err))
	}
	return ds, nil
}

// DelegationsTo returns the delegations to user not ended early that end
// after now.
func (t *tx) DelegationsTo(user string, now time.Time) ([]*flows.Delegation, error) {
	ds, err := queryAll(t, scanDelegation, qDelegationsTo, user, ms(now))
	if err != nil {
		return nil, fmt.Errorf("list delegations to %s: %w", user, mapErr(err))
	}
	return ds, nil
}

// Delegations returns user's delegations not ended early that end after now.
func (db *DB) Delegations(ctx context.Context, user string, now time.Time) ([]*flows.Delegation, error) {
	rows, _ := db.pool.Query(ctx, qDelegationsOf, user, ms(now))
	ds, err := collect(rows, scanDelegation)
	if err != nil {
		return nil, fmt.Errorf("list delegations of %s: %w", user, mapErr(err))
	}
	return ds, nil
}
