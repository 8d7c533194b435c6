package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// maxAttempts bounds the retries of an operation that lost an optimistic
// race (ErrConflict) to another writer.
const maxAttempts = 20

// op is the state of one engine operation inside its transaction: the
// transaction, its single timestamp, and what it wrote.
type op struct {
	ctx context.Context
	tx  Tx
	now time.Time
	out *Outcome
}

// run executes fn in one store transaction with one timestamp, retrying the
// whole operation when it lost an optimistic race. The returned Outcome
// lists the events and outbox messages fn wrote.
func (e *Engine) run(ctx context.Context, what string, fn func(o *op) error) (*Outcome, error) {
	var out *Outcome
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		out = &Outcome{}
		err = e.store.Update(ctx, func(tx Tx) error {
			o := &op{ctx: ctx, tx: tx, now: e.clock.Now().UTC(), out: out}
			if err := fn(o); err != nil {
				return err
			}
			if out.Instance != nil {
				ts, err := tx.TasksOf(out.Instance.ID)
				if err != nil {
					return fmt.Errorf("list tasks: %w", err)
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
		if !errors.Is(err, ErrConflict) {
			break
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
