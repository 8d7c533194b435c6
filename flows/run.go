package flows

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// maxAttempts bounds the retries of an operation that lost an optimistic
// race (ErrConflict) to another writer.
const maxAttempts = 20

// op is the state of one engine operation inside its transaction: the
// transaction, its single timestamp (in whole milliseconds, as the
// stores keep it), and what it wrote.
type op struct {
	ctx context.Context
	tx  Tx
	now time.Time
	out *Outcome
	pre *preread // read before the write transaction; nil once taken
}

// run executes fn in one store transaction with one timestamp, retrying the
// whole operation when it lost an optimistic race. The returned Outcome
// lists the events and outbox messages fn wrote.
func (e *Engine) run(ctx context.Context, what string, fn func(o *op) error) (*Outcome, error) {
	return e.runPre(ctx, what, nil, fn)
}

// runPre is run with a read done before the write transaction: pre reads
// (in a read transaction of its own, so without holding the store's
// writer) what fn would otherwise read inside it, or returns nil. Its
// result serves the first attempt only, and only if the instance it read
// is still at the revision it read: fn's writes end with UpdateInstance
// under that revision, or else the revision is checked when fn returns; a
// moved revision is ErrConflict, and the retry reads inside the write.
func (e *Engine) runPre(ctx context.Context, what string, pre func(ctx context.Context) *preread, fn func(o *op) error) (*Outcome, error) {
	var out *Outcome
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		out = &Outcome{}
		var p *preread
		if attempt == 0 && pre != nil {
			p = pre(ctx)
		}
		var tracked []*taskTracker // one per call of the callback (a store may call it again)
		hooked := false            // the outcome is recorded as it commits (AfterCommitter)
		err = e.store.Update(ctx, func(stx Tx) error {
			tx := &taskTracker{Tx: stx}
			tracked = append(tracked, tx)
			o := &op{ctx: ctx, tx: tx, now: e.clock.Now().UTC().Truncate(time.Millisecond), out: out, pre: p}
			if p != nil {
				tx.guard, tx.guardRev = p.in.ID, p.in.Rev
			}
			ferr := fn(o)
			if p != nil && o.pre == nil && !tx.guarded {
				// The read was used but nothing wrote the instance under
				// its revision: check that it has not moved, also when fn
				// refused (a task not yet its approver's turn in the read
				// may be by now).
				in, err := stx.Instance(p.in.ID)
				switch {
				case err != nil && ferr != nil:
					return ferr
				case err != nil:
					return fmt.Errorf("check instance %d: %w", p.in.ID, err)
				case in.Rev != tx.guardRev:
					return fmt.Errorf("instance %d moved from rev %d to %d since it was read: %w", in.ID, tx.guardRev, in.Rev, ErrConflict)
				}
			}
			if ferr != nil {
				return ferr
			}
			defer func() {
				// Recorded in commit order, once out is complete.
				if ac, ok := stx.(AfterCommitter); ok {
					e.recentViews.Store(true)
					hooked = true
					in, ts, evs, wrote, from := out.Instance, out.Tasks, out.Events, tx.wrote, int64(0)
					if in != nil {
						from = tx.readAt[in.ID]
					}
					ac.AfterCommit(func() { e.recent.committed(in, ts, evs, wrote, from) })
				}
			}()
			if out.Instance != nil {
				ts, ok := tx.tasksOf(out.Instance.ID)
				if !ok {
					var err error
					if ts, err = stx.TasksOf(out.Instance.ID); err != nil {
						return fmt.Errorf("list tasks: %w", err)
					}
				}
				out.Tasks = ts
				if out.Task != nil {
					for _, t := range ts {
						if t.ID == out.Task.ID {
							out.Task = t
						}
					}
				}
			}
			return nil
		})
		if slices.ContainsFunc(tracked, func(t *taskTracker) bool { return t.delegWrote }) {
			// Committed or not, this engine's delegation cache may hold
			// what the operation read or wrote: empty it.
			e.delegs.invalidate()
		}
		if err == nil && out.Instance != nil && !hooked {
			e.recent.put(out.Instance, out.Tasks)
		}
		if !errors.Is(err, ErrConflict) {
			break
		}
		if p != nil {
			e.recent.drop(p.in.ID)
		}
	}
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return nil, fe
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// event appends an event of the instance.
func (o *op) event(in *Instance, t *Task, typ EventType, actor string, auto bool, data map[string]any) error {
	ev := &Event{InstanceID: in.ID, FlowID: in.FlowID, StepID: in.StepID, Type: typ, Actor: actor, Auto: auto, At: o.now}
	if t != nil {
		ev.TaskID = t.ID
		ev.StepID = t.StepID
	}
	if len(data) > 0 {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("encode event data: %w", err)
		}
		ev.Data = b
	}
	if err := o.tx.AppendEvent(ev); err != nil {
		return fmt.Errorf("append %s event: %w", typ, err)
	}
	o.out.Events = append(o.out.Events, ev)
	return nil
}

// send enqueues an outbox message about the instance (and task).
func (o *op) send(kind MsgKind, to string, in *Instance, t *Task, data map[string]any) error {
	m := &OutboxMessage{Kind: kind, Recipient: to, Status: OutboxPending, NextAt: o.now, CreatedAt: o.now}
	if in != nil {
		m.InstanceID = in.ID
		m.StepID = in.StepID
	}
	if t != nil {
		m.TaskID = t.ID
		m.StepID = t.StepID
	}
	if len(data) > 0 {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("encode message data: %w", err)
		}
		m.Data = b
	}
	if err := o.tx.Enqueue(m); err != nil {
		return fmt.Errorf("enqueue %s message: %w", kind, err)
	}
	o.out.Outbox = append(o.out.Outbox, m)
	return nil
}

// save writes the instance under its optimistic lock.
func (o *op) save(in *Instance) error {
	in.UpdatedAt = o.now
	if err := o.tx.UpdateInstance(in); err != nil {
		return fmt.Errorf("update instance %d: %w", in.ID, err)
	}
	return nil
}

func (o *op) saveTask(t *Task) error {
	if err := o.tx.UpdateTask(t); err != nil {
		return fmt.Errorf("update task %d: %w", t.ID, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// taskTracker follows the tasks of one instance through an operation, so
// that the outcome's task list need not be read again at the end: it is
// known exactly when the operation created the instance or read its tasks,
// and every task it wrote since is one of those or one it created.
type taskTracker struct {
	Tx
	instance int64 // the instance whose tasks are known; 0: none
	tasks    []*Task
	inexact  bool

	// guard is the instance read before the transaction (runPre) at
	// revision guardRev; guarded says an UpdateInstance succeeded from
	// that revision, which proves the read was still current.
	guard, guardRev int64
	guarded         bool

	// delegWrote says the operation saved or ended a delegation: its
	// reads of delegations bypass the engine's cache (delegate.go).
	delegWrote bool

	// For the engine's recent states (recent.go): the instances the
	// operation wrote (their rows, tasks or events), and the revision
	// each was first read at (0: the operation created it).
	wrote  []int64
	readAt map[int64]int64
}

// read records the revision in was first read at in the operation.
func (t *taskTracker) read(in *Instance) {
	if t.readAt == nil {
		t.readAt = map[int64]int64{}
	}
	if _, ok := t.readAt[in.ID]; !ok {
		t.readAt[in.ID] = in.Rev
	}
}

func (t *taskTracker) wrote1(instanceID int64) {
	if !slices.Contains(t.wrote, instanceID) {
		t.wrote = append(t.wrote, instanceID)
	}
}

func (t *taskTracker) Instance(id int64) (*Instance, error) {
	in, err := t.Tx.Instance(id)
	if err == nil {
		t.read(in)
	}
	return in, err
}

func (t *taskTracker) InstanceByNumber(number string) (*Instance, error) {
	in, err := t.Tx.InstanceByNumber(number)
	if err == nil {
		t.read(in)
	}
	return in, err
}

func (t *taskTracker) AppendEvent(e *Event) error {
	if err := t.Tx.AppendEvent(e); err != nil {
		return err
	}
	t.wrote1(e.InstanceID)
	return nil
}

func (t *taskTracker) UpdateInstance(in *Instance) error {
	rev := in.Rev
	if err := t.Tx.UpdateInstance(in); err != nil {
		return err
	}
	t.wrote1(in.ID)
	if in.ID == t.guard && rev == t.guardRev {
		t.guarded = true
	}
	return nil
}

// known records the tasks of an instance read before the transaction, as
// TasksOf would.
func (t *taskTracker) known(instanceID int64, ts []*Task) {
	if t.instance == 0 || t.instance == instanceID {
		t.instance, t.tasks = instanceID, slices.Clone(ts)
	} else {
		t.inexact = true
	}
}

func (t *taskTracker) CreateInstance(in *Instance) error {
	if err := t.Tx.CreateInstance(in); err != nil {
		return err
	}
	t.read(&Instance{ID: in.ID}) // at revision 0: created here
	t.wrote1(in.ID)
	if t.instance == 0 {
		t.instance, t.tasks = in.ID, nil
	} else {
		t.inexact = true
	}
	return nil
}

func (t *taskTracker) TasksOf(instanceID int64) ([]*Task, error) {
	ts, err := t.Tx.TasksOf(instanceID)
	if err != nil {
		return nil, err
	}
	if t.instance == 0 || t.instance == instanceID {
		t.instance, t.tasks = instanceID, slices.Clone(ts)
	} else {
		t.inexact = true
	}
	return ts, nil
}

func (t *taskTracker) CreateTask(tk *Task) error {
	if err := t.Tx.CreateTask(tk); err != nil {
		return err
	}
	t.wrote1(tk.InstanceID)
	if tk.InstanceID == t.instance {
		t.tasks = append(t.tasks, tk)
	}
	return nil
}

func (t *taskTracker) UpdateTask(tk *Task) error {
	if err := t.Tx.UpdateTask(tk); err != nil {
		return err
	}
	t.wrote1(tk.InstanceID)
	if !slices.Contains(t.tasks, tk) {
		t.inexact = true // written through another copy: read the list again
	}
	return nil
}

// tasksOf returns the tasks of instance ordered by id, as stored now, when
// they are known exactly.
func (t *taskTracker) tasksOf(instance int64) ([]*Task, bool) {
	if t.inexact || instance == 0 || instance != t.instance {
		return nil, false
	}
	ts := slices.Clone(t.tasks)
	slices.SortFunc(ts, func(a, b *Task) int { return cmp.Compare(a.ID, b.ID) })
	return ts, true
}
