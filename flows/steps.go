package flows

import (
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// seqGap spaces the Seq of a step's approvers so that signers added before
// or after one of them fit in between.
const seqGap = 100

// advance starts the steps of def from index i on: it skips steps whose
// condition fails or that find no approver, runs notify steps, and stops at
// the first step that waits (approve, http). Past the last step the
// instance is approved.
func (e *Engine) advance(o *op, in *Instance, def *flowdef.Definition, applicant *User, form flowdef.Values, i int) error {
	env := def.EnvOn(form, applicantEnv(applicant), e.cal)
	e.withBalance(env, o.tx.Balance, def, applicant, form, in.CreatedAt)
	for ; i < len(def.Steps); i++ {
		s := &def.Steps[i]
		in.StepIndex, in.StepID = i, s.ID
		ok, err := s.Applies(env)
		if err != nil {
			return fmt.Errorf("evaluate condition of step %s: %w", s.ID, err)
		}
		if !ok {
			if err := o.event(in, nil, EvStepSkipped, System, true, map[string]any{"reason": "condition", "when": s.When}); err != nil {
				return err
			}
			continue
		}
		if err := e.notifyCC(o, in, s, applicant, form); err != nil {
			return err
		}
		switch s.Kind {
		case flowdef.StepNotify:
			if err := o.event(in, nil, EvStepDone, System, true, nil); err != nil {
				return err
			}
			continue
		case flowdef.StepHTTP:
			if err := o.event(in, nil, EvStepStarted, System, true, nil); err != nil {
				return err
			}
			if err := o.send(MsgHTTP, "", in, nil, nil); err != nil {
				return err
			}
			return o.save(in)
		}
		ids, err := e.approversOf(o.tx, s, applicant, form)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			if err := o.event(in, nil, EvStepSkipped, System, true, map[string]any{"reason": "no_approver"}); err != nil {
				return err
			}
			continue
		}
		if err := o.event(in, nil, EvStepStarted, System, true, map[string]any{"approvers": ids, "mode": s.Mode}); err != nil {
			return err
		}
		assignees, obo, err := e.delegateTasks(o, ids, applicant.ID)
		if err != nil {
			return err
		}
		for k, id := range assignees {
			t := &Task{InstanceID: in.ID, StepID: s.ID, Seq: k * seqGap, Assignee: id, Status: TaskQueued, CreatedAt: o.now, OnBehalfOf: obo[id]}
			if s.Mode != flowdef.ModeSequence || k == 0 {
				e.startTask(t, def, s, o.now)
			}
			if err := o.tx.CreateTask(t); err != nil {
				return fmt.Errorf("create task: %w", err)
			}
			if err := o.taskStarted(in, t); err != nil {
				return err
			}
			if t.OnBehalfOf != "" { // the approver who is away sees what happens
				if err := o.send(MsgCC, t.OnBehalfOf, in, t, map[string]any{"step": s.ID, "delegated_to": id}); err != nil {
					return err
				}
			}
		}
		return o.save(in)
	}
	// Past the last step: approved.
	in.Status, in.StepIndex, in.StepID = StatusApproved, len(def.Steps), ""
	in.ClosedAt = ptr(o.now)
	if err := o.event(in, nil, EvCompleted, System, true, map[string]any{"status": StatusApproved}); err != nil {
		return err
	}
	if err := o.send(MsgApproved, in.Applicant, in, nil, nil); err != nil {
		return err
	}
	if err := e.delegateOnApproval(o, in, def, applicant, form); err != nil {
		return err
	}
	if err := e.balanceOnApproval(o, in, def, applicant, form); err != nil {
		return err
	}
	return o.save(in)
}

// taskStarted records a task and, when it is pending, sends its card.
func (o *op) taskStarted(in *Instance, t *Task) error {
	if err := o.event(in, t, EvTaskCreated, System, true, delegationData(t, map[string]any{"assignee": t.Assignee, "status": t.Status})); err != nil {
		return err
	}
	if t.Status == TaskPending {
		return o.send(MsgTask, t.Assignee, in, t, nil)
	}
	return nil
}

// startTask makes t pending and sets its deadlines from now.
func (e *Engine) startTask(t *Task, def *flowdef.Definition, s *flowdef.Step, now time.Time) {
	t.Status = TaskPending
	t.StartedAt = ptr(now)
	dl := def.DeadlineOf(s)
	t.RemindAt, t.EscalateAt, t.TimeoutAt = nil, nil, nil
	if dl.RemindAfter > 0 {
		t.RemindAt = ptr(e.after(def, now, dl.RemindAfter))
	}
	if dl.EscalateAfter > 0 {
		t.EscalateAt = ptr(e.after(def, now, dl.EscalateAfter))
	}
	if dl.TimeoutAfter > 0 && dl.OnTimeout != "" && dl.OnTimeout != flowdef.TimeoutNothing {
		t.TimeoutAt = ptr(e.after(def, now, dl.TimeoutAfter))
	}
	setDue(t)
}

// after adds d to t in the flow's kind of time.
func (e *Engine) after(def *flowdef.Definition, t time.Time, d time.Duration) time.Time {
	if def.Calendar == flowdef.CalendarWorking {
		return e.cal.Add(t, d).UTC()
	}
	return t.Add(d).UTC()
}

// setDue sets DueAt to the earliest deadline still ahead.
func setDue(t *Task) {
	t.DueAt = nil
	for _, d := range []*time.Time{t.RemindAt, t.EscalateAt, t.TimeoutAt} {
		if d != nil && (t.DueAt == nil || d.Before(*t.DueAt)) {
			t.DueAt = ptr(*d)
		}
	}
	if t.Status != TaskPending {
		t.DueAt = nil
	}
}

// notifyCC sends the CC notices of step s (and the message of a notify step).
func (e *Engine) notifyCC(o *op, in *Instance, s *flowdef.Step, applicant *User, form flowdef.Values) error {
	if len(s.CC) == 0 {
		return nil
	}
	ids, err := e.resolve(o.tx, s.CC, applicant, form)
	if err != nil {
		return err
	}
	for _, id := range ids {
		data := map[string]any{"step": s.ID}
		if s.Notify.ZH != "" || s.Notify.EN != "" {
			data["text"] = s.Notify
		}
		if err := o.send(MsgCC, id, in, nil, data); err != nil {
			return err
		}
	}
	if len(ids) > 0 {
		return o.event(in, nil, EvCC, System, true, map[string]any{"to": ids})
	}
	return nil
}

// closeTask ends an open task.
func (o *op) closeTask(t *Task, st TaskStatus, by, comment string, auto bool) {
	t.Status, t.DecidedBy, t.Comment, t.Auto = st, by, comment, auto
	t.DecidedAt = ptr(o.now)
	t.RemindAt, t.EscalateAt, t.TimeoutAt, t.DueAt = nil, nil, nil, nil
}

// stepTasks returns the tasks of the instance's current step.
func stepTasks(ts []*Task, stepID string) []*Task {
	var out []*Task
	for _, t := range ts {
		if t.StepID == stepID {
			out = append(out, t)
		}
	}
	return out
}
