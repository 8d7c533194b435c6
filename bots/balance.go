package bots

import (
	"context"
	"strconv"
	"strings"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// Leave balances while filing, and cancelling an approved request
// (`/cancel N`, the Cancel button on the applicant's approved card).

// balanceLine says what is left of the leave type the form chose:
// "年假剩余 5 天（本次 3 天）" / "Annual leave left: 5 days (this request: 3)".
// "" when the flow has no balance rule, no type is chosen yet, or the
// applicant has no balance of that type.
func (b *Bot) balanceLine(ctx context.Context, loc string, d *flowdef.Definition, applicant string, vals flowdef.Values) string {
	if d == nil || d.Balance == nil || applicant == "" {
		return ""
	}
	bal, days, ok, err := b.eng.BalanceLeft(ctx, d, applicant, vals)
	if err != nil {
		b.log.WarnContext(ctx, "read leave balance", "user", applicant, "err", err)
		return ""
	}
	if !ok {
		return ""
	}
	args := map[string]any{"type": balanceType(loc, d, bal.Type), "left": fmtDays(bal.Left()), "days": fmtDays(days)}
	line := T(loc, "balance_left", args)
	if days > 0 {
		line += T(loc, "balance_this", args)
		if days > bal.Left() {
			line += T(loc, "balance_short_hint", args)
		}
	}
	return line
}

// formBalance is the balance line of a leave form card: the chosen
// type's line, or, before a type is chosen, the balance of each type the
// applicant has ("年假剩余 8 天；病假剩余 5 天").
func (b *Bot) formBalance(ctx context.Context, loc string, d *flowdef.Definition, applicant string, vals flowdef.Values) string {
	if d == nil || d.Balance == nil || applicant == "" {
		return ""
	}
	if _, chosen := vals[d.Balance.TypeField]; chosen {
		return b.balanceLine(ctx, loc, d, applicant, vals)
	}
	f := d.Field(d.Balance.TypeField)
	if f == nil {
		return ""
	}
	sep := "；"
	if strings.HasPrefix(loc, "en") {
		sep = "; "
	}
	var lines []string
	for _, o := range f.Options {
		v := flowdef.Values{d.Balance.TypeField: o.Value}
		if line := b.balanceLine(ctx, loc, d, applicant, v); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, sep)
}

func fmtDays(d float64) string { return strconv.FormatFloat(d, 'f', -1, 64) }

// showBalance adds the balance line to the next question (a text) or to
// the summary card of a leave conversation.
func (b *Bot) showBalance(ctx context.Context, ev Event, loc string, d *flowdef.Definition, st *convState, rep *Reply) {
	if d == nil || d.Balance == nil || len(rep.Messages) == 0 {
		return
	}
	u, err := b.identify(ctx, ev)
	if err != nil || u == nil {
		return
	}
	line := b.balanceLine(ctx, loc, d, u.ID, normalize(d, st.Values, b.now()))
	if line == "" {
		return
	}
	last := &rep.Messages[len(rep.Messages)-1]
	switch {
	case last.Card != nil:
		last.Card.Fields = append(last.Card.Fields, Field{Label: T(loc, "f_balance", nil), Value: line})
	case last.Text != "":
		last.Text = line + "\n" + last.Text
	}
}

// cancelRequest files a request to cancel the approved request ref
// through its flow's cancel rule; the answer is the new cancel request's card.
func (b *Bot) cancelRequest(ctx context.Context, u *flows.User, ref, reason string) (Reply, error) {
	loc := locale(u)
	v, err := b.viewRef(ctx, ref)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	out, err := b.eng.RequestCancel(ctx, flows.CancelRequest{Actor: u.ID, Number: v.Instance.Number, Reason: reason, Told: true})
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	c := b.RequestCard(b.withRoute(ctx, b.outcomeView(out, nil)), u)
	c.Markdown = T(loc, "cancel_filed", map[string]any{"number": v.Instance.Number, "cancel": out.Instance.Number}) + "\n\n" + c.Markdown
	return Reply{Messages: []Message{{Card: c}}}, nil
}

// cancelRequestClick is the Cancel button of an approved request card.
func (b *Bot) cancelRequestClick(ctx context.Context, ev Event, u *flows.User, instID int64) (Reply, error) {
	loc := locale(u)
	v, err := b.eng.View(ctx, instID)
	if err != nil {
		return b.clickFailed(ctx, ev, u, 0, instID, err, "")
	}
	out, err := b.eng.RequestCancel(ctx, flows.CancelRequest{Actor: u.ID, Number: v.Instance.Number,
		Reason: strings.TrimSpace(ev.Action.Inputs["comment"]), Told: true})
	if err != nil {
		return b.clickFailed(ctx, ev, u, 0, instID, err, "")
	}
	c := b.RequestCard(b.withRoute(ctx, b.outcomeView(out, nil)), u)
	c.Markdown = T(loc, "cancel_filed", map[string]any{"number": v.Instance.Number, "cancel": out.Instance.Number}) + "\n\n" + c.Markdown
	// The clicked card (the approved request) stays as it is; the cancel
	// request comes as a new card.
	return Reply{Toast: T(loc, "toast_cancel_filed", nil), Messages: []Message{{Card: c}}}, nil
}

// balanceType is the label of leave type typ in d's balance type field.
func balanceType(loc string, d *flowdef.Definition, typ string) string {
	if d == nil || d.Balance == nil {
		return typ
	}
	if f := d.Field(d.Balance.TypeField); f != nil {
		for _, o := range f.Options {
			if o.Value == typ {
				return o.Label.In(loc)
			}
		}
	}
	return typ
}
