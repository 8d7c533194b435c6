package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// errReadOnly is returned by a write method of a View transaction.
var errReadOnly = errors.New("write in a read-only transaction (use Update)")

// tx implements flows.Tx. It lives only for one Update or View call, which
// is why it may carry that call's context.
//
// It runs its statements on a driver connection of its own for the call
// (see dconn.go): a write on the writer's, inside the batch's transaction;
// a read on one of the reader pool's, inside a read transaction. Every
// statement is prepared once per connection and kept by its text.
type tx struct {
	db    *DB
	ctx   context.Context
	c     *dconn
	write bool
	req   *writeReq // the writer's request running t (nil: a read)
}

// exec runs the statement q in t.
func (t *tx) exec(q string, args ...any) (sql.Result, error) { return t.c.exec(t.ctx, q, args...) }

// query runs the query q in t.
func (t *tx) query(q string, args ...any) (rowsIter, error) { return t.c.query(t.ctx, q, args...) }

// queryRow is query for one row.
func (t *tx) queryRow(q string, args ...any) scanner { return t.c.queryRow(t.ctx, q, args...) }

func (t *tx) mustWrite(op string) error {
	if !t.write {
		return fmt.Errorf("%s: %w", op, errReadOnly)
	}
	return nil
}

// NextNumber returns the next number (1, 2, ...) of the sequence key.
func (t *tx) NextNumber(key string) (int, error) {
	if err := t.mustWrite("next number"); err != nil {
		return 0, err
	}
	if key == "" {
		return 0, errors.New("next number: empty key")
	}
	var n int
	if err := t.queryRow(qNextNumber, key).Scan(&n); err != nil {
		return 0, fmt.Errorf("next number %q: %w", key, mapErr(err))
	}
	return n, nil
}

// CreateInstance inserts in and sets in.ID and in.Rev = 1.
func (t *tx) CreateInstance(in *flows.Instance) error {
	if err := t.mustWrite("create instance"); err != nil {
		return err
	}
	if in == nil {
		return errors.New("create instance: nil instance")
	}
	res, err := t.exec(qInsInstance, in.Number, in.FlowID, in.FlowVersion, in.Applicant,
		string(in.Status), blob(in.Form), in.StepIndex, in.StepID, ms(in.CreatedAt), ms(in.UpdatedAt),
		nms(in.ClosedAt), nms(in.LastUrgeAt))
	if err != nil {
		return fmt.Errorf("create instance %s: %w", in.Number, mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("create instance %s: %w", in.Number, err)
	}
	in.ID, in.Rev = id, 1
	t.AfterCommit(func() { t.db.refs.created(id) }) // no refs yet: all of them will be known
	return nil
}

// Instance returns instance id or flows.ErrNotFound.
func (t *tx) Instance(id int64) (*flows.Instance, error) {
	in, err := scanInstance(t.queryRow(qInstance, id))
	if err != nil {
		return nil, fmt.Errorf("get instance %d: %w", id, mapErr(err))
	}
	return in, nil
}

// InstanceByNumber returns the instance numbered number or flows.ErrNotFound.
func (t *tx) InstanceByNumber(number string) (*flows.Instance, error) {
	in, err := scanInstance(t.queryRow(qInstanceByNumber, number))
	if err != nil {
		return nil, fmt.Errorf("get instance %q: %w", number, mapErr(err))
	}
	return in, nil
}

// UpdateInstance writes in if the stored Rev equals in.Rev and then
// increments in.Rev; otherwise flows.ErrConflict (or flows.ErrNotFound).
func (t *tx) UpdateInstance(in *flows.Instance) error {
	if err := t.mustWrite("update instance"); err != nil {
		return err
	}
	if in == nil {
		return errors.New("update instance: nil instance")
	}
	res, err := t.exec(qUpdInstanceFast, in.FlowVersion, string(in.Status), blob(in.Form),
		in.StepIndex, in.StepID, ms(in.UpdatedAt), nms(in.ClosedAt), nms(in.LastUrgeAt),
		in.ID, in.Rev, in.Number, in.FlowID, in.Applicant, ms(in.CreatedAt))
	if err != nil {
		return fmt.Errorf("update instance %d: %w", in.ID, mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update instance %d: %w", in.ID, err)
	} else if n == 1 {
		in.Rev++
		return nil
	}
	// Stale, missing, or an identity column changed: the full statement.
	res, err = t.exec(qUpdInstance, in.Number, in.FlowID, in.FlowVersion, in.Applicant,
		string(in.Status), blob(in.Form), in.StepIndex, in.StepID, ms(in.CreatedAt), ms(in.UpdatedAt),
		nms(in.ClosedAt), nms(in.LastUrgeAt), in.ID, in.Rev)
	if err != nil {
		return fmt.Errorf("update instance %d: %w", in.ID, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update instance %d: %w", in.ID, err)
	}
	if n == 0 {
		var c int
		if err := t.queryRow(qInstanceExists, in.ID).Scan(&c); err != nil {
			return fmt.Errorf("update instance %d: %w", in.ID, err)
		}
		if c == 0 {
			return fmt.Errorf("update instance %d: %w", in.ID, flows.ErrNotFound)
		}
		return fmt.Errorf("update instance %d at rev %d: %w", in.ID, in.Rev, flows.ErrConflict)
	}
	in.Rev++
	return nil
}

// CreateTask inserts tk and sets tk.ID.
func (t *tx) CreateTask(tk *flows.Task) error {
	if err := t.mustWrite("create task"); err != nil {
		return err
	}
	if tk == nil {
		return errors.New("create task: nil task")
	}
	res, err := t.exec(qInsTask, taskArgs(tk)...)
	if err != nil {
		return fmt.Errorf("create task of instance %d: %w", tk.InstanceID, mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("create task of instance %d: %w", tk.InstanceID, err)
	}
	tk.ID = id
	return nil
}

func taskArgs(tk *flows.Task, extra ...any) []any {
	return append([]any{tk.InstanceID, tk.StepID, tk.Seq, tk.Assignee, string(tk.Status), tk.Comment, tk.DecidedBy,
		b2i(tk.Auto), ms(tk.CreatedAt), nms(tk.StartedAt), nms(tk.DecidedAt), nms(tk.RemindAt), nms(tk.EscalateAt),
		nms(tk.TimeoutAt), nms(tk.DueAt), tk.Reminders, b2i(tk.Escalated), tk.From, tk.Note, tk.OnBehalfOf}, extra...)
}

// Task returns task id or flows.ErrNotFound.
func (t *tx) Task(id int64) (*flows.Task, error) {
	tk, err := scanTask(t.queryRow(qTask, id))
	if err != nil {
		return nil, fmt.Errorf("get task %d: %w", id, mapErr(err))
	}
	return tk, nil
}

// UpdateTask overwrites tk; flows.ErrNotFound when it does not exist.
func (t *tx) UpdateTask(tk *flows.Task) error {
	if err := t.mustWrite("update task"); err != nil {
		return err
	}
	if tk == nil {
		return errors.New("update task: nil task")
	}
	args := taskArgs(tk, tk.ID)
	res, err := t.exec(qUpdTaskFast, append(args[1:len(args):len(args)], tk.InstanceID)...)
	if err != nil {
		return fmt.Errorf("update task %d: %w", tk.ID, mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update task %d: %w", tk.ID, err)
	} else if n == 1 {
		return nil
	}
	// Missing, or moved to another instance: the full statement.
	res, err = t.exec(qUpdTask, args...)
	if err != nil {
		return fmt.Errorf("update task %d: %w", tk.ID, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update task %d: %w", tk.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update task %d: %w", tk.ID, flows.ErrNotFound)
	}
	return nil
}

// TasksOf returns the tasks of an instance ordered by id.
func (t *tx) TasksOf(instanceID int64) ([]*flows.Task, error) {
	ts, err := queryAll(t, qTasksOf, scanTask, instanceID)
	if err != nil {
		return nil, fmt.Errorf("list tasks of instance %d: %w", instanceID, err)
	}
	return ts, nil
}

// DueTasks returns up to limit (<= 0: 100) pending tasks with DueAt <= now,
// earliest first, through the partial index tasks_due.
func (t *tx) DueTasks(now time.Time, limit int) ([]*flows.Task, error) {
	if limit <= 0 {
		limit = 100
	}
	ts, err := queryAll(t, qDueTasks, scanTask, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("list due tasks: %w", err)
	}
	return ts, nil
}

// AppendEvent inserts e and sets e.ID.
func (t *tx) AppendEvent(e *flows.Event) error {
	if err := t.mustWrite("append event"); err != nil {
		return err
	}
	if e == nil {
		return errors.New("append event: nil event")
	}
	res, err := t.exec(qInsEvent, e.InstanceID, e.TaskID, e.FlowID, e.StepID, string(e.Type),
		e.Actor, b2i(e.Auto), blob(e.Data), ms(e.At))
	if err != nil {
		return fmt.Errorf("append event %s of instance %d: %w", e.Type, e.InstanceID, mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("append event %s of instance %d: %w", e.Type, e.InstanceID, err)
	}
	e.ID = id
	return nil
}

// EventsOf returns the events of an instance in order.
func (t *tx) EventsOf(instanceID int64) ([]*flows.Event, error) {
	es, err := queryAll(t, qEventsOf, scanEvent, instanceID)
	if err != nil {
		return nil, fmt.Errorf("list events of instance %d: %w", instanceID, err)
	}
	return es, nil
}

// Enqueue inserts m as a pending message and sets m.ID and m.Status.
func (t *tx) Enqueue(m *flows.OutboxMessage) error {
	if err := t.mustWrite("enqueue"); err != nil {
		return err
	}
	if m == nil {
		return errors.New("enqueue: nil message")
	}
	if m.Kind == "" {
		return errors.New("enqueue: message without kind")
	}
	next := m.NextAt
	until, taken := t.take(m)
	if taken {
		next = until
	}
	id, err := t.insertOutbox(m, next)
	if err != nil {
		if taken {
			t.req.taker.Untake(1)
		}
		return err
	}
	m.ID, m.Status, m.Attempts, m.LastError, m.DeliveredAt = id, flows.OutboxPending, 0, "", nil
	if taken {
		// The sender gets a copy, due at its lease's end as written: the
		// caller keeps m as it asked for it.
		c := *m
		c.NextAt = fromMS(ms(next))
		t.req.taken = append(t.req.taken, &c)
	}
	return nil
}

// insertOutbox writes m due at next and returns its id.
func (t *tx) insertOutbox(m *flows.OutboxMessage, next time.Time) (int64, error) {
	res, err := t.exec(qEnqueue, string(m.Kind), m.Recipient, m.InstanceID, m.TaskID, m.StepID,
		blob(m.Data), ms(next), ms(m.CreatedAt))
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", m.Kind, mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", m.Kind, err)
	}
	return id, nil
}

func queryAll[T any](t *tx, q string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scan)
}

func collect[T any](rows rowsIter, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// User, UsersWithRole, Department and Flow read on the reader pool: in WAL
// mode readers never wait for the single writer, so an operation holding
// the writer can read without any risk of waiting on itself.
func (t *tx) User(id string) (*flows.User, error) { return t.db.User(t.ctx, id) }
func (t *tx) UsersWithRole(role string) ([]*flows.User, error) {
	return t.db.UsersWithRole(t.ctx, role)
}
func (t *tx) Department(id string) (*flows.Department, error) { return t.db.Department(t.ctx, id) }
func (t *tx) Flow(id string, v int) (*flows.FlowVersion, error) {
	return t.db.Flow(t.ctx, id, v)
}
