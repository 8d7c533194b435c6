package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
)

// Reads ahead in a View. The engine opens a task to decide on it by
// reading the task, then its instance, then the instance's tasks: three
// round trips, one after the other, since each needs the one before. In a
// View (never in Update, where an operation must read its own writes),
// Task sends the three queries in one round trip, the last two finding
// the instance through the task, and keeps the instance and the tasks
// for the next Instance and TasksOf calls of that View, each answered
// from them once. A View's reads have READ COMMITTED's isolation: each
// statement sees what was committed when it started; the three sent
// together see what was committed when they ran, just before the calls
// they answer.

// prefetched is what a View's Task read fetched ahead; a nil
// *prefetched holds nothing.
type prefetched struct {
	in     *flows.Instance
	instID int64 // whose tasks are in tasks
	tasks  []*flows.Task
	tasked bool // tasks was fetched (an instance may have none)
}

// instance returns the instance fetched ahead if it is id, once.
func (p *prefetched) instance(id int64) *flows.Instance {
	if p == nil || p.in == nil || p.in.ID != id {
		return nil
	}
	in := p.in
	p.in = nil
	return in
}

// tasksOf returns the tasks fetched ahead if they are instanceID's, once.
func (p *prefetched) tasksOf(instanceID int64) ([]*flows.Task, bool) {
	if p == nil || !p.tasked || p.instID != instanceID {
		return nil, false
	}
	ts := p.tasks
	p.tasks, p.tasked = nil, false
	return ts, true
}

const (
	qTaskByID       = `SELECT ` + taskCols + ` FROM tasks WHERE id = $1`
	qInstanceOfTask = `SELECT ` + instanceCols + ` FROM instances WHERE id = (SELECT instance_id FROM tasks WHERE id = $1)`
	qSiblingsOfTask = `SELECT ` + taskCols + ` FROM tasks WHERE instance_id = (SELECT instance_id FROM tasks WHERE id = $1) ORDER BY id`
)

// taskAhead is Task in a View: the task, its instance and the instance's
// tasks in one round trip.
func (t *tx) taskAhead(id int64) (*flows.Task, error) {
	b := &pgx.Batch{}
	b.Queue(qTaskByID, id)
	b.Queue(qInstanceOfTask, id)
	b.Queue(qSiblingsOfTask, id)
	br := t.tx.SendBatch(t.ctx, b)
	tk, err := scanTask(br.QueryRow())
	if err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("get task %d: %w", id, mapErr(err))
	}
	p := &prefetched{instID: tk.InstanceID}
	in, err := scanInstance(br.QueryRow())
	if err == nil {
		p.in = in
	}
	rows, qerr := br.Query()
	if qerr == nil {
		p.tasks, qerr = collect(rows, scanTask)
		p.tasked = qerr == nil
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("get task %d: %w", id, mapErr(err))
	}
	t.pre = p
	return tk, nil
}
