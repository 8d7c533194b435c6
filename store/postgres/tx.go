package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/internal/dircache"
)

// errReadOnly is returned by a write method of a View transaction.
var errReadOnly = errors.New("write in a read-only transaction (use Update)")

// tx implements flows.Tx. It lives only for one Update or View call, which
// is why it may carry that call's context.
type tx struct {
	ctx context.Context
	// tx is the transaction, or for a View on READ COMMITTED the pool
	// connection itself (postgres.go, View).
	tx    conn
	write bool
	// d queues statements inside a lane's batch (deferred.go); nil
	// elsewhere: every statement is sent at once.
	d *deferred
	// seqs names the identity sequences ids are taken from ahead (lanes).
	seqs *[nSeqs]string
	// dir caches users by id (dircache.go); nil: not cached.
	dir *dircache.Cache
	// pre holds what a View's Task read fetched ahead (prefetch.go).
	pre *prefetched
}

// conn is what a tx sends its statements through: a pgx.Tx or a
// *pgxpool.Conn.
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

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
	err := t.queryRow(`INSERT INTO sequences (key, value) VALUES ($1, 1)
		ON CONFLICT (key) DO UPDATE SET value = sequences.value + 1 RETURNING value`, key).Scan(&n)
	if err != nil {
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
	id, ok, err := t.newID(seqInstances)
	if err != nil {
		return fmt.Errorf("create instance %s: %w", in.Number, err)
	}
	args := []any{in.Number, in.FlowID, in.FlowVersion, in.Applicant, string(in.Status), blob(in.Form), in.StepIndex, in.StepID,
		ms(in.CreatedAt), ms(in.UpdatedAt), nms(in.ClosedAt), nms(in.LastUrgeAt)}
	if ok {
		err = t.queue("create instance "+in.Number, `INSERT INTO instances (number, flow_id, flow_version, applicant, status, form,
		step_index, step_id, created_at, updated_at, closed_at, last_urge_at, rev, id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13)`, append(args, id)...)
	} else {
		err = t.tx.QueryRow(t.ctx, `INSERT INTO instances (number, flow_id, flow_version, applicant, status, form,
		step_index, step_id, created_at, updated_at, closed_at, last_urge_at, rev)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1) RETURNING id`, args...).Scan(&id)
		err = mapErr(err)
	}
	if err != nil {
		return fmt.Errorf("create instance %s: %w", in.Number, err)
	}
	in.ID, in.Rev = id, 1
	return nil
}

// Instance returns instance id or flows.ErrNotFound.
func (t *tx) Instance(id int64) (*flows.Instance, error) {
	if in := t.pre.instance(id); in != nil {
		return in, nil
	}
	in, err := scanInstance(t.queryRow(`SELECT `+instanceCols+` FROM instances WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get instance %d: %w", id, mapErr(err))
	}
	return in, nil
}

// InstanceByNumber returns the instance numbered number or flows.ErrNotFound.
func (t *tx) InstanceByNumber(number string) (*flows.Instance, error) {
	if number == "" {
		return nil, fmt.Errorf("get instance by number: empty number: %w", flows.ErrNotFound)
	}
	in, err := scanInstance(t.queryRow(`SELECT `+instanceCols+` FROM instances WHERE number = $1`, number))
	if err != nil {
		return nil, fmt.Errorf("get instance %q: %w", number, mapErr(err))
	}
	return in, nil
}

// UpdateInstance writes in if the stored Rev equals in.Rev and then
// increments in.Rev; otherwise flows.ErrConflict (flows.ErrNotFound when
// the instance does not exist).
func (t *tx) UpdateInstance(in *flows.Instance) error {
	if err := t.mustWrite("update instance"); err != nil {
		return err
	}
	if in == nil {
		return errors.New("update instance: nil instance")
	}
	const q = `UPDATE instances SET number = $1, flow_id = $2, flow_version = $3, applicant = $4,
		status = $5, form = $6, step_index = $7, step_id = $8, created_at = $9, updated_at = $10, closed_at = $11,
		last_urge_at = $12, rev = rev + 1 WHERE id = $13 AND rev = $14`
	args := []any{in.Number, in.FlowID, in.FlowVersion, in.Applicant, string(in.Status), blob(in.Form), in.StepIndex, in.StepID,
		ms(in.CreatedAt), ms(in.UpdatedAt), nms(in.ClosedAt), nms(in.LastUrgeAt), in.ID, in.Rev}
	id, rev := in.ID, in.Rev
	// The instance is looked up again only when the update changed no row
	// (the CASE leaves its InitPlan "never executed").
	checked := `WITH u AS (` + q + ` RETURNING 1) SELECT c.n, CASE WHEN c.n > 0 THEN true
		ELSE EXISTS (SELECT 1 FROM instances WHERE id = $13) END FROM (SELECT count(*) AS n FROM u) c`
	if t.queueChecked(fmt.Sprintf("update instance %d", id), checked, func(br pgx.BatchResults) error {
		var n int
		var exists bool
		if err := br.QueryRow().Scan(&n, &exists); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		in.Rev = rev // a failed update does not move Rev
		if !exists {
			return fmt.Errorf("update instance %d: %w", id, flows.ErrNotFound)
		}
		// Moved on: the engine's retry reads it again.
		return fmt.Errorf("update instance %d at rev %d: %w", id, rev, flows.ErrConflict)
	}, args...) {
		in.Rev++
		return nil
	}
	tag, err := t.exec(q, args...)
	if err != nil {
		return fmt.Errorf("update instance %d: %w", in.ID, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM instances WHERE id = $1)`, in.ID).Scan(&exists); err != nil {
			return fmt.Errorf("update instance %d: %w", in.ID, mapErr(err))
		}
		if !exists {
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
	id, ok, err := t.newID(seqTasks)
	if err != nil {
		return fmt.Errorf("create task of instance %d: %w", tk.InstanceID, err)
	}
	if ok {
		err = t.queue(fmt.Sprintf("create task of instance %d", tk.InstanceID), `INSERT INTO tasks (instance_id, step_id, seq, assignee, status, comment, decided_by,
		auto, created_at, started_at, decided_at, remind_at, escalate_at, timeout_at, due_at, reminders, escalated,
		from_user, note, on_behalf_of, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
			append(taskArgs(tk), id)...)
	} else {
		err = mapErr(t.tx.QueryRow(t.ctx, `INSERT INTO tasks (instance_id, step_id, seq, assignee, status, comment, decided_by,
		auto, created_at, started_at, decided_at, remind_at, escalate_at, timeout_at, due_at, reminders, escalated,
		from_user, note, on_behalf_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		RETURNING id`, taskArgs(tk)...).Scan(&id))
	}
	if err != nil {
		return fmt.Errorf("create task of instance %d: %w", tk.InstanceID, err)
	}
	tk.ID = id
	return nil
}

// Task returns task id or flows.ErrNotFound.
func (t *tx) Task(id int64) (*flows.Task, error) {
	if !t.write {
		return t.taskAhead(id)
	}
	tk, err := scanTask(t.queryRow(`SELECT `+taskCols+` FROM tasks WHERE id = $1`, id))
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
	const q = `UPDATE tasks SET instance_id = $1, step_id = $2, seq = $3, assignee = $4,
		status = $5, comment = $6, decided_by = $7, auto = $8, created_at = $9, started_at = $10, decided_at = $11,
		remind_at = $12, escalate_at = $13, timeout_at = $14, due_at = $15, reminders = $16, escalated = $17,
		from_user = $18, note = $19, on_behalf_of = $20 WHERE id = $21`
	id := tk.ID
	notFound := func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("update task %d: %w", id, flows.ErrNotFound)
		}
		return nil
	}
	if t.queueChecked(fmt.Sprintf("update task %d", id), q, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err != nil {
			return err
		}
		return notFound(tag)
	}, append(taskArgs(tk), id)...) {
		return nil
	}
	tag, err := t.exec(q, append(taskArgs(tk), id)...)
	if err != nil {
		return fmt.Errorf("update task %d: %w", id, mapErr(err))
	}
	return notFound(tag)
}

// TasksOf returns the tasks of an instance ordered by id.
func (t *tx) TasksOf(instanceID int64) ([]*flows.Task, error) {
	if ts, ok := t.pre.tasksOf(instanceID); ok {
		return ts, nil
	}
	ts, err := queryAll(t, scanTask, `SELECT `+taskCols+` FROM tasks WHERE instance_id = $1 ORDER BY id`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("list tasks of instance %d: %w", instanceID, mapErr(err))
	}
	return ts, nil
}

// DueTasks returns up to limit (<= 0: 100) pending tasks with DueAt <= now,
// earliest first, through the partial index tasks_due.
func (t *tx) DueTasks(now time.Time, limit int) ([]*flows.Task, error) {
	ts, err := queryAll(t, scanTask, `SELECT `+taskCols+` FROM tasks WHERE status = 'pending' AND due_at <= $1
		ORDER BY due_at, id LIMIT $2`, ms(now), cmpOr(limit, 100))
	if err != nil {
		return nil, fmt.Errorf("list due tasks: %w", mapErr(err))
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
	if err := checkText("flow", e.FlowID, "step", e.StepID, "type", string(e.Type), "actor", e.Actor); err != nil {
		return fmt.Errorf("append event %s of instance %d: %w", e.Type, e.InstanceID, err)
	}
	id, ok, err := t.newID(seqEvents)
	if err != nil {
		return fmt.Errorf("append event %s of instance %d: %w", e.Type, e.InstanceID, err)
	}
	if ok {
		// Held for the batch's multi-row insert (held.go).
		t.d.h.ev.rows = append(t.d.h.ev.rows, evRow{inst: e.InstanceID, task: e.TaskID, flow: e.FlowID, step: e.StepID,
			typ: string(e.Type), actr: e.Actor, auto: e.Auto, data: blob(e.Data), at: ms(e.At), id: id})
	} else {
		args := []any{e.InstanceID, e.TaskID, e.FlowID, e.StepID, string(e.Type), e.Actor, e.Auto, blob(e.Data), ms(e.At)}
		err = mapErr(t.tx.QueryRow(t.ctx, `INSERT INTO events (instance_id, task_id, flow_id, step_id, type, actor, auto, data, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, args...).Scan(&id))
	}
	if err != nil {
		return fmt.Errorf("append event %s of instance %d: %w", e.Type, e.InstanceID, err)
	}
	e.ID = id
	return nil
}

// EventsOf returns the events of an instance in order.
func (t *tx) EventsOf(instanceID int64) ([]*flows.Event, error) {
	if t.d != nil {
		// The events held in the lane are sent first (held.go).
		if p, ok := t.d.h.unsentEvents(); ok {
			t.d.stmts = append(t.d.stmts, p)
		}
	}
	es, err := queryAll(t, scanEvent, `SELECT `+eventCols+` FROM events WHERE instance_id = $1 ORDER BY id`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("list events of instance %d: %w", instanceID, mapErr(err))
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
	if err := checkText("kind", string(m.Kind), "recipient", m.Recipient, "step", m.StepID); err != nil {
		return fmt.Errorf("enqueue %s: %w", m.Kind, err)
	}
	id, ok, err := t.newID(seqOutbox)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", m.Kind, err)
	}
	if ok {
		// Held for the batch's multi-row insert (held.go).
		t.d.h.ob.rows = append(t.d.h.ob.rows, obRow{kind: string(m.Kind), rcpt: m.Recipient, inst: m.InstanceID, task: m.TaskID,
			step: m.StepID, data: blob(m.Data), next: ms(m.NextAt), at: ms(m.CreatedAt), id: id})
	} else {
		args := []any{string(m.Kind), m.Recipient, m.InstanceID, m.TaskID, m.StepID, blob(m.Data), ms(m.NextAt), ms(m.CreatedAt)}
		err = mapErr(t.tx.QueryRow(t.ctx, `INSERT INTO outbox (kind, recipient, instance_id, task_id, step_id, data, status,
		attempts, next_at, last_error, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, '', $8) RETURNING id`, args...).Scan(&id))
	}
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", m.Kind, err)
	}
	m.ID, m.Status, m.Attempts, m.LastError, m.DeliveredAt = id, flows.OutboxPending, 0, "", nil
	return nil
}

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// User, UsersWithRole, Department and Flow read on the transaction's own
// connection: an operation never waits for a second pool connection while
// it holds one.
func (t *tx) User(id string) (*flows.User, error) {
	var gen uint64
	if t.dir != nil {
		var u *flows.User
		if u, gen = t.dir.Get(dirStamp(t.queryRow), id); u != nil {
			return u, nil
		}
	}
	u, err := scanUser(t.queryRow(userByID, id))
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, mapErr(err))
	}
	if t.dir != nil {
		t.dir.Put(gen, u)
	}
	return u, nil
}

func (t *tx) UsersWithRole(role string) ([]*flows.User, error) {
	us, err := queryAll(t, scanUser, usersByRole, role)
	if err != nil {
		return nil, fmt.Errorf("list users with role %s: %w", role, err)
	}
	return us, nil
}

func (t *tx) Department(id string) (*flows.Department, error) {
	d, err := scanDept(t.queryRow(deptByID, id))
	if err != nil {
		return nil, fmt.Errorf("get department %s: %w", id, mapErr(err))
	}
	return d, nil
}

func (t *tx) Flow(id string, v int) (*flows.FlowVersion, error) {
	if v < 0 {
		return nil, fmt.Errorf("get flow %s version %d: negative version: %w", id, v, flows.ErrNotFound)
	}
	q, args := flowQuery(id, v)
	fv, err := scanFlow(t.queryRow(q, args...))
	if err != nil {
		return nil, fmt.Errorf("get flow %s version %d: %w", id, v, mapErr(err))
	}
	return fv, nil
}
