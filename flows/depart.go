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
	// Returned are the tasks the user held as a delegate, given back to
	// the approver they were meant for.
	Returned []int64
	// Ended are the delegations to the user that were ended (ids).
	Ended   []int64
	Numbers []string
}

// Depart routes the open tasks of user, who left the organisation, by each
// step's empty-approver policy: with on_empty: fallback the task goes to
// the step's fallback approvers; otherwise it is cancelled, and a step left
// with no open task is done (or skipped when nobody decided it) and the
// request moves on. Every admin is told which requests were touched. Each
// task is routed in its own transaction; a user with no open task changes
// nothing.
//
// The delegations to user end first (each delegator is told), and the
// tasks user holds as a delegate go back to the approver they were meant
// for when that approver is still there; otherwise the step's policy
// applies as to any other task of user.
func (e *Engine) Depart(ctx context.Context, user string) (*DepartResult, error) {
	if user == "" || user == System {
		return nil, fmt.Errorf("depart: bad user %q", user)
	}
	res := &DepartResult{}
	if err := e.endDelegationsTo(ctx, user, res); err != nil {
		return res, err
	}
	ts, err := e.store.Tasks(ctx, TaskFilter{Assignee: user, Status: []TaskStatus{TaskPending, TaskQueued}, Limit: 10000})
	if err != nil {
		return res, fmt.Errorf("depart %s: list open tasks: %w", user, err)
	}
	for _, t := range ts {
		var moved, returned, done bool
		out, err := e.run(ctx, "route task of departed user", func(o *op) error {
			var err error
			if returned, err = e.returnTask(o, t.ID, user); err != nil || returned {
				done = returned
				return err
			}
			moved, done, err = e.departTask(o, t.ID, user)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("depart %s: task %d: %w", user, t.ID, err)
		}
		switch {
		case !done:
			continue
		case returned:
			res.Returned = append(res.Returned, t.ID)
		case moved:
			res.Moved = append(res.Moved, t.ID)
		default:
			res.Cancelled = append(res.Cancelled, t.ID)
		}
		if out.Instance != nil && !slices.Contains(res.Numbers, out.Instance.Number) {
			res.Numbers = append(res.Numbers, out.Instance.Number)
		}
	}
	if len(res.Moved)+len(res.Cancelled) > 0 {
		if err := e.tellAdmins(ctx, user, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// endDelegationsTo ends the delegations to user, who left, and tells each
// delegator, in one transaction.
func (e *Engine) endDelegationsTo(ctx context.Context, user string, res *DepartResult) error {
	name := user
	if u, err := e.store.User(ctx, user); err == nil && u.Name != "" {
		name = u.Name + " (" + user + ")"
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("depart %s: %w", user, err)
	}
	_, err := e.run(ctx, "end delegations to a departed user", func(o *op) error {
		res.Ended = nil
		ds, err := o.tx.DelegationsTo(user, o.now)
		if err != nil {
			return fmt.Errorf("list delegations to %s: %w", user, err)
		}
		for _, d := range ds {
			if err := o.tx.EndDelegation(d.ID, o.now); err != nil {
				return fmt.Errorf("end delegation %d: %w", d.ID, err)
			}
			res.Ended = append(res.Ended, d.ID)
			if from, err := o.tx.User(d.From); err != nil || from.Departed {
				continue
			}
			text := map[string]any{
				"zh": fmt.Sprintf("%s 已离职，你给 TA 的审批委托已结束：新的待办回到你这里，TA 手上你的待办也已交还给你。", name),
				"en": fmt.Sprintf("%s has left, so your delegation to them has ended: new tasks come to you again, and the tasks of yours they held are back with you.", name),
			}
			if err := o.send(MsgText, d.From, nil, nil, map[string]any{"text": text, "delegation": d.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("depart %s: %w", user, err)
	}
	return nil
}

// returnTask gives the open task id that user, who left, held as a
// delegate back to the approver it was meant for. It reports false (and
// changes nothing) when the task is not such a task or that approver
// cannot take it back (gone, the applicant, or already on the step).
func (e *Engine) returnTask(o *op, id int64, user string) (bool, error) {
	t0, err := o.tx.Task(id)
	if err != nil {
		return false, fmt.Errorf("load task %d: %w", id, err)
	}
	if t0.Assignee != user || !t0.Open() || t0.OnBehalfOf == "" || t0.OnBehalfOf == user {
		return false, nil
	}
	orig := t0.OnBehalfOf
	if u, err := o.tx.User(orig); errors.Is(err, ErrNotFound) || (err == nil && u.Departed) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("load user %s: %w", orig, err)
	}
	l, err := e.load(o, t0.InstanceID)
	if err != nil {
		return false, err
	}
	t := l.task(id)
	if t == nil || !l.in.Status.Open() || l.in.Applicant == orig || hasOpenTask(l.tasks, t.StepID, orig) {
		return false, nil
	}
	s, _ := l.def.Step(t.StepID)
	if s == nil {
		return false, fmt.Errorf("task %d: step %s not in flow %s", id, t.StepID, l.def.ID)
	}
	wasPending := t.Status == TaskPending
	o.closeTask(t, TaskTransferred, System, "", true)
	if err := o.saveTask(t); err != nil {
		return false, err
	}
	nt := &Task{InstanceID: t.InstanceID, StepID: t.StepID, Seq: t.Seq, Assignee: orig, Status: TaskQueued, CreatedAt: o.now, From: user, Note: "delegate_departed"}
	if wasPending {
		e.startTask(nt, l.def, s, o.now)
	}
	if err := o.tx.CreateTask(nt); err != nil {
		return false, fmt.Errorf("create task: %w", err)
	}
	if err := o.event(l.in, t, EvTransferred, System, true, map[string]any{"from": user, "to": orig, "reason": "delegate_departed", "task": nt.ID}); err != nil {
		return false, err
	}
	if wasPending {
		if err := o.send(MsgCardUpdate, "", l.in, t, nil); err != nil {
			return false, err
		}
		if err := o.send(MsgTask, orig, l.in, nt, nil); err != nil {
			return false, err
		}
	}
	return true, o.save(l.in)
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
