package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
)

// Withdraw ends a request that is still open. Only the applicant may.
func (e *Engine) Withdraw(ctx context.Context, actor string, instanceID int64, reason string) (*Outcome, error) {
	return e.run(ctx, "withdraw", func(o *op) error {
		l, err := e.load(o, instanceID)
		if err != nil {
			return err
		}
		in := l.in
		if err := CanWithdraw(in, actor); err != nil {
			return err
		}
		for _, t := range l.tasks {
			if t.Status == TaskPending {
				if err := o.send(MsgWithdrawn, t.Assignee, in, t, map[string]any{"reason": reason}); err != nil {
					return err
				}
			}
		}
		if err := o.cancelTasks(in, openTasks(l.tasks, in.StepID), actor); err != nil {
			return err
		}
		in.Status = StatusWithdrawn
		in.ClosedAt = ptr(o.now)
		if err := o.event(in, nil, EvWithdrawn, actor, false, map[string]any{"reason": reason}); err != nil {
			return err
		}
		return o.save(in)
	})
}

// Resubmit sends a returned request through its route again, with the
// values given replacing the old ones.
func (e *Engine) Resubmit(ctx context.Context, actor string, instanceID int64, values map[string]any) (*Outcome, error) {
	return e.run(ctx, "resubmit", func(o *op) error {
		l, err := e.load(o, instanceID)
		if err != nil {
			return err
		}
		in := l.in
		if err := CanResubmit(in, actor); err != nil {
			return err
		}
		merged := map[string]any{}
		maps.Copy(merged, l.form)
		maps.Copy(merged, values)
		vals, err := e.checkForm(o.tx, l.def, merged)
		if err != nil {
			return err
		}
		if err := e.checkBalanceAtFiling(o, l.def, l.applicant, vals); err != nil {
			return err
		}
		o.out.Form = vals
		if in.Form, err = json.Marshal(vals); err != nil {
			return fmt.Errorf("encode form: %w", err)
		}
		in.Status = StatusPending
		if err := o.event(in, nil, EvResubmitted, actor, false, nil); err != nil {
			return err
		}
		if err := e.advance(o, in, l.def, l.applicant, vals, 0); err != nil {
			return err
		}
		if in.Status == StatusPending {
			return o.send(MsgSubmitted, in.Applicant, in, nil, nil)
		}
		return nil
	})
}

// Transfer hands the actor's pending task to another user, with a reason.
func (e *Engine) Transfer(ctx context.Context, actor string, taskID int64, to, reason string) (*Outcome, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, Errorf(CodeInvalid, "reason_required", nil)
	}
	if _, err := e.user(e.reads(ctx), to); err != nil {
		return nil, err
	}
	return e.run(ctx, "transfer", func(o *op) error {
		l, t, err := e.openTaskAs(o, taskID, actor, true)
		if err != nil {
			return err
		}
		if to == actor || hasOpenTask(l.tasks, t.StepID, to) {
			return Errorf(CodeInvalid, "transfer_self", nil)
		}
		if to == l.in.Applicant {
			return Errorf(CodeInvalid, "transfer_applicant", map[string]any{"name": l.applicant.Name})
		}
		o.closeTask(t, TaskTransferred, actor, reason, false)
		t.Note = reason
		if err := o.saveTask(t); err != nil {
			return err
		}
		s, _ := l.def.Step(t.StepID)
		nt := &Task{InstanceID: t.InstanceID, StepID: t.StepID, Seq: t.Seq, Assignee: to, CreatedAt: o.now, From: actor, Note: reason}
		e.startTask(nt, l.def, s, o.now)
		if err := o.tx.CreateTask(nt); err != nil {
			return fmt.Errorf("create task: %w", err)
		}
		if err := o.event(l.in, t, EvTransferred, actor, false, map[string]any{"to": to, "reason": reason, "task": nt.ID}); err != nil {
			return err
		}
		if err := o.send(MsgCardUpdate, "", l.in, t, nil); err != nil {
			return err
		}
		if err := o.send(MsgTask, to, l.in, nt, map[string]any{"from": actor, "reason": reason}); err != nil {
			return err
		}
		return o.save(l.in)
	})
}

// AddSigner adds a signer to the actor's step: before the actor (the signer
// decides first, then the actor again), after the actor approves, or
// alongside (both must decide).
func (e *Engine) AddSigner(ctx context.Context, actor string, taskID int64, signer string, pos SignerPosition, note string) (*Outcome, error) {
	if _, err := e.user(e.reads(ctx), signer); err != nil {
		return nil, err
	}
	if pos != SignBefore && pos != SignAfter && pos != SignAlongside {
		return nil, Errorf(CodeInvalid, "signer_position", nil)
	}
	return e.run(ctx, "add signer", func(o *op) error {
		l, t, err := e.openTask(o, taskID, actor)
		if err != nil {
			return err
		}
		switch {
		case signer == actor:
			return Errorf(CodeInvalid, "signer_self", nil)
		case signer == l.in.Applicant:
			return Errorf(CodeInvalid, "signer_applicant", map[string]any{"name": l.applicant.Name})
		case hasOpenTask(l.tasks, t.StepID, signer):
			return Errorf(CodeInvalid, "signer_already", map[string]any{"name": e.nameOf(o.tx, signer)})
		}
		s, _ := l.def.Step(t.StepID)
		nt := &Task{InstanceID: t.InstanceID, StepID: t.StepID, Seq: t.Seq, Assignee: signer, Status: TaskQueued, CreatedAt: o.now, From: actor, Note: note}
		switch pos {
		case SignBefore:
			// The signer decides now; the actor's task waits its turn again.
			e.startTask(nt, l.def, s, o.now)
			t.Status = TaskQueued
			t.RemindAt, t.EscalateAt, t.TimeoutAt, t.DueAt = nil, nil, nil, nil
			t.Seq++
			if err := o.saveTask(t); err != nil {
				return err
			}
			if err := o.send(MsgCardUpdate, "", l.in, t, nil); err != nil {
				return err
			}
		case SignAfter:
			nt.Seq = t.Seq + 1
		case SignAlongside:
			e.startTask(nt, l.def, s, o.now)
		}
		if err := o.tx.CreateTask(nt); err != nil {
			return fmt.Errorf("create task: %w", err)
		}
		if err := o.event(l.in, t, EvSignerAdded, actor, false, map[string]any{"signer": signer, "position": pos, "note": note, "task": nt.ID}); err != nil {
			return err
		}
		if err := o.taskStarted(l.in, nt); err != nil {
			return err
		}
		return o.save(l.in)
	})
}

func hasOpenTask(ts []*Task, stepID, user string) bool {
	for _, t := range ts {
		if t.StepID == stepID && t.Open() && t.Assignee == user {
			return true
		}
	}
	return false
}

// Comment adds a comment to a request and tells the other participants.
// The applicant and anyone who had a task on it may comment.
func (e *Engine) Comment(ctx context.Context, actor string, instanceID int64, text string) (*Outcome, error) {
	return e.comment(ctx, actor, instanceID, "", text)
}

// ReplyComment answers a comment of user to on a request: a comment that
// always reaches to (a past approver too), recorded with Data["reply_to"].
// Both must be participants of the request; nobody replies to themselves.
func (e *Engine) ReplyComment(ctx context.Context, actor string, instanceID int64, to, text string) (*Outcome, error) {
	if strings.TrimSpace(to) == "" {
		return nil, Errorf(CodeInvalid, "reply_to_required", nil)
	}
	if to == actor {
		return nil, Errorf(CodeInvalid, "reply_self", nil)
	}
	return e.comment(ctx, actor, instanceID, to, text)
}

func (e *Engine) comment(ctx context.Context, actor string, instanceID int64, replyTo, text string) (*Outcome, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, Errorf(CodeInvalid, "comment_empty", nil)
	}
	return e.run(ctx, "comment", func(o *op) error {
		l, err := e.load(o, instanceID)
		if err != nil {
			return err
		}
		people := []string{l.in.Applicant}
		for _, t := range l.tasks {
			if t.Status != TaskQueued && !contains(people, t.Assignee) {
				people = append(people, t.Assignee)
			}
		}
		if !contains(people, actor) {
			// The people a task was escalated to take part too.
			for _, t := range l.tasks {
				to, err := escalatedTo(o.tx, l.in.ID, t.ID)
				if err != nil {
					return err
				}
				if contains(to, actor) {
					people = append(people, actor)
					break
				}
			}
		}
		if !contains(people, actor) {
			return Errorf(CodeForbidden, "not_participant", nil)
		}
		data := map[string]any{"text": text}
		if replyTo != "" {
			if !contains(people, replyTo) {
				return Errorf(CodeInvalid, "reply_not_participant", map[string]any{"name": e.nameOf(o.tx, replyTo)})
			}
			data["reply_to"] = replyTo
		}
		if err := o.event(l.in, nil, EvCommented, actor, false, data); err != nil {
			return err
		}
		for _, p := range people {
			if p == actor {
				continue
			}
			if p != replyTo && p != l.in.Applicant && !hasOpenTask(l.tasks, l.in.StepID, p) {
				continue // past approvers are not bothered, unless answered
			}
			msg := map[string]any{"by": actor, "text": text}
			if replyTo != "" {
				msg["reply_to"] = replyTo
			}
			if err := o.send(MsgComment, p, l.in, nil, msg); err != nil {
				return err
			}
		}
		return o.save(l.in)
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Urge nudges the current approvers of a pending request. Only the
// applicant may, once per UrgeInterval.
func (e *Engine) Urge(ctx context.Context, actor string, instanceID int64) (*Outcome, error) {
	return e.run(ctx, "urge", func(o *op) error {
		l, err := e.load(o, instanceID)
		if err != nil {
			return err
		}
		in := l.in
		if err := CanUrge(in, actor); err != nil {
			// The person a pending task was escalated to may urge its
			// assignee too.
			esc := false
			for _, t := range l.tasks {
				if t.Status != TaskPending {
					continue
				}
				to, terr := escalatedTo(o.tx, in.ID, t.ID)
				if terr != nil {
					return terr
				}
				esc = esc || contains(to, actor)
			}
			if !esc || in.Status != StatusPending {
				return err
			}
		}
		if in.LastUrgeAt != nil && o.now.Sub(*in.LastUrgeAt) < e.urgeGap {
			wait := e.urgeGap - o.now.Sub(*in.LastUrgeAt)
			minutes := int((wait + time.Minute - 1) / time.Minute) // round up: never "0 minutes"
			return Errorf(CodeRateLimited, "urge_too_soon", map[string]any{"minutes": minutes})
		}
		var to []string
		for _, t := range l.tasks {
			if t.Status == TaskPending {
				to = append(to, t.Assignee)
				if err := o.send(MsgUrge, t.Assignee, in, t, nil); err != nil {
					return err
				}
			}
		}
		in.LastUrgeAt = ptr(o.now)
		if err := o.event(in, nil, EvUrged, actor, false, map[string]any{"to": to}); err != nil {
			return err
		}
		// Every copy shows the urge: the applicant's request cards and
		// the cards of the tasks urged.
		for _, t := range l.tasks {
			if t.Status == TaskPending {
				if err := o.send(MsgCardUpdate, "", in, t, nil); err != nil {
					return err
				}
			}
		}
		return o.save(in)
	})
}
