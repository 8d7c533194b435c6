package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
)

const balanceCols = `user_id, type, year, total, used, updated_at`

func scanBalance(s pgx.Row) (*flows.Balance, error) {
	b := &flows.Balance{}
	if err := s.Scan(&b.User, &b.Type, &b.Year, &b.Total, &b.Used, &b.UpdatedAt); err != nil {
		return nil, err
	}
	utc(&b.UpdatedAt)
	return b, nil
}

// Balance returns user's balance of typ in year; flows.ErrNotFound when none.
func (t *tx) Balance(user, typ string, year int) (*flows.Balance, error) {
	b, err := scanBalance(t.queryRow(`SELECT `+balanceCols+` FROM balances WHERE user_id = $1 AND year = $2 AND type = $3`, user, year, typ))
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
	tag, err := t.exec(`UPDATE balances SET used = used + $1, updated_at = $2 WHERE user_id = $3 AND year = $4 AND type = $5`,
		days, ms(at), user, year, typ)
	if err != nil {
		return fmt.Errorf("use balance %s/%s/%d: %w", user, typ, year, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("use balance %s/%s/%d: %w", user, typ, year, flows.ErrNotFound)
	}
	return nil
}

// Balances lists balances ordered by user, year, type.
func (db *DB) Balances(ctx context.Context, f flows.BalanceFilter) ([]*flows.Balance, error) {
	var where []string
	var args []any
	arg := func(col string, v any) {
		args = append(args, v)
		where = append(where, col+" = $"+strconv.Itoa(len(args)))
	}
	if f.User != "" {
		arg("user_id", f.User)
	}
	if f.Type != "" {
		arg("type", f.Type)
	}
	if f.Year != 0 {
		arg("year", f.Year)
	}
	q := `SELECT ` + balanceCols + ` FROM balances`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	q += ` ORDER BY user_id COLLATE "C", year, type COLLATE "C" LIMIT $` + strconv.Itoa(len(args))
	rows, _ := db.pool.Query(ctx, q, args...)
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
	err := db.inTx(ctx, true, func(t *tx) error {
		for _, u := range us {
			if _, err := t.tx.Exec(ctx, `INSERT INTO balances (user_id, type, year, total, used, updated_at)
				VALUES ($1, $2, $3, $4, coalesce($5::double precision, 0), $6)
				ON CONFLICT (user_id, year, type) DO UPDATE SET total = excluded.total,
					used = coalesce($5::double precision, balances.used), updated_at = excluded.updated_at`,
				u.User, u.Type, u.Year, u.Total, u.Used, ms(at)); err != nil {
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
