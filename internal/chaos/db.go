package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver flowbot uses
)

// reader reads flowbot's SQLite database, read-only.
type reader struct{ db *sql.DB }

func openReader(path string) (*reader, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("chaos: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	return &reader{db: db}, nil
}

func (r *reader) Close() { _ = r.db.Close() }

// instance finds the request of c (by its unique description) and its task.
func (r *reader) instance(ctx context.Context, c *Cycle) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		err := r.db.QueryRowContext(ctx, `SELECT i.id, i.number, t.id, t.assignee FROM instances i JOIN tasks t ON t.instance_id = i.id
			WHERE i.applicant = ? AND CAST(i.form AS TEXT) LIKE ? ORDER BY i.id LIMIT 1`, c.Applicant, "%"+c.Desc+"%").
			Scan(&c.Instance, &c.Number, &c.Task, &c.Assignee)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("acknowledged submit of %s left no request: %w", c.Desc, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *reader) count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	if err := r.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("chaos: %s: %w", q, err)
	}
	return n, nil
}
