package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// Cancelling an approved request is a small flow of its own: the flow of
// the request names it (`cancel: {flow: leave_cancel}`), and that flow's
// on_approved.cancel_field holds the number of the request to cancel. Its
// steps are the cancel approvers; when it is approved, the request is
// cancelled and what it took from a leave balance is given back, in the
// same transaction as the last approval.

// StatusCancelled: an approved request cancelled afterwards through its
// flow's cancel rule.
const StatusCancelled Status = "cancelled"

// EvCancelled is appended to a request cancelled after approval (Data:
// by = the number of the approved cancel request, reason).
const EvCancelled EventType = "cancelled"

// CancelRequest asks to cancel an approved request.
type CancelRequest struct {
	Actor  string
	Number string // the approved request
	Reason string
	// Key, Told and ReplyTo as in SubmitRequest.
	Key     string
	Told    bool
	ReplyTo []byte
}

// RequestCancel files a request of the cancel flow of r.Number's flow:
// the applicant asks, the cancel flow's approvers decide.
func (e *Engine) RequestCancel(ctx context.Context, r CancelRequest) (*Outcome, error) {
	number := strings.ToUpper(strings.TrimSpace(r.Number))
	target, def, err := e.cancelTarget(ctx, number)
	if err != nil {
		return nil, err
	}
	if def.Cancel == nil {
		u, _ := e.user(e.reads(ctx), r.Actor)
		loc := ""
		if u != nil {
			loc = u.Locale
		}
		return nil, Errorf(CodeInvalid, "cancel_no_rule", map[string]any{"flow": def.Name.In(loc)})
	}
	if err := e.checkCancelWindow(def, target); err != nil {
		return nil, err
	}
	cfv, err := e.flowByAlias(ctx, def.Cancel.Flow)
	if err != nil {
		return nil, err
	}
	field := cfv.Def.OnApproved.CancelField
	if field == "" {
		return nil, fmt.Errorf("cancel %s: flow %s has no on_approved.cancel_field", number, cfv.Def.ID)
	}
	vals := map[string]any{field: target.Number}
	if reason := strings.TrimSpace(r.Reason); reason != "" {
		if f := cfv.Def.Field("reason"); f != nil && f.ID != field {
			vals["reason"] = reason
		}
	}
	return e.Submit(ctx, SubmitRequest{Actor: r.Actor, FlowID: cfv.Def.ID, Values: vals, Key: r.Key, Told: r.Told, ReplyTo: r.ReplyTo})
}

// CancelFlowOf returns the id of the flow that cancels approved requests
// of def ("" when there is none): the chat offers a Cancel button then.
func CancelFlowOf(def *flowdef.Definition) string {
	if def == nil || def.Cancel == nil {
		return ""
	}
	return def.Cancel.Flow
}

func (e *Engine) cancelTarget(ctx context.Context, number string) (*Instance, *flowdef.Definition, error) {
	if number == "" || len(number) > 100 {
		return nil, nil, Errorf(CodeInvalid, "cancel_bad_target", nil)
	}
	var target *Instance
	err := e.store.View(ctx, func(tx Tx) (err error) {
		target, err = tx.InstanceByNumber(number)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, nil, Errorf(CodeNotFound, "cancel_bad_target", nil)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find request %s: %w", number, err)
	}
	def, err := e.definition(e.reads(ctx), target.FlowID, target.FlowVersion)
	if err != nil {
		return nil, nil, fmt.Errorf("load flow of %s: %w", number, err)
	}
	return target, def, nil
}

// CanCancel returns nil when u may ask to cancel in: its applicant, once
// it is approved.
func CanCancel(u *User, in *Instance) error {
	if u == nil || in.Applicant != u.ID {
		return Errorf(CodeForbidden, "cancel_not_applicant", map[string]any{"number": in.Number})
	}
	if in.Status != StatusApproved {
		return Errorf(CodeConflict, "cancel_not_approved", map[string]any{"number": in.Number, "status": in.Status})
	}
	return nil
}

// checkCancelAtFiling checks a request of a cancel flow (one with
// on_approved.cancel_field): it names an approved request of the
// applicant, of a flow whose cancel rule is this flow, with no other
// cancel request open.
func (e *Engine) checkCancelAtFiling(o *op, def *flowdef.Definition, applicant *User, form flowdef.Values) error {
	field := def.OnApproved.CancelField
	if field == "" {
		return nil
	}
	number, _ := form[field].(string)
	number = strings.ToUpper(strings.TrimSpace(number))
	if number == "" {
		return Errorf(CodeInvalid, "cancel_bad_target", nil)
	}
	target, err := o.tx.InstanceByNumber(number)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "cancel_bad_target", nil)
	}
	if err != nil {
		return fmt.Errorf("find request %s: %w", number, err)
	}
	if err := CanCancel(applicant, target); err != nil {
		return err
	}
	tdef, err := e.definition(o.tx, target.FlowID, target.FlowVersion)
	if err != nil {
		return fmt.Errorf("load flow of %s: %w", number, err)
	}
	if CancelFlowOf(tdef) != def.ID {
		return Errorf(CodeInvalid, "cancel_wrong_flow", map[string]any{"number": number, "flow": def.Name.In(applicant.Locale)})
	}
	if err := e.checkCancelWindow(tdef, target); err != nil {
		return err
	}
	open, err := e.store.Instances(o.ctx, InstanceFilter{Applicant: applicant.ID, FlowID: def.ID, Status: []Status{StatusPending, StatusReturned}, Limit: 1000})
	if err != nil {
		return fmt.Errorf("list open cancel requests: %w", err)
	}
	for _, c := range open {
		if strings.Contains(string(c.Form), `"`+number+`"`) {
			return Errorf(CodeConflict, "cancel_open", map[string]any{"number": number, "cancel": c.Number})
		}
	}
	return nil
}

// cancelOnApproval cancels the request an approved cancel request names
// and gives back its balance, in the approval's transaction. A request no
// longer approved (cancelled meanwhile) is left as it is.
func (e *Engine) cancelOnApproval(o *op, in *Instance, def *flowdef.Definition, form flowdef.Values) error {
	field := def.OnApproved.CancelField
	if field == "" {
		return nil
	}
	number, _ := form[field].(string)
	target, err := o.tx.InstanceByNumber(strings.ToUpper(strings.TrimSpace(number)))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find request %s: %w", number, err)
	}
	if target.Status != StatusApproved || target.Applicant != in.Applicant {
		return nil
	}
	target.Status = StatusCancelled
	if err := o.save(target); err != nil {
		return err
	}
	data := map[string]any{"by": in.Number}
	if r, _ := form["reason"].(string); r != "" {
		data["reason"] = r
	}
	if err := o.event(target, nil, EvCancelled, in.Applicant, false, data); err != nil {
		return err
	}
	if err := e.restoreBalance(o, target); err != nil {
		return err
	}
	// A delegation the cancelled request set ends with it.
	ds, err := o.tx.DelegationsOf(target.Applicant, o.now)
	if err != nil {
		return fmt.Errorf("list delegations of %s: %w", target.Applicant, err)
	}
	for _, d := range ds {
		if d.Source == "request:"+target.Number {
			if err := o.tx.EndDelegation(d.ID, o.now); err != nil {
				return fmt.Errorf("end delegation of %s: %w", target.Number, err)
			}
		}
	}
	return nil
}

// submitChecks are the checks of balance.go and cancel.go at filing.
func (e *Engine) submitChecks(o *op, def *flowdef.Definition, applicant *User, form flowdef.Values) error {
	if err := e.checkBalanceAtFiling(o, def, applicant, form); err != nil {
		return err
	}
	return e.checkCancelAtFiling(o, def, applicant, form)
}

// balanceOnApproval is what balance.go and cancel.go do when a request is
// approved: take its days from its balance, cancel the request it names.
func (e *Engine) balanceOnApproval(o *op, in *Instance, def *flowdef.Definition, applicant *User, form flowdef.Values) error {
	if err := e.useBalanceOnApproval(o, in, def, applicant, form); err != nil {
		return err
	}
	return e.cancelOnApproval(o, in, def, form)
}

// checkCancelWindow refuses to cancel target once the day its flow's
// cancel rule names (cancel.before) has begun in the business calendar's
// time zone: a leave can be cancelled until its first day.
func (e *Engine) checkCancelWindow(def *flowdef.Definition, target *Instance) error {
	if def == nil || def.Cancel == nil || def.Cancel.Before == "" {
		return nil
	}
	now := e.LocalNow()
	form, err := decodeForm(def, target.Form, now)
	if err != nil {
		return fmt.Errorf("read the form of %s: %w", target.Number, err)
	}
	if first, started := CancelStarted(def, form, now.Format("2006-01-02")); started {
		return Errorf(CodeConflict, "cancel_started", map[string]any{"number": target.Number, "date": first})
	}
	return nil
}

// CancelStarted reports whether the day the cancel rule of def names
// (cancel.before: a date, or the first day of a date range, of form) has
// begun by today ("2006-01-02"), and that day; a request past it can no
// longer be cancelled.
func CancelStarted(def *flowdef.Definition, form flowdef.Values, today string) (first string, started bool) {
	if def == nil || def.Cancel == nil || def.Cancel.Before == "" {
		return "", false
	}
	switch v := form[def.Cancel.Before].(type) {
	case string:
		first = v
	case flowdef.DateRange:
		first = v.From
	}
	return first, first != "" && first <= today
}
