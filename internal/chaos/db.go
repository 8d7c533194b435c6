package chaos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL, for the replicas
	_ "modernc.org/sqlite"             // the SQLite driver flowbot uses
)

// reader reads flowbot's database (SQLite read-only, or PostgreSQL).
type reader struct {
	db *sql.DB
	pg bool
}

// openReader opens path: a SQLite file, or a postgres:// URL.
func openReader(path string) (*reader, error) {
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		db, err := sql.Open("pgx", path)
		if err != nil {
			return nil, fmt.Errorf("chaos: open postgres: %w", err)
		}
		db.SetMaxOpenConns(4)
		return &reader{db: db, pg: true}, nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("chaos: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	return &reader{db: db}, nil
}

// q is query q with PostgreSQL's $n placeholders where needed.
func (r *reader) q(q string) string {
	if !r.pg {
		return q
	}
	// The form is bytea there.
	q = strings.NewReplacer("CAST(i.form AS TEXT)", "convert_from(i.form, 'UTF8')", "CAST(form AS TEXT)", "convert_from(form, 'UTF8')").Replace(q)
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *reader) Close() { _ = r.db.Close() }

// instance finds the request of c (by its unique description) and its task.
func (r *reader) instance(ctx context.Context, c *Cycle) error {
	_, err := r.instanceOr(ctx, c, nil)
	return err
}

// instanceOr polls for the request of c (for 20 s of the database
// answering: a read refused while PostgreSQL restarts does not count)
// until it is found (true) or refused says the submit was refused
// (false, nil).
func (r *reader) instanceOr(ctx context.Context, c *Cycle, refused func() bool) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var answered time.Duration
	var lastNoRows error
	for {
		t0 := time.Now()
		// Newest first: the request was just filed, so the walk back
		// along (applicant, created_at) stops at once instead of reading
		// every earlier request of the applicant.
		err := r.db.QueryRowContext(ctx, r.q(`SELECT i.id, i.number, t.id, t.assignee FROM instances i JOIN tasks t ON t.instance_id = i.id
			WHERE i.applicant = ? AND CAST(i.form AS TEXT) LIKE ? ORDER BY i.created_at DESC LIMIT 1`), c.Applicant, "%"+c.Desc+"%").
			Scan(&c.Instance, &c.Number, &c.Task, &c.Assignee)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, sql.ErrNoRows):
			answered += time.Since(t0) + 50*time.Millisecond
			lastNoRows = err
		}
		if refused != nil && refused() {
			return false, nil
		}
		if answered >= 20*time.Second {
			return false, fmt.Errorf("acknowledged submit of %s left no request: %w", c.Desc, lastNoRows)
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("acknowledged submit of %s left no request: %w (last read: %v)", c.Desc, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *reader) count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	if err := r.db.QueryRowContext(ctx, r.q(q), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("chaos: %s: %w", q, err)
	}
	return n, nil
}
