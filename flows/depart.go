package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// DepartResult says what happened to the open tasks of a user who left.
type DepartResult struct {
	Moved     []int64 // tasks handed to the step's fallback approvers
	Cancelled []int64 // tasks dropped (the step skips a missing approver)
	Numbers   []string
}

// Depart routes the open tasks of user, who left the organisation, by each
// step's empty-approver policy: with on_empty: fallback the task goes to
// the step's fallback approvers; otherwise it is cancelled, and a step left
// with no open task is done (or skipped when nobody decided it) and the
// request moves on. Every admin is told which requests were touched. Each
// task is routed in its own transaction; a user with no open task changes
// nothing.
func (e *Engine) Depart(ctx context.Context, user string) (*DepartResult, error) {
	if user == "" || user == System {
		return nil, fmt.Errorf("depart: bad user %q", user)
	}
	ts, err := e.store.Tasks(ctx, TaskFilter{Assignee: user, Status: []TaskStatus{TaskPending, TaskQueued}, Limit: 10000})
	if err != nil {
		return nil, fmt.Errorf("depart %s: list open tasks: %w", user, err)
	}
	res := &DepartResult{}
	for _, t := range ts {
		var moved, done bool
		out, err := e.run(ctx, "route task of departed user", func(o *op) error {
			var err error
			moved, done, err = e.departTask(o, t.ID, user)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("depart %s: task %d: %w", user, t.ID, err)
		}
		switch {
		case !done:
			continue
		case moved:
			res.Moved = append(res.Moved, t.ID)
		default:
			res.Cancelled = append(res.Cancelled, t.ID)
		}
		if out.Instance != nil && !slices.Contains(res.Numbers, out.Instance.Number) {
			res.Numbers = append(res.Numbers, out.Instance.Number)
		}
	}
	if len(res.Numbers) > 0 {
		if err := e.tellAdmins(ctx, user, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// departTask routes one open task of user; done is false when the task
// was no longer theirs to route.
func (e *Engine) departTask(o *op, id int64, user string) (moved, done bool, err error) {
	t0, err := o.tx.Task(id)
	if err != nil {
		return false, false, fmt.Errorf("load task %d: %w", id, err)
	}
	if t0.Assignee != user || !t0.Open() {
		return false, false, nil
	}
	l, err := e.load(o, t0.InstanceID)
	if err != nil {
		return false, false, err
	}
	t := l.task(id)
	if t == nil || !l.in.Status.Open() {
		return false, false, nil
	}
	s, idx := l.def.Step(t.StepID)
	if s == nil {
		return false, false, fmt.Errorf("task %d: step %s not in flow %s", id, t.StepID, l.def.ID)
	}
	wasPending := t.Status == TaskPending
	var to []string
	if s.OnEmpty == flowdef.EmptyFallback {
		ids, err := e.resolve(o.tx, s.Fallback, l.applicant, l.form)
		if err != nil {
			return false, false, err
		}
		for _, x := range ids {
			if x != user && x != l.in.Applicant && !hasOpenTask(l.tasks, s.ID, x) && !slices.Contains(to, x) {
				to = append(to, x)
			}
		}
	}
	if len(to) > 0 {
		o.closeTask(t, TaskTransferred, System, "", true)
		if err := o.saveTask(t); err != nil {
			return false, false, err
		}
		for _, x := range to {
			nt := &Task{InstanceID: t.InstanceID, StepID: t.StepID, Seq: t.Seq, Assignee: x, Status: TaskQueued, CreatedAt: o.now, From: user, Note: "departed"}
			if wasPending {
				e.startTask(nt, l.def, s, o.now)
			}
			if err := o.tx.CreateTask(nt); err != nil {
				return false, false, fmt.Errorf("create task: %w", err)
			}
			if err := o.event(l.in, t, EvTransferred, System, true, map[string]any{"from": user, "to": x, "reason": "departed", "task": nt.ID}); err != nil {
				return false, false, err
			}
			if wasPending {
				if err := o.send(MsgTask, x, l.in, nt, nil); err != nil {
					return false, false, err
				}
			}
		}
		if wasPending {
			if err := o.send(MsgCardUpdate, "", l.in, t, nil); err != nil {
				return false, false, err
			}
		}
		return true, true, o.save(l.in)
	}
	if err := o.cancelTasks(l.in, []*Task{t}, System); err != nil {
		return false, false, err
	}
	if err := o.event(l.in, t, EvCommented, System, true, map[string]any{"reason": "approver_departed", "assignee": user}); err != nil {
		return false, false, err
	}
	open := openTasks(l.tasks, s.ID)
	var pending, queued []*Task
	for _, x := range open {
		if x.Status == TaskPending {
			pending = append(pending, x)
		} else {
			queued = append(queued, x)
		}
	}
	if len(pending) > 0 {
		return false, true, o.save(l.in)
	}
	if len(queued) > 0 { // sequence: the next one's turn
		low := queued[0].Seq
		for _, x := range queued {
			low = min(low, x.Seq)
		}
		for _, x := range queued {
			if x.Seq == low {
				e.startTask(x, l.def, s, o.now)
				if err := o.saveTask(x); err != nil {
					return false, false, err
				}
				if err := o.send(MsgTask, x.Assignee, l.in, x, nil); err != nil {
					return false, false, err
				}
			}
		}
		return false, true, o.save(l.in)
	}
	decided := slices.ContainsFunc(stepTasks(l.tasks, s.ID), func(x *Task) bool { return x.Status == TaskApproved })
	if decided {
		err = o.event(l.in, nil, EvStepDone, System, true, nil)
	} else {
		err = o.event(l.in, nil, EvStepSkipped, System, true, map[string]any{"reason": "no_approver"})
	}
	if err != nil {
		return false, false, err
	}
	if err := e.advance(o, l.in, l.def, l.applicant, l.form, idx+1); err != nil {
		return false, false, err
	}
	return false, true, nil
}

// tellAdmins sends every admin the list of requests a departure touched.
func (e *Engine) tellAdmins(ctx context.Context, user string, res *DepartResult) error {
	admins, err := e.store.UsersWithRole(ctx, "admin")
	if err != nil {
		return fmt.Errorf("depart %s: list admins: %w", user, err)
	}
	if len(admins) == 0 {
		return nil
	}
	name := user
	if u, err := e.store.User(ctx, user); err == nil && u.Name != "" {
		name = u.Name + " (" + user + ")"
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("depart %s: %w", user, err)
	}
	list := strings.Join(res.Numbers, ", ")
	text := map[string]any{
		"zh": fmt.Sprintf("%s 已离职：%d 个待办已转给兜底审批人，%d 个已取消。涉及的申请：%s", name, len(res.Moved), len(res.Cancelled), list),
		"en": fmt.Sprintf("%s has left: %d open tasks went to the fallback approvers, %d were cancelled. Requests: %s", name, len(res.Moved), len(res.Cancelled), list),
	}
	_, err = e.run(ctx, "tell admins of a departure", func(o *op) error {
		for _, a := range admins {
			if a.Departed {
				continue
			}
			if err := o.send(MsgText, a.ID, nil, nil, map[string]any{"text": text}); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}
