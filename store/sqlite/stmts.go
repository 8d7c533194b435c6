package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache holds statements prepared on the reader pool, keyed by their
// text, for the queries outside transactions. Dynamic filter queries have a
// bounded number of shapes; past maxCached the rest run unprepared.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxCached = 512

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[q]
	full := len(c.m) >= maxCached
	c.mu.Unlock()
	if ok || full {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[q]; ok { // another goroutine won
		_ = st.Close()
		return old, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

// toTheEnd returns ctx without its cancellation, or ctx's error when it
// has ended already. The reader pool's connections also carry the
// statements that read keeps per connection: a query interrupted by its
// context would make database/sql close its connection under them
// (leaked, and a crash in Close). So a query through the statement cache
// runs to its end (reads here take milliseconds) once its context was
// found alive.
func toTheEnd(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// query runs q on the reader pool through the statement cache (to its
// end: toTheEnd).
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx, err := toTheEnd(ctx)
	if err != nil {
		return nil, err
	}
	st, err := db.cache.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.reader.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) scanner {
	ctx, err := toTheEnd(ctx)
	if err != nil {
		return errRow{err}
	}
	st, err := db.cache.get(ctx, q)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return db.reader.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

const (
	qNextNumber       = `INSERT INTO sequences (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value`
	qInsInstance      = `INSERT INTO instances (number, flow_id, flow_version, applicant, status, form, step_index, step_id, created_at, updated_at, closed_at, last_urge_at, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`
	qInstance         = `SELECT ` + instanceCols + ` FROM instances WHERE id = ?`
	qInstanceByNumber = `SELECT ` + instanceCols + ` FROM instances WHERE number = ? AND number <> ''`
	qUpdInstance      = `UPDATE instances SET number = ?, flow_id = ?, flow_version = ?, applicant = ?, status = ?, form = ?, step_index = ?, step_id = ?, created_at = ?, updated_at = ?, closed_at = ?, last_urge_at = ?, rev = rev + 1 WHERE id = ? AND rev = ?`
	// The fast updates leave the indexed identity columns out of SET (so
	// SQLite need not rewrite their index entries) and guard them in WHERE;
	// when they did change, the full statement runs instead.
	qUpdInstanceFast = `UPDATE instances SET flow_version = ?, status = ?, form = ?, step_index = ?, step_id = ?, updated_at = ?, closed_at = ?, last_urge_at = ?, rev = rev + 1 WHERE id = ? AND rev = ? AND number = ? AND flow_id = ? AND applicant = ? AND created_at = ?`
	qUpdTaskFast     = `UPDATE tasks SET step_id = ?, seq = ?, assignee = ?, status = ?, comment = ?, decided_by = ?, auto = ?, created_at = ?, started_at = ?, decided_at = ?, remind_at = ?, escalate_at = ?, timeout_at = ?, due_at = ?, reminders = ?, escalated = ?, from_user = ?, note = ?, on_behalf_of = ? WHERE id = ? AND instance_id = ?`
	qInstanceExists  = `SELECT count(*) FROM instances WHERE id = ?`
	qInsTask         = `INSERT INTO tasks (instance_id, step_id, seq, assignee, status, comment, decided_by, auto, created_at, started_at, decided_at, remind_at, escalate_at, timeout_at, due_at, reminders, escalated, from_user, note, on_behalf_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qTask            = `SELECT ` + taskCols + ` FROM tasks WHERE id = ?`
	qUpdTask         = `UPDATE tasks SET instance_id = ?, step_id = ?, seq = ?, assignee = ?, status = ?, comment = ?, decided_by = ?, auto = ?, created_at = ?, started_at = ?, decided_at = ?, remind_at = ?, escalate_at = ?, timeout_at = ?, due_at = ?, reminders = ?, escalated = ?, from_user = ?, note = ?, on_behalf_of = ? WHERE id = ?`
	qTasksOf         = `SELECT ` + taskCols + ` FROM tasks WHERE instance_id = ? ORDER BY id`
	// The literal status = 'pending' lets SQLite use the partial index tasks_due.
	qDueTasks = `SELECT ` + taskCols + ` FROM tasks WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`
	qInsEvent = `INSERT INTO events (instance_id, task_id, flow_id, step_id, type, actor, auto, data, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qEventsOf = `SELECT ` + eventCols + ` FROM events WHERE instance_id = ? ORDER BY id`
	qEnqueue  = `INSERT INTO outbox (kind, recipient, instance_id, task_id, step_id, data, status, attempts, next_at, last_error, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?, NULL)`
)
