package bots

import (
	"context"
	"maps"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// amendClick is the "Amend and resubmit" button of a returned request.
func (b *Bot) amendClick(ctx context.Context, ev Event, u *flows.User, instID int64) (Reply, error) {
	v, err := b.eng.View(ctx, instID)
	if err != nil {
		return b.clickFailed(ctx, ev, u, 0, instID, err, "")
	}
	return b.amend(ctx, ev, u, v, true)
}

// amend starts a conversation that amends the returned request of v: the
// summary card with the current values, where the applicant changes fields
// (name=value, or a field's name to be asked again) and resubmits. The
// engine checks the applicant's right again when the request is resubmitted.
func (b *Bot) amend(ctx context.Context, ev Event, u *flows.User, v *flows.View, click bool) (Reply, error) {
	loc := locale(u)
	in := v.Instance
	if refusal := flows.CanResubmit(in, u.ID); refusal != nil {
		msg, _ := b.explain(ctx, loc, refusal)
		if click {
			rep := Reply{Toast: msg, ToastKind: ToastWarning}
			if flows.ErrorCode(refusal) == flows.CodeForbidden {
				// Not their request: a toast only, and no copy of it is
				// kept for them (it would show a stranger's request).
				return rep, nil
			}
			b.keepRef(ctx, ev, u, in.ID, 0)
			rep.Card = b.RequestCard(v, u)
			return rep, nil
		}
		return textReply(false, msg), nil
	}
	if b.cfg.State == nil {
		return textReply(click, T(loc, "state_down", nil)), nil
	}
	st := &convState{
		Flow: v.Def.ID, Version: in.FlowVersion, Instance: in.ID, Number: in.Number,
		Values: maps.Clone(map[string]any(v.Form)), Token: eventToken(ev),
	}
	if st.Values == nil {
		st.Values = map[string]any{}
	}
	if err := b.carryEvents(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, click, "start amending", err)
	}
	if err := b.saveConv(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, click, "start amending", err)
	}
	rep := b.next(loc, v.Def, st, nil)
	if click {
		rep.Toast = T(loc, "toast_amend", nil)
	}
	return rep, nil
}

// copyRequest starts filing a new request of the same flow pre-filled with
// the values of v, a closed request of the user's (/copy N: a rejected or
// withdrawn request filed again). Values that the flow's current version
// no longer takes are asked again; the summary card comes when none is left.
func (b *Bot) copyRequest(ctx context.Context, ev Event, u *flows.User, v *flows.View) (Reply, error) {
	loc := locale(u)
	in := v.Instance
	if in.Applicant != u.ID {
		return textReply(false, T(loc, "copy_not_yours", map[string]any{"number": in.Number})), nil
	}
	if in.Status.Open() {
		return textReply(false, T(loc, "copy_open", map[string]any{"number": in.Number})), nil
	}
	d, err := b.eng.FlowByAlias(ctx, in.FlowID)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	if !b.eng.CanStart(ctx, u, d) {
		return textReply(false, T(loc, "flow_forbidden", map[string]any{"flow": d.Name.In(loc)})), nil
	}
	if b.cfg.State == nil {
		return textReply(false, T(loc, "state_down", nil)), nil
	}
	st := &convState{Flow: d.ID, Values: map[string]any{}, Token: eventToken(ev)}
	now := b.localNow()
	for i := range d.Fields {
		f := &d.Fields[i]
		old, ok := v.Form[f.ID]
		if ok && old != nil {
			if nv, err := flowdef.Normalize(f, old, now); err == nil {
				// The rules of today hold: a date now in the past is asked again.
				if _, problems := (&flowdef.Definition{Fields: []flowdef.Field{*f}}).CheckForm(map[string]any{f.ID: nv}, now); problems == nil {
					st.Values[f.ID] = nv
					continue
				}
			}
		}
		if f.Required || ok {
			st.Pending = append(st.Pending, f.ID)
		}
	}
	st.Total = len(st.Pending)
	if err := b.carryEvents(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, false, "start copy", err)
	}
	if err := b.saveConv(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, false, "start copy", err)
	}
	rep := b.next(loc, d, st, []string{T(loc, "copy_started", map[string]any{"number": in.Number})})
	return rep, nil
}
