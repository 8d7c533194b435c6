package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// loaded is an instance with what most operations need beside it.
type loaded struct {
	in        *Instance
	def       *flowdef.Definition
	applicant *User
	form      flowdef.Values
	tasks     []*Task
}

// load reads an instance, its definition version, applicant, form and tasks
// inside the operation's transaction.
func (e *Engine) load(o *op, id int64) (*loaded, error) {
	in, err := o.tx.Instance(id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "instance_unknown", map[string]any{"ref": id})
	}
	if err != nil {
		return nil, fmt.Errorf("load instance %d: %w", id, err)
	}
	def, err := e.definition(o.tx, in.FlowID, in.FlowVersion)
	if err != nil {
		return nil, err
	}
	app, err := e.member(o.tx, in.Applicant)
	if err != nil {
		return nil, err
	}
	form, err := decodeForm(def, in.Form, o.now)
	if err != nil {
		return nil, err
	}
	ts, err := o.tx.TasksOf(in.ID)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	o.out.Instance, o.out.Def, o.out.Form, o.out.Applicant = in, def, form, app
	return &loaded{in: in, def: def, applicant: app, form: form, tasks: ts}, nil
}

// preread is a task's instance, definition, applicant and tasks, read
// before the write transaction (see runPre).
type preread struct {
	taskID int64
	in     *Instance
	def    *flowdef.Definition
	app    *User
	tasks  []*Task
	recent bool // taken from the engine's recent states, not read
}

// preloadTask reads what openTask needs for task taskID in a read
// transaction, or takes the instance and tasks from the state the
// engine's operations last wrote on it (recent.go), and the definition
// and applicant after it (from the
// engine's caches or the store, never inside the transaction: a second
// connection taken while the first is held can exhaust a pool). It
// returns nil when anything fails: the write then reads for itself.
func (e *Engine) preloadTask(ctx context.Context, taskID int64) *preread {
	p := &preread{taskID: taskID}
	var err error
	if in, ts, ok := e.recent.task(taskID); ok {
		p.in, p.tasks, p.recent = in, ts, true
	} else {
		err = e.store.View(ctx, func(tx Tx) error {
			t, err := tx.Task(taskID)
			if err != nil {
				return err
			}
			if p.in, err = tx.Instance(t.InstanceID); err != nil {
				return err
			}
			p.tasks, err = tx.TasksOf(p.in.ID)
			return err
		})
	}
	if err != nil {
		return nil
	}
	if p.def, err = e.definition(e.reads(ctx), p.in.FlowID, p.in.FlowVersion); err != nil {
		return nil
	}
	if p.app, err = e.member(e.reads(ctx), p.in.Applicant); err != nil {
		return nil
	}
	return p
}

// takePre returns the operation's pre-read for task taskID, once.
func (o *op) takePre(taskID int64) *preread {
	p := o.pre
	if p == nil || p.taskID != taskID {
		return nil
	}
	o.pre = nil
	if tr, ok := o.tx.(*taskTracker); ok {
		tr.known(p.in.ID, p.tasks)
		tr.read(p.in)
	}
	return p
}

func (l *loaded) task(id int64) *Task {
	for _, t := range l.tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// openTask loads task id for actor and checks it can be acted on by them.
func (e *Engine) openTask(o *op, taskID int64, actor string) (*loaded, *Task, error) {
	return e.openTaskAs(o, taskID, actor, false)
}

// openTaskAs is openTask; escalated lets a person the task was escalated
// to act on it as well as its assignee.
func (e *Engine) openTaskAs(o *op, taskID int64, actor string, escalated bool) (*loaded, *Task, error) {
	var l *loaded
	if p := o.takePre(taskID); p != nil {
		form, err := decodeForm(p.def, p.in.Form, o.now)
		if err != nil {
			return nil, nil, err
		}
		o.out.Instance, o.out.Def, o.out.Form, o.out.Applicant = p.in, p.def, form, p.app
		l = &loaded{in: p.in, def: p.def, applicant: p.app, form: form, tasks: p.tasks}
	} else {
		t0, err := o.tx.Task(taskID)
		if errors.Is(err, ErrNotFound) {
			return nil, nil, Errorf(CodeNotFound, "task_unknown", nil)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("load task %d: %w", taskID, err)
		}
		if l, err = e.load(o, t0.InstanceID); err != nil {
			return nil, nil, err
		}
	}
	t := l.task(taskID)
	o.out.Task = t
	closed := Errorf(CodeConflict, "request_closed", map[string]any{"number": l.in.Number, "status": l.in.Status})
	if t.Open() && !l.in.Status.Open() {
		return nil, nil, closed
	}
	if CanDecide(t, actor) != nil { // rights.go; an escalation target may decide where the flow says so
		ok := false
		if escalated {
			to, err := escalatedTo(o.tx, l.in.ID, t.ID)
			if err != nil {
				return nil, nil, err
			}
			ok = contains(to, actor)
		}
		if !ok {
			return nil, nil, Errorf(CodeForbidden, "not_assignee", map[string]any{"assignee": e.nameOf(o.tx, t.Assignee)})
		}
	}
	if !t.Open() {
		if t.Status == TaskCancelled && !l.in.Status.Open() && t.DecidedBy == l.in.Applicant {
			return nil, nil, closed // withdrawn
		}
		status := t.Status
		if status == TaskCancelled { // another approver's decision closed it: say which
			for _, x := range l.tasks {
				if x.StepID == t.StepID && x.Assignee == t.DecidedBy && (x.Status == TaskApproved || x.Status == TaskRejected || x.Status == TaskReturned || x.Status == TaskSentBack) {
					status = x.Status
				}
			}
		}
		return nil, nil, Errorf(CodeConflict, "already_decided", map[string]any{"by": e.nameOf(o.tx, t.DecidedBy), "status": status})
	}
	if l.in.Status != StatusPending {
		return nil, nil, closed
	}
	if t.Status == TaskQueued {
		return nil, nil, Errorf(CodeConflict, "not_your_turn", nil)
	}
	return l, t, nil
}

// Decide approves or rejects a task. Only the assignee may decide, once; a
// rejection needs a comment.
func (e *Engine) Decide(ctx context.Context, r DecideRequest) (*Outcome, error) {
	r.Comment = strings.TrimSpace(r.Comment)
	pre := func(ctx context.Context) *preread { return e.preloadTask(ctx, r.TaskID) }
	return e.runPre(ctx, "decide", pre, func(o *op) error {
		l, t, err := e.openTaskAs(o, r.TaskID, r.Actor, true)
		if err != nil {
			return err
		}
		if s := stepOf(l.def, t.StepID); t.Assignee != r.Actor && (s == nil || !l.def.DeadlineOf(s).EscalationDecides) {
			// An escalation target decides on the assignee's behalf only
			// where the flow says so.
			return Errorf(CodeForbidden, "not_assignee", map[string]any{"assignee": e.nameOf(o.tx, t.Assignee)})
		}
		if r.Approve {
			if r.Outcome != "" || r.ToStep != "" {
				return Errorf(CodeInvalid, "outcome_with_approve", nil)
			}
			return e.decide(o, l, t, r.Actor, true, r.Comment, false, "", "")
		}
		s := stepOf(l.def, t.StepID)
		if s == nil {
			return fmt.Errorf("task %d: step %s not in flow %s v%d", t.ID, t.StepID, l.def.ID, l.in.FlowVersion)
		}
		outcome := r.Outcome
		if outcome == "" {
			outcome = s.Rejects()[0]
		}
		if !s.Offers(outcome) {
			return Errorf(CodeInvalid, "outcome_not_offered", map[string]any{"outcome": string(outcome), "step": s.Name})
		}
		if outcome != flowdef.RejectSendBack && r.ToStep != "" {
			return Errorf(CodeInvalid, "to_step_without_send_back", nil)
		}
		if outcome == flowdef.RejectSendBack {
			if err := e.checkSendBack(o, l, r.ToStep); err != nil {
				return err
			}
		}
		if r.Comment == "" {
			return Errorf(CodeInvalid, "reason_required", nil)
		}
		return e.decide(o, l, t, r.Actor, false, r.Comment, false, outcome, r.ToStep)
	})
}

// SendBack sends the request of task taskID back to the earlier step
// toStep with a reason: a Decide with the send_back outcome.
func (e *Engine) SendBack(ctx context.Context, actor string, taskID int64, toStep, reason string) (*Outcome, error) {
	return e.Decide(ctx, DecideRequest{Actor: actor, TaskID: taskID, Outcome: flowdef.RejectSendBack, ToStep: toStep, Comment: reason})
}

// checkSendBack refuses a send-back to a step the request has not passed
// on its current route.
func (e *Engine) checkSendBack(o *op, l *loaded, to string) error {
	if strings.TrimSpace(to) == "" {
		return Errorf(CodeInvalid, "to_step_required", nil)
	}
	evs, err := o.tx.EventsOf(l.in.ID)
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	for _, s := range SendBackTargets(l.def, l.in, evs) {
		if s.ID == to {
			return nil
		}
	}
	name := any(to)
	if s := stepOf(l.def, to); s != nil {
		name = s.Name
	}
	return Errorf(CodeInvalid, "step_not_passed", map[string]any{"step": name})
}

// decide closes task t with a decision and moves the instance on. A "no"
// (approve false) does outcome (empty: the step's default), toStep naming
// the step of a send-back.
func (e *Engine) decide(o *op, l *loaded, t *Task, actor string, approve bool, comment string, auto bool, outcome flowdef.RejectAction, toStep string) error {
	in := l.in
	s, _ := l.def.Step(t.StepID)
	if s == nil {
		return fmt.Errorf("task %d: step %s not in flow %s v%d", t.ID, t.StepID, l.def.ID, in.FlowVersion)
	}
	if !approve && outcome == "" {
		// The step's plain reject; a timeout cannot choose a step to send
		// back to, so it takes the next outcome offered (or ends).
		outcome = flowdef.RejectEnd
		for _, a := range s.Rejects() {
			if a != flowdef.RejectSendBack {
				outcome = a
				break
			}
		}
	}
	st, ev := TaskApproved, EvApproved
	data := map[string]any{"comment": comment}
	if !approve {
		st, ev = TaskRejected, EvRejected
		switch outcome {
		case flowdef.RejectReturn:
			st = TaskReturned
		case flowdef.RejectSendBack:
			st = TaskSentBack
			data["to"] = toStep
		}
		data["outcome"] = string(outcome)
	}
	o.closeTask(t, st, actor, comment, auto)
	if err := o.saveTask(t); err != nil {
		return err
	}
	if err := o.event(in, t, ev, actor, auto, delegationData(t, data)); err != nil {
		return err
	}
	if err := o.send(MsgCardUpdate, "", in, t, nil); err != nil {
		return err
	}
	open := openTasks(l.tasks, t.StepID)
	if !approve {
		if err := o.cancelTasks(in, open, actor); err != nil {
			return err
		}
		if outcome == flowdef.RejectSendBack {
			return e.sendBack(o, l, s, actor, comment, toStep)
		}
		return e.reject(o, l, s, actor, comment, auto, outcome)
	}
	var pending, queued []*Task
	for _, x := range open {
		if x.Status == TaskPending {
			pending = append(pending, x)
		} else {
			queued = append(queued, x)
		}
	}
	if s.Mode == flowdef.ModeAny || s.Mode == "" {
		// A signer added before someone hands the task back to them.
		for _, x := range queued {
			if t.From != "" && x.Assignee == t.From && x.Seq == t.Seq+1 {
				e.startTask(x, l.def, s, o.now)
				if err := o.saveTask(x); err != nil {
					return err
				}
				if err := o.send(MsgTask, x.Assignee, in, x, nil); err != nil {
					return err
				}
				// Their earlier copies (queued) show it is their turn again.
				if err := o.send(MsgCardUpdate, "", in, x, nil); err != nil {
					return err
				}
				return o.save(in)
			}
		}
		// Otherwise the first decision decides the step: every other open
		// task ends, except signers the decider added to come after them.
		var moot, keep []*Task
		for _, x := range open {
			if x.Status == TaskQueued && x.From == actor {
				keep = append(keep, x)
			} else {
				moot = append(moot, x)
			}
		}
		if err := o.cancelTasks(in, moot, actor); err != nil {
			return err
		}
		pending, queued = nil, keep
	}
	if len(pending) > 0 {
		return o.save(in)
	}
	if len(queued) > 0 {
		low := queued[0].Seq
		for _, x := range queued {
			low = min(low, x.Seq)
		}
		for _, x := range queued {
			if x.Seq == low {
				e.startTask(x, l.def, s, o.now)
				if err := o.saveTask(x); err != nil {
					return err
				}
				if err := o.send(MsgTask, x.Assignee, in, x, nil); err != nil {
					return err
				}
				// The earlier copies of this task's card (it was queued)
				// show that it is their turn now.
				if err := o.send(MsgCardUpdate, "", in, x, nil); err != nil {
					return err
				}
			}
		}
		return o.save(in)
	}
	if err := o.event(in, nil, EvStepDone, System, true, nil); err != nil {
		return err
	}
	_, idx := l.def.Step(t.StepID)
	if err := e.advance(o, in, l.def, l.applicant, l.form, idx+1); err != nil {
		return err
	}
	// "On to the next step" only when there is one: the steps after this
	// one may all be skipped by their conditions, and then the request is
	// approved, which the applicant is told once.
	if in.Status != StatusPending {
		return nil
	}
	return o.send(MsgProgress, in.Applicant, in, t, map[string]any{"step": s.ID})
}

// sendBack starts the earlier step to again: its approvers get new tasks,
// whose cards say who sent it back and why; the applicant is told.
func (e *Engine) sendBack(o *op, l *loaded, s *flowdef.Step, actor, comment, to string) error {
	in := l.in
	_, idx := l.def.Step(to)
	data := map[string]any{"by": actor, "comment": comment, "step": s.ID, "to": to}
	if err := o.event(in, nil, EvSentBack, actor, false, data); err != nil {
		return err
	}
	if err := o.send(MsgSentBack, in.Applicant, in, nil, data); err != nil {
		return err
	}
	return e.advance(o, in, l.def, l.applicant, l.form, idx)
}

// SendBackTargets lists the steps a request at its current step may be
// sent back to: the approve steps before it that it passed (a step_done
// event) since it was last submitted or resubmitted, in flow order.
func SendBackTargets(def *flowdef.Definition, in *Instance, events []*Event) []*flowdef.Step {
	if def == nil || in == nil || in.Status != StatusPending {
		return nil
	}
	done := map[string]bool{}
	for _, ev := range events {
		switch ev.Type {
		case EvSubmitted, EvResubmitted:
			clear(done)
		case EvStepDone:
			done[ev.StepID] = true
		}
	}
	var out []*flowdef.Step
	for i := 0; i < in.StepIndex && i < len(def.Steps); i++ {
		if s := &def.Steps[i]; s.Kind == flowdef.StepApprove && done[s.ID] {
			out = append(out, s)
		}
	}
	return out
}

// reject ends the request or returns it to the applicant, as outcome says.
func (e *Engine) reject(o *op, l *loaded, s *flowdef.Step, actor, comment string, auto bool, outcome flowdef.RejectAction) error {
	in := l.in
	data := map[string]any{"by": actor, "comment": comment, "auto": auto, "step": s.ID}
	if outcome == flowdef.RejectReturn {
		in.Status = StatusReturned
		if err := o.event(in, nil, EvReturned, actor, auto, data); err != nil {
			return err
		}
		if err := o.send(MsgReturned, in.Applicant, in, nil, data); err != nil {
			return err
		}
		return o.save(in)
	}
	in.Status = StatusRejected
	in.ClosedAt = ptr(o.now)
	if err := o.event(in, nil, EvCompleted, actor, auto, map[string]any{"status": StatusRejected}); err != nil {
		return err
	}
	if err := o.send(MsgRejected, in.Applicant, in, nil, data); err != nil {
		return err
	}
	return o.save(in)
}

// cancelTasks closes tasks that another decision made moot and updates
// their cards.
func (o *op) cancelTasks(in *Instance, ts []*Task, by string) error {
	for _, x := range ts {
		wasPending := x.Status == TaskPending
		o.closeTask(x, TaskCancelled, by, "", false)
		if err := o.saveTask(x); err != nil {
			return err
		}
		if wasPending {
			if err := o.send(MsgCardUpdate, "", in, x, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// openTasks returns the open tasks of a step.
func openTasks(ts []*Task, stepID string) []*Task {
	var out []*Task
	for _, t := range ts {
		if t.StepID == stepID && t.Open() {
			out = append(out, t)
		}
	}
	return out
}

// nameOf returns a user's name for messages, or the id when unknown.
func (e *Engine) nameOf(r reader, id string) string {
	if id == System {
		return "系统 / system"
	}
	if u, err := r.User(id); err == nil {
		return u.Name
	}
	return id
}

func stepOf(d *flowdef.Definition, id string) *flowdef.Step {
	s, _ := d.Step(id)
	return s
}

// escalatedTo lists the people task taskID of request inID was escalated
// to (from its escalation events).
func escalatedTo(tx Tx, inID, taskID int64) ([]string, error) {
	evs, err := tx.EventsOf(inID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Type != EvEscalated || ev.TaskID != taskID {
			continue
		}
		var d struct {
			To []string `json:"to"`
		}
		if json.Unmarshal(ev.Data, &d) == nil {
			for _, id := range d.To {
				if !contains(out, id) {
					out = append(out, id)
				}
			}
		}
	}
	return out, nil
}
