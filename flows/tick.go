package flows

import (
	"context"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// tickBatch is how many due tasks one Tick transaction handles.
const tickBatch = 100

// Tick runs the reminders, escalations and timeouts due at now. Due tasks
// are found through the store's due-time index; each batch is one
// transaction. A reminder that is late (the process was down, the clock
// jumped) is sent once, not once per missed interval.
func (e *Engine) Tick(ctx context.Context, now time.Time) (TickResult, error) {
	var total TickResult
	now = now.UTC()
	for range 1000 { // bounded: every handled task's due time moves past now
		var res TickResult
		var n int
		_, err := e.run(ctx, "tick", func(o *op) error {
			res, n = TickResult{}, 0
			o.now = now
			due, err := o.tx.DueTasks(now, tickBatch)
			if err != nil {
				return fmt.Errorf("find due tasks: %w", err)
			}
			n = len(due)
			for _, t := range due {
				if err := e.tickTask(o, t.ID, &res); err != nil {
					return fmt.Errorf("task %d: %w", t.ID, err)
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total.Reminded += res.Reminded
		total.Escalated += res.Escalated
		total.TimedOut += res.TimedOut
		if n < tickBatch {
			return total, nil
		}
	}
	return total, nil
}

// tickTask handles whatever is due on one task.
func (e *Engine) tickTask(o *op, id int64, res *TickResult) error {
	t0, err := o.tx.Task(id)
	if err != nil {
		return fmt.Errorf("load task: %w", err)
	}
	l, err := e.load(o, t0.InstanceID)
	if err != nil {
		return err
	}
	t := l.task(id)
	if t == nil || t.Status != TaskPending || !l.in.Status.Open() {
		t0.DueAt = nil // stale: nothing can be due on a closed task
		return o.saveTask(t0)
	}
	s, _ := l.def.Step(t.StepID)
	if s == nil {
		return fmt.Errorf("step %s not in flow %s v%d", t.StepID, l.def.ID, l.in.FlowVersion)
	}
	dl := l.def.DeadlineOf(s)
	due := func(at *time.Time) bool { return at != nil && !at.After(o.now) }

	if due(t.TimeoutAt) {
		t.TimeoutAt = nil
		res.TimedOut++
		approve := dl.OnTimeout == flowdef.TimeoutApprove
		if err := o.event(l.in, t, EvTimedOut, System, true, map[string]any{"action": dl.OnTimeout}); err != nil {
			return err
		}
		if dl.OnTimeout == flowdef.TimeoutApprove || dl.OnTimeout == flowdef.TimeoutReject {
			comment := "auto-rejected on timeout / 超时自动拒绝"
			if approve {
				comment = "auto-approved on timeout / 超时自动同意"
			}
			if err := e.decide(o, l, t, System, approve, comment, true, "", ""); err != nil {
				return err
			}
			return o.save(l.in)
		}
	}
	if due(t.EscalateAt) {
		t.EscalateAt = nil
		t.Escalated = true
		assignee, err := e.member(o.tx, t.Assignee)
		if err != nil {
			return err
		}
		sels := dl.EscalateTo
		if len(sels) == 0 {
			sels = []flowdef.Selector{{Kind: flowdef.SelManager, Level: 1}}
		}
		to, err := e.resolve(o.tx, sels, assignee, l.form)
		if err != nil {
			return err
		}
		for _, id := range to {
			if id == t.Assignee {
				continue
			}
			if err := o.send(MsgEscalation, id, l.in, t, map[string]any{"assignee": t.Assignee}); err != nil {
				return err
			}
		}
		if err := o.event(l.in, t, EvEscalated, System, true, map[string]any{"to": to}); err != nil {
			return err
		}
		// Every copy (the applicant's request card too) shows it.
		if err := o.send(MsgCardUpdate, "", l.in, t, nil); err != nil {
			return err
		}
		res.Escalated++
	}
	if due(t.RemindAt) {
		t.Reminders++
		t.RemindAt = nil
		if dl.RemindEvery > 0 {
			t.RemindAt = ptr(e.after(l.def, o.now, dl.RemindEvery))
		}
		if err := o.send(MsgReminder, t.Assignee, l.in, t, map[string]any{"count": t.Reminders}); err != nil {
			return err
		}
		if err := o.event(l.in, t, EvReminded, System, true, map[string]any{"count": t.Reminders}); err != nil {
			return err
		}
		res.Reminded++
	}
	setDue(t)
	if err := o.saveTask(t); err != nil {
		return err
	}
	return o.save(l.in)
}
