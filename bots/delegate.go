package bots

import (
	"context"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// offWords end a delegation: /delegate off.
var offWords = []string{"off", "stop", "end", "关闭", "结束", "取消"}

// delegate runs /delegate (委托, 代理):
//
//	/delegate                               show my delegations (a card with "End delegation")
//	/delegate @赵敏 2026-12-01 2026-12-10    my new tasks go to 赵敏 in that period
//	/delegate @赵敏 2026-12-10               from today to that day
//	/delegate @赵敏 ... --pending            and hand over my pending tasks now
//	/delegate off                           end my delegations now
func (b *Bot) delegate(ctx context.Context, u *flows.User, cmd Command) (Reply, error) {
	loc := locale(u)
	var words []string
	pending := false
	for _, w := range cmd.Words {
		switch strings.ToLower(w) {
		case "--pending", "-p", "--待办", "含待办":
			pending = true
		default:
			words = append(words, w)
		}
	}
	if v, ok := cmd.Args["pending"]; ok && v != "no" && v != "false" {
		pending = true
	}
	if len(words) == 0 {
		return b.delegationCard(ctx, u)
	}
	for _, w := range offWords {
		if strings.EqualFold(words[0], w) {
			return b.delegateOff(ctx, u)
		}
	}
	if len(words) > 3 {
		return textReply(false, T(loc, "delegate_usage", nil)), nil
	}
	switch len(words) {
	case 2:
		return b.setDelegation(ctx, u, words[0], "", words[1], pending)
	case 3:
		return b.setDelegation(ctx, u, words[0], words[1], words[2], pending)
	}
	return textReply(false, T(loc, "delegate_usage", nil)), nil
}

// setDelegation delegates u's approvals to the user q names (an id, a
// name, an email, a platform id, with or without "@").
func (b *Bot) setDelegation(ctx context.Context, u *flows.User, q, start, end string, pending bool) (Reply, error) {
	loc := locale(u)
	to, err := b.findUser(ctx, strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(q), "@"), "＠"))
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	if strings.TrimSpace(end) == "" {
		return textReply(false, T(loc, "delegate_usage", nil)), nil
	}
	res, err := b.eng.Delegate(ctx, flows.DelegateRequest{Actor: u.ID, To: to.ID, Start: start, End: end, Pending: pending})
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	d := res.Delegation
	text := T(loc, "delegate_set", map[string]any{"to": to.Name, "from": b.day(u, d.Start), "until": b.day(u, d.End.Add(-time.Nanosecond))})
	if pending {
		text += "\n" + T(loc, "delegate_handed", map[string]any{"n": len(res.Handed), "kept": len(res.Kept)})
	}
	return textReply(false, text), nil
}

// delegateClick handles the buttons of the delegation card.
func (b *Bot) delegateClick(ctx context.Context, u *flows.User, a *Action) (Reply, error) {
	var r Reply
	var err error
	if a.Name == "delegate_off" {
		r, err = b.delegateOff(ctx, u)
	} else {
		in := func(k string) string { return strings.TrimSpace(a.Inputs[k]) }
		if in("to") == "" {
			return Reply{Toast: T(locale(u), "toast_need_user", nil), ToastKind: ToastWarning}, nil
		}
		r, err = b.setDelegation(ctx, u, in("to"), in("start"), in("end"), in("pending") == "true")
	}
	if err == nil && len(r.Messages) == 1 {
		r = Reply{Toast: r.Messages[0].Text}
	}
	return r, err
}

// delegateOff ends the user's delegations.
func (b *Bot) delegateOff(ctx context.Context, u *flows.User) (Reply, error) {
	loc := locale(u)
	n, err := b.eng.EndDelegations(ctx, u.ID)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	if n == 0 {
		return textReply(false, T(loc, "delegate_none", nil)), nil
	}
	return textReply(false, T(loc, "delegate_ended", nil)), nil
}

// delegationCard shows the user's delegations with a button to end them.
func (b *Bot) delegationCard(ctx context.Context, u *flows.User) (Reply, error) {
	loc := locale(u)
	ds, err := b.eng.Delegations(ctx, u.ID)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	c := &Card{Title: T(loc, "delegate_title", nil), Color: ColorBlue, Note: T(loc, "delegate_usage", nil)}
	for _, d := range ds {
		c.Fields = append(c.Fields, Field{Label: b.name(loc, d.To), Value: b.day(u, d.Start) + " – " + b.day(u, d.End.Add(-time.Nanosecond))})
	}
	if len(ds) == 0 {
		c.Markdown = T(loc, "delegate_none", nil)
	}
	c.Inputs = []Input{
		{Name: "to", Label: T(loc, "in_delegate_to", nil), Kind: InputUser, Required: true},
		{Name: "start", Label: T(loc, "in_delegate_start", nil), Kind: InputDate, Value: b.day(u, b.eng.Now())},
		{Name: "end", Label: T(loc, "in_delegate_end", nil), Kind: InputDate, Required: true},
		{Name: "pending", Label: T(loc, "in_delegate_pending", nil), Kind: InputBool},
	}
	c.Buttons = []Button{{Label: T(loc, "btn_delegate_set", nil), Action: "delegate_set", Style: StylePrimary}}
	if len(ds) > 0 {
		c.Buttons = append(c.Buttons, Button{Label: T(loc, "btn_delegate_off", nil), Action: "delegate_off", Style: StyleDanger})
	}
	return Reply{Messages: []Message{{Card: c}}}, nil
}

// day formats t as a date in the user's time zone.
func (b *Bot) day(u *flows.User, t time.Time) string {
	return t.In(userTZ(u)).Format("2006-01-02")
}

// userTZ is the user's time zone, Asia/Shanghai when unset or unknown.
func userTZ(u *flows.User) *time.Location {
	if u != nil && u.TZ != "" {
		if l, err := time.LoadLocation(u.TZ); err == nil {
			return l
		}
	}
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}
