package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// View returns everything needed to show one request.
func (e *Engine) View(ctx context.Context, instanceID int64) (*View, error) {
	if e.recentViews.Load() {
		if in, ts, evs, ok := e.recent.view(instanceID); ok {
			return e.complete(ctx, &View{Instance: in, Tasks: ts, Events: evs})
		}
	}
	return e.view(ctx, func(tx Tx) (*Instance, error) {
		in, err := tx.Instance(instanceID)
		if errors.Is(err, ErrNotFound) {
			return nil, Errorf(CodeNotFound, "instance_unknown", map[string]any{"ref": instanceID})
		}
		if err != nil {
			return nil, fmt.Errorf("load instance %d: %w", instanceID, err)
		}
		return in, nil
	})
}

// ViewByNumber is View by request number (case-insensitive), in one read.
func (e *Engine) ViewByNumber(ctx context.Context, number string) (*View, error) {
	return e.view(ctx, func(tx Tx) (*Instance, error) {
		in, err := tx.InstanceByNumber(strings.ToUpper(strings.TrimSpace(number)))
		if errors.Is(err, ErrNotFound) {
			return nil, Errorf(CodeNotFound, "instance_unknown", map[string]any{"ref": number})
		}
		if err != nil {
			return nil, fmt.Errorf("find request %s: %w", number, err)
		}
		return in, nil
	})
}

// view reads the request find returns, its tasks and events in one read
// transaction, and completes the View.
func (e *Engine) view(ctx context.Context, find func(tx Tx) (*Instance, error)) (*View, error) {
	var v *View
	recorded := e.recentViews.Load()
	gen := e.recent.generation()
	err := e.store.View(ctx, func(tx Tx) error {
		in, err := find(tx)
		if err != nil {
			return err
		}
		ts, err := tx.TasksOf(in.ID)
		if err != nil {
			return fmt.Errorf("list tasks: %w", err)
		}
		evs, err := tx.EventsOf(in.ID)
		if err != nil {
			return fmt.Errorf("list events: %w", err)
		}
		v = &View{Instance: in, Tasks: ts, Events: evs}
		return nil
	})
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return nil, fe
		}
		return nil, err
	}
	if recorded {
		e.recent.read(v.Instance, v.Tasks, v.Events, gen)
	}
	return e.complete(ctx, v)
}

// complete fills in v, whose Instance, Tasks and Events are set.
func (e *Engine) complete(ctx context.Context, v *View) (*View, error) {
	var err error
	if v.Def, err = e.Definition(ctx, v.Instance.FlowID, v.Instance.FlowVersion); err != nil {
		return nil, err
	}
	if v.Applicant, err = e.member(e.reads(ctx), v.Instance.Applicant); err != nil {
		return nil, err
	}
	if v.Form, err = decodeForm(v.Def, v.Instance.Form, e.clock.Now()); err != nil {
		return nil, err
	}
	if v.Route, err = e.Route(ctx, v); err != nil {
		return nil, err
	}
	return v, nil
}

// Route lists the steps of a request: those done (with who decided), the
// current one, and those still to come with the approvers they would get
// from the current form. v needs Instance, Def, Form, Applicant, Tasks and
// Events.
func (e *Engine) Route(ctx context.Context, v *View) ([]RouteStep, error) {
	env := v.Def.EnvOn(v.Form, applicantEnv(v.Applicant), e.cal)
	e.withBalance(env, e.storeBalance(ctx), v.Def, v.Applicant, v.Form, v.Instance.CreatedAt)
	skipped := map[string]bool{}
	for _, ev := range v.Events {
		switch ev.Type {
		case EvStepSkipped:
			skipped[ev.StepID] = true
		case EvStepStarted, EvResubmitted:
			delete(skipped, ev.StepID)
		}
	}
	var out []RouteStep
	for i := range v.Def.Steps {
		s := &v.Def.Steps[i]
		rs := RouteStep{StepID: s.ID, Name: s.Name, Kind: s.Kind, Mode: s.Mode}
		in := v.Instance
		switch {
		case i < in.StepIndex || (!in.Status.Open() && in.StepIndex >= i && in.Status == StatusApproved):
			rs.Status = "done"
			if skipped[s.ID] {
				rs.Status = "skipped"
			}
		case i == in.StepIndex && in.Status.Open():
			rs.Status = "current"
		case i == in.StepIndex:
			rs.Status = string(in.Status)
		default:
			rs.Status = "upcoming"
			if !in.Status.Open() {
				rs.Status = "skipped"
			}
		}
		switch rs.Status {
		case "upcoming":
			ok, err := s.Applies(env)
			if err != nil {
				return nil, fmt.Errorf("evaluate condition of step %s: %w", s.ID, err)
			}
			if !ok {
				rs.Status = "skipped"
				break
			}
			if s.Kind == flowdef.StepApprove {
				ids, err := e.approversOf(e.reads(ctx), s, v.Applicant, v.Form)
				if err != nil {
					return nil, err
				}
				rs.Approvers = ids
				if len(ids) == 0 {
					rs.Status = "skipped"
				}
			}
		default:
			for _, t := range v.Tasks {
				if t.StepID == s.ID && t.Status != TaskTransferred && !contains(rs.Approvers, t.Assignee) {
					rs.Approvers = append(rs.Approvers, t.Assignee)
				}
			}
		}
		out = append(out, rs)
	}
	return out, nil
}

// Todo returns the pending tasks of user.
func (e *Engine) Todo(ctx context.Context, user string) ([]*Task, error) {
	ts, err := e.store.Tasks(ctx, TaskFilter{Assignee: user, Status: []TaskStatus{TaskPending}})
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s: %w", user, err)
	}
	return ts, nil
}

// Mine returns the requests of user, newest first.
func (e *Engine) Mine(ctx context.Context, user string, limit int) ([]*Instance, error) {
	ins, err := e.store.Instances(ctx, InstanceFilter{Applicant: user, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("list requests of %s: %w", user, err)
	}
	return ins, nil
}
