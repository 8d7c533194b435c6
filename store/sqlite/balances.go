package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows"
)

const balanceCols = `user_id, type, year, total, used, updated_at`

func scanBalance(s scanner) (*flows.Balance, error) {
	b := &flows.Balance{}
	if err := s.Scan(&b.User, &b.Type, &b.Year, &b.Total, &b.Used, msTime{&b.UpdatedAt}); err != nil {
		return nil, err
	}
	return b, nil
}

// Balance returns user's balance of typ in year; flows.ErrNotFound when none.
func (t *tx) Balance(user, typ string, year int) (*flows.Balance, error) {
	b, err := scanBalance(t.queryRow(`SELECT `+balanceCols+` FROM balances WHERE user_id = ? AND year = ? AND type = ?`, user, year, typ))
	if err != nil {
		return nil, fmt.Errorf("read balance %s/%s/%d: %w", user, typ, year, mapErr(err))
	}
	return b, nil
}

// UseBalance adds days to used of that balance.
func (t *tx) UseBalance(user, typ string, year int, days float64, at time.Time) error {
	if err := t.mustWrite("use balance"); err != nil {
		return err
	}
	res, err := t.exec(`UPDATE balances SET used = used + ?, updated_at = ? WHERE user_id = ? AND year = ? AND type = ?`,
		days, ms(at), user, year, typ)
	if err != nil {
		return fmt.Errorf("use balance %s/%s/%d: %w", user, typ, year, mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("use balance %s/%s/%d: %w", user, typ, year, err)
	} else if n == 0 {
		return fmt.Errorf("use balance %s/%s/%d: %w", user, typ, year, flows.ErrNotFound)
	}
	return nil
}

// Balances lists balances ordered by user, year, type.
func (db *DB) Balances(ctx context.Context, f flows.BalanceFilter) ([]*flows.Balance, error) {
	var where []string
	var args []any
	if f.User != "" {
		where, args = append(where, "user_id = ?"), append(args, f.User)
	}
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if f.Year != 0 {
		where, args = append(where, "year = ?"), append(args, f.Year)
	}
	q := `SELECT ` + balanceCols + ` FROM balances`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += ` ORDER BY user_id, year, type LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list balances: %w", mapErr(err))
	}
	bs, err := collect(rows, scanBalance)
	if err != nil {
		return nil, fmt.Errorf("list balances: %w", mapErr(err))
	}
	return bs, nil
}

// UpsertBalances writes us in one transaction; a bad entry writes nothing.
func (db *DB) UpsertBalances(ctx context.Context, us []flows.BalanceUpdate, at time.Time) error {
	for _, u := range us {
		if err := flows.CheckBalanceUpdate(u); err != nil {
			return fmt.Errorf("upsert balances: %w", err)
		}
	}
	err := db.write(ctx, func(t *tx) error {
		for _, u := range us {
			var used any
			if u.Used != nil {
				used = *u.Used
			}
			if _, err := t.exec(`INSERT INTO balances (user_id, type, year, total, used, updated_at)
				VALUES (?, ?, ?, ?, coalesce(?, 0), ?)
				ON CONFLICT (user_id, year, type) DO UPDATE SET total = excluded.total,
					used = coalesce(?, balances.used), updated_at = excluded.updated_at`,
				u.User, u.Type, u.Year, u.Total, used, ms(at), used); err != nil {
				return fmt.Errorf("balance %s/%s/%d: %w", u.User, u.Type, u.Year, mapErr(err))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upsert balances: %w", err)
	}
	return nil
}
