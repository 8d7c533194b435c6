package bots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// click handles a card button.
func (b *Bot) click(ctx context.Context, ev Event, u *flows.User) (Reply, error) {
	loc := locale(u)
	a := ev.Action
	input := func(k string) string { return strings.TrimSpace(a.Inputs[k]) }
	switch a.Name {
	case "submit", "cancel", actionForm, actionFormSubmit, "amend", "copy":
		// Clicks that start, change or end a conversation.
		if rep, dup, err := b.convDuplicate(ctx, ev, u); dup {
			return rep, err
		}
	}
	switch a.Name {
	case "submit":
		return b.submitConv(ctx, ev, u, a.Value["conv"], a.Value["v"], true)
	case "cancel":
		return b.cancelClick(ctx, ev, u, a.Value["conv"])
	case actionForm:
		return b.formClick(ctx, ev, u, a.Value["conv"])
	case actionFormSubmit:
		return b.formSubmit(ctx, ev, u, a)
	case "delegate_off", "delegate_set":
		return b.delegateClick(ctx, u, a)
	}
	taskID, instID := parseID(a.Value["task"]), parseID(a.Value["instance"])
	switch a.Name {
	case "approve", "reject", "return", "send_back", "transfer", "add_signer":
		if taskID == 0 {
			return Reply{Toast: T(loc, "bad_button", nil), ToastKind: ToastWarning}, nil
		}
	case "withdraw", "keep", "urge", "amend", "view", "copy", "reply", "cancel_request", "rate":
		if instID == 0 {
			return Reply{Toast: T(loc, "bad_button", nil), ToastKind: ToastWarning}, nil
		}
	case "comment":
		if taskID == 0 && instID == 0 {
			return Reply{Toast: T(loc, "bad_button", nil), ToastKind: ToastWarning}, nil
		}
	default:
		return Reply{Toast: T(loc, "unknown_action", map[string]any{"action": truncate(a.Name, 40)}), ToastKind: ToastWarning}, nil
	}
	switch a.Name {
	case "cancel_request":
		return b.cancelRequestClick(ctx, ev, u, instID)
	case "amend":
		return b.amendClick(ctx, ev, u, instID)
	case "view":
		return b.viewClick(ctx, u, instID)
	case "withdraw":
		if a.Value["confirm"] != "yes" {
			return b.confirmWithdraw(ctx, ev, u, instID)
		}
	case "keep":
		return b.keepClick(ctx, ev, u, instID)
	case "copy":
		v, err := b.eng.View(ctx, instID)
		if err != nil {
			return b.clickFailed(ctx, ev, u, 0, instID, err, "")
		}
		if v.Instance.Applicant != u.ID {
			return Reply{Toast: T(loc, "copy_not_yours", map[string]any{"number": v.Instance.Number}), ToastKind: ToastWarning}, nil
		}
		rep, err := b.copyRequest(ctx, ev, u, v)
		rep.Toast = T(loc, "toast_copy", nil)
		return rep, err
	}
	var (
		out       *flows.Outcome
		err       error
		toast     string
		highlight string // the input to highlight when the answer is an error
	)
	switch a.Name {
	case "approve":
		toast = T(loc, "toast_approved", nil)
		out, err = b.eng.Decide(ctx, flows.DecideRequest{Actor: u.ID, TaskID: taskID, Approve: true, Comment: input("comment")})
	case "reject", "return", "send_back":
		outcome := flowdef.RejectAction(a.Value["outcome"])
		switch a.Name {
		case "return":
			outcome = flowdef.RejectReturn
		case "send_back":
			outcome = flowdef.RejectSendBack
		}
		toast, highlight = T(loc, "toast_rejected", nil), "comment"
		req := flows.DecideRequest{Actor: u.ID, TaskID: taskID, Outcome: outcome, Comment: input("comment")}
		if outcome == flowdef.RejectSendBack {
			req.ToStep = input("to_step")
			if req.ToStep == ToApplicant { // "send back to the applicant": a return
				req.Outcome, req.ToStep = flowdef.RejectReturn, ""
			}
		}
		out, err = b.eng.Decide(ctx, req)
		switch errKey(err) {
		case "reason_required":
			err = userErr("toast_reason", nil)
		case "to_step_required", "step_not_passed":
			highlight = "to_step"
		}
		if err == nil {
			toast = decidedToast(loc, out, taskID)
		}
	case "transfer", "add_signer":
		highlight = "user"
		var to *flows.User
		if to, err = b.findUser(ctx, input("user")); err != nil {
			break
		}
		if a.Name == "transfer" {
			toast = T(loc, "toast_transferred", map[string]any{"to": to.Name})
			out, err = b.eng.Transfer(ctx, u.ID, taskID, to.ID, input("comment"))
			if errKey(err) == "reason_required" {
				highlight = "comment"
			}
			break
		}
		pos, ok := signerPosition(input("position"), a.Value["position"])
		if !ok {
			highlight, err = "position", userErr("position_invalid", nil)
			break
		}
		toast = T(loc, "toast_signer", map[string]any{"who": to.Name})
		out, err = b.eng.AddSigner(ctx, u.ID, taskID, to.ID, pos, input("comment"))
	case "comment":
		highlight = "comment"
		if input("comment") == "" {
			err = userErr("toast_need_text", nil)
			break
		}
		if instID == 0 {
			if instID, err = b.instanceOfTask(ctx, taskID); err != nil {
				break
			}
		}
		toast = T(loc, "toast_commented", nil)
		out, err = b.eng.Comment(ctx, u.ID, instID, input("comment"))
	case "withdraw":
		toast = T(loc, "toast_withdrawn", nil)
		out, err = b.eng.Withdraw(ctx, u.ID, instID, input("comment"))
	case "reply":
		highlight = "comment"
		to := a.Value["to"]
		if input("comment") == "" {
			err = userErr("toast_need_text", nil)
			break
		}
		toast = T(loc, "toast_replied", map[string]any{"to": b.name(loc, to)})
		out, err = b.eng.ReplyComment(ctx, u.ID, instID, to, input("comment"))
	case "urge":
		toast = T(loc, "toast_urged", nil)
		out, err = b.eng.Urge(ctx, u.ID, instID)
	case "rate":
		highlight = "comment"
		toast = T(loc, "toast_rated", nil)
		out, err = b.eng.Rate(ctx, u.ID, instID, rateScore(a.Value["score"]), input("comment"))
	}
	if err != nil {
		return b.clickFailed(ctx, ev, u, taskID, instID, err, highlight)
	}
	if a.Name == "reply" {
		// The comment card stays as it was; the reply is its own message.
		return Reply{Toast: toast}, nil
	}
	if taskID > 0 {
		v := b.outcomeView(out, nil)
		t := findTask(v.Tasks, taskID, out.Task)
		if t != nil && t.Status == flows.TaskPending {
			// Still theirs (comment, add signer after): the send-back
			// choices need the whole history.
			v = b.withHistory(ctx, v)
		}
		if t != nil {
			b.keepRef(ctx, ev, u, out.Instance.ID, taskID)
		} else {
			b.keepRef(ctx, ev, u, out.Instance.ID, 0)
		}
		return Reply{Toast: toast, Card: b.TaskCard(v, t, u)}, nil
	}
	b.keepRef(ctx, ev, u, out.Instance.ID, 0)
	return Reply{Toast: toast, Card: b.RequestCard(b.withRoute(ctx, b.withHistory(ctx, b.outcomeView(out, nil))), u)}, nil
}

// decidedToast says what a "no" did: rejected, returned for changes, or
// sent back to a named step.
func decidedToast(loc string, out *flows.Outcome, taskID int64) string {
	t := findTask(out.Tasks, taskID, out.Task)
	if t == nil {
		return T(loc, "toast_rejected", nil)
	}
	switch t.Status {
	case flows.TaskReturned:
		return T(loc, "toast_returned", nil)
	case flows.TaskSentBack:
		return T(loc, "toast_sent_back", map[string]any{"step": stepName(loc, out.Def, out.Instance.StepID)})
	}
	return T(loc, "toast_rejected", nil)
}

// confirmWithdraw answers the Withdraw button with the request card asking
// to confirm: Yes withdraws (with an optional reason), No keeps it.
// Nothing changes until Yes.
func (b *Bot) confirmWithdraw(ctx context.Context, ev Event, u *flows.User, instID int64) (Reply, error) {
	loc := locale(u)
	v, err := b.eng.View(ctx, instID)
	if err != nil {
		return b.clickFailed(ctx, ev, u, 0, instID, err, "")
	}
	if err := flows.CanWithdraw(v.Instance, u.ID); err != nil {
		return b.clickFailed(ctx, ev, u, 0, instID, err, "")
	}
	c := b.RequestCard(v, u)
	c.Markdown = joinNonEmpty("\n\n", T(loc, "confirm_withdraw", map[string]any{"flow": v.Def.Name.In(loc), "number": v.Instance.Number}), c.Markdown)
	c.Color = ColorOrange
	id := strconv.FormatInt(instID, 10)
	c.Inputs = []Input{{Name: "comment", Label: T(loc, "in_withdraw_reason", nil), Kind: InputTextarea}}
	c.Buttons = []Button{
		{Label: T(loc, "btn_withdraw_yes", nil), Action: "withdraw", Value: map[string]string{"instance": id, "confirm": "yes"}, Style: StyleDanger},
		{Label: T(loc, "btn_withdraw_no", nil), Action: "keep", Value: map[string]string{"instance": id}, Style: StyleDefault},
	}
	b.keepRef(ctx, ev, u, instID, 0)
	return Reply{Card: c}, nil
}

// keepClick answers "No, keep it": the request card as it is.
func (b *Bot) keepClick(ctx context.Context, ev Event, u *flows.User, instID int64) (Reply, error) {
	v, err := b.eng.View(ctx, instID)
	if err != nil {
		return b.clickFailed(ctx, ev, u, 0, instID, err, "")
	}
	if !b.canSee(u, v) {
		return Reply{Toast: T(locale(u), "not_visible", map[string]any{"ref": v.Instance.Number}), ToastKind: ToastWarning}, nil
	}
	b.keepRef(ctx, ev, u, instID, 0)
	return Reply{Toast: T(locale(u), "toast_kept", nil), Card: b.RequestCard(v, u)}, nil
}

// viewClick opens a request from a list (/mine): its card as a new
// message, the list left as it is.
func (b *Bot) viewClick(ctx context.Context, u *flows.User, instID int64) (Reply, error) {
	loc := locale(u)
	v, err := b.eng.View(ctx, instID)
	if err != nil {
		msg, internal := b.explain(ctx, loc, err)
		if internal {
			return Reply{Toast: msg, ToastKind: ToastError}, err
		}
		return Reply{Toast: msg, ToastKind: ToastWarning}, nil
	}
	if !b.canSee(u, v) {
		return Reply{Toast: T(loc, "not_visible", map[string]any{"ref": v.Instance.Number}), ToastKind: ToastWarning}, nil
	}
	return Reply{Messages: []Message{{Card: b.RequestCard(v, u)}}}, nil
}

// clickFailed answers a refused or failed click: the reason as a toast and
// a card showing the current state, with the input at fault highlighted.
func (b *Bot) clickFailed(ctx context.Context, ev Event, u *flows.User, taskID, instID int64, err error, highlight string) (Reply, error) {
	loc := locale(u)
	msg, internal := b.explain(ctx, loc, err)
	if internal {
		return Reply{Toast: msg, ToastKind: ToastError}, err
	}
	rep := Reply{Toast: msg, ToastKind: ToastWarning}
	if flows.ErrorCode(err) == flows.CodeForbidden {
		// Not theirs (a card seen in a group chat, a forwarded card): a
		// toast only. A card answer would replace the shared card for
		// everyone, drawn for the wrong person.
		return rep, nil
	}
	if instID == 0 && taskID > 0 {
		if id, err := b.instanceOfTask(ctx, taskID); err == nil {
			instID = id
		}
	}
	if instID == 0 {
		return rep, nil
	}
	v, verr := b.eng.View(ctx, instID)
	if verr != nil {
		b.log.WarnContext(ctx, "load request for refused click", "err", verr)
		return rep, nil
	}
	t := findTask(v.Tasks, taskID, nil)
	if t == nil {
		rep.Card = b.RequestCard(v, u)
		b.keepRef(ctx, ev, u, instID, 0)
		return rep, nil
	}
	rep.Card = b.TaskCard(v, t, u)
	b.keepRef(ctx, ev, u, instID, taskID)
	for i := range rep.Card.Inputs {
		in := &rep.Card.Inputs[i]
		// What was typed stays: the card comes back to be corrected,
		// not to be typed again.
		if typed, ok := ev.Action.Inputs[in.Name]; ok && typed != "" {
			in.Value = truncate(typed, maxInputEcho)
		}
		if in.Name == highlight {
			in.Error = msg
		}
	}
	return rep, nil
}

// maxInputEcho bounds the typed text a refused card shows again.
const maxInputEcho = 4000

// keepRef records that the message a click came from now shows the card
// of request instID (the task card of taskID; 0: the request card), so
// that the notifier's later updates of the request's cards reach it too.
// Best effort: a failure is logged, the click's answer stands.
func (b *Bot) keepRef(ctx context.Context, ev Event, u *flows.User, instID, taskID int64) {
	if ev.Action == nil || ev.Action.MessageRef == "" || instID == 0 {
		return
	}
	r := &flows.MessageRef{
		InstanceID: instID, TaskID: taskID, Recipient: u.ID,
		Platform: platformKey(ev, u), Ref: ev.Action.MessageRef, CreatedAt: b.now(),
	}
	if k, ok := ctx.Value(keptRefsKey{}).(*keptRefs); ok && k.add(r) {
		return // saved with the event's confirmation (Handle)
	}
	b.saveRefs(ctx, []*flows.MessageRef{r})
}

// saveRefs saves refs one by one, logging what fails.
func (b *Bot) saveRefs(ctx context.Context, refs []*flows.MessageRef) {
	for _, r := range refs {
		if err := b.store.SaveMessageRef(ctx, r); err != nil {
			b.log.WarnContext(ctx, "save message ref of clicked card", "instance", r.InstanceID, "task", r.TaskID, "platform", r.Platform, "err", err)
		}
	}
}

// keptRefs are the refs of the cards an event clicked, kept for the
// write that confirms the event (DedupeRefKeeper).
type keptRefs struct {
	mu    sync.Mutex
	refs  []*flows.MessageRef
	taken bool
}

type keptRefsKey struct{}

// add keeps r, unless the refs were taken already.
func (k *keptRefs) add(r *flows.MessageRef) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.taken {
		return false
	}
	k.refs = append(k.refs, r)
	return true
}

// take returns the refs kept so far and keeps no more: a ref added
// later is saved at once.
func (k *keptRefs) take() []*flows.MessageRef {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	refs := k.refs
	k.refs, k.taken = nil, true
	return refs
}

// platformKey is the key of u.Platforms the event came through, the key
// the notifier files message refs under: "feishu:cli_a" for an app-qualified
// id, else the platform name.
func platformKey(ev Event, u *flows.User) string {
	if ev.App == "" {
		return ev.Platform
	}
	k := ev.Platform + ":" + ev.App
	if u.Platforms[k] != ev.UserID && u.Platforms[ev.Platform] == ev.UserID {
		return ev.Platform
	}
	return k
}

func parseID(s string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// instanceOfTask returns the instance id of a task.
func (b *Bot) instanceOfTask(ctx context.Context, taskID int64) (int64, error) {
	var id int64
	err := b.store.View(ctx, func(tx flows.Tx) error {
		t, err := tx.Task(taskID)
		if err != nil {
			return err
		}
		id = t.InstanceID
		return nil
	})
	if errors.Is(err, flows.ErrNotFound) {
		return 0, flows.Errorf(flows.CodeNotFound, "task_unknown", nil)
	}
	if err != nil {
		return 0, fmt.Errorf("load task %d: %w", taskID, err)
	}
	return id, nil
}

// findUser finds a directory user by id, email or exact name.
func (b *Bot) findUser(ctx context.Context, q string) (*flows.User, error) {
	if q == "" {
		return nil, userErr("toast_need_user", nil)
	}
	u, err := b.store.User(ctx, q)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, flows.ErrNotFound) {
		return nil, fmt.Errorf("find user %q: %w", q, err)
	}
	if strings.Contains(q, "@") {
		u, err := b.store.UserByEmail(ctx, q)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, flows.ErrNotFound) {
			return nil, fmt.Errorf("find user by email: %w", err)
		}
	}
	found, err := b.matchUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, userErr("user_not_found", map[string]any{"q": truncate(q, 40)})
	}
	ids := make([]string, len(found))
	for i, x := range found {
		ids[i] = x.ID
	}
	return nil, userErr("user_ambiguous", map[string]any{"q": truncate(q, 40), "ids": strings.Join(ids, ", ")})
}

// matchUsers lists the directory users whose name or id is q (any case),
// or who have q as an id on a platform.
func (b *Bot) matchUsers(ctx context.Context, q string) ([]*flows.User, error) {
	users, err := b.store.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var found []*flows.User
	for _, x := range users {
		if strings.EqualFold(x.Name, q) || strings.EqualFold(x.ID, q) || hasPlatformID(x, q) {
			found = append(found, x)
		}
	}
	return found, nil
}

// choicesText lists the people called q, numbered, with their department
// and id, so that the answer can be a number.
func (b *Bot) choicesText(ctx context.Context, loc, q string) string {
	found, err := b.matchUsers(ctx, q)
	if err != nil || len(found) < 2 {
		return T(loc, "user_not_found", map[string]any{"q": truncate(q, 40)})
	}
	lines := []string{T(loc, "user_choose", map[string]any{"q": truncate(q, 40)})}
	for i, x := range found {
		lines = append(lines, fmt.Sprintf("%d. %s（%s · %s）", i+1, x.Name, b.deptName(loc, x.Dept), x.ID))
	}
	return strings.Join(lines, "\n")
}

// hasPlatformID reports whether q is one of u's ids on a platform (what a
// platform's user picker sends back).
func hasPlatformID(u *flows.User, q string) bool {
	for _, id := range u.Platforms {
		if id == q {
			return true
		}
	}
	return false
}

// signerPosition reads the add-signer position from the input or the
// button value; empty means before.
func signerPosition(in, val string) (flows.SignerPosition, bool) {
	s := strings.ToLower(strings.TrimSpace(in))
	if s == "" {
		s = strings.ToLower(strings.TrimSpace(val))
	}
	switch s {
	case "", "before", "前", "之前", "前加签":
		return flows.SignBefore, true
	case "after", "后", "之后", "后加签":
		return flows.SignAfter, true
	case "alongside", "together", "同时", "并", "并加签", "会签":
		return flows.SignAlongside, true
	}
	return "", false
}

// outcomeView builds a View from an engine outcome without reading the
// store again: its Events are before (events already loaded, e.g. by the
// View a command started from) followed by those of the call, and its Route
// is nil (see withRoute).
func (b *Bot) outcomeView(out *flows.Outcome, before []*flows.Event) *flows.View {
	v := &flows.View{Instance: out.Instance, Def: out.Def, Form: out.Form, Applicant: out.Applicant, Tasks: out.Tasks}
	v.Events = append(append(make([]*flows.Event, 0, len(before)+len(out.Events)), before...), out.Events...)
	if v.Applicant == nil { // not set by every engine call; show the id
		v.Applicant = &flows.User{ID: out.Instance.Applicant, Name: out.Instance.Applicant}
	}
	return v
}

// withRoute computes v's route from its form (Engine.Route), best effort:
// without it the card derives the route from the tasks.
func (b *Bot) withRoute(ctx context.Context, v *flows.View) *flows.View {
	route, err := b.eng.Route(ctx, v)
	if err != nil {
		b.log.WarnContext(ctx, "compute route for card", "instance", v.Instance.ID, "err", err)
		return v
	}
	v.Route = route
	return v
}

// maxEvents bounds the events read to show a request's history.
const maxEvents = 10000

// withHistory replaces v's events by the request's whole event history:
// one store query instead of a full Engine.View. On failure v keeps the
// events it has.
func (b *Bot) withHistory(ctx context.Context, v *flows.View) *flows.View {
	evs, err := b.store.Events(ctx, flows.EventFilter{InstanceID: v.Instance.ID, Limit: maxEvents})
	if err != nil {
		b.log.WarnContext(ctx, "load history for card", "instance", v.Instance.ID, "err", err)
		return v
	}
	v.Events = evs
	return v
}

// submitConv files the conversation's request (the summary's Submit, by
// click or by text).
//
// A click carries the digest of the values its card shows: a card that
// shows other values than the conversation holds now is refused, so a
// card files exactly what it shows and the newest card is the live one.
func (b *Bot) submitConv(ctx context.Context, ev Event, u *flows.User, token, digest string, click bool) (Reply, error) {
	loc := locale(u)
	if b.cfg.State == nil {
		return textReply(click, T(loc, "state_down", nil)), nil
	}
	st, err := b.loadConv(ctx, ev)
	if err != nil {
		return b.stateDown(ctx, loc, click, "load conversation to submit", err)
	}
	if st == nil || (click && st.Token != token) || len(st.Pending) > 0 {
		if st == nil {
			b.log.DebugContext(ctx, "submit of no open conversation", "event", ev.ID, "token", token)
		} else {
			b.log.DebugContext(ctx, "submit of another conversation", "event", ev.ID, "token", token, "open", st.Token, "pending", len(st.Pending))
		}
		rep := textReply(click, T(loc, "conv_stale", nil))
		if click {
			rep.ToastKind = ToastWarning
		}
		return rep, nil
	}
	if click && digest != st.digest() {
		msg := T(loc, "confirm_outdated", nil)
		title := st.Flow
		if d, err := b.convDef(ctx, st); err == nil {
			title = d.Name.In(loc)
		}
		return Reply{Toast: msg, ToastKind: ToastWarning, Card: &Card{Title: title, Color: ColorGrey, Note: msg}}, nil
	}
	// The conversation's token makes the submission idempotent in the
	// engine: a double click, or a redelivery after a crash, files once.
	// The conversation ends only after the request is filed, so a crash in
	// between loses nothing.
	var out *flows.Outcome
	if st.Instance > 0 {
		out, err = b.eng.Resubmit(ctx, u.ID, st.Instance, st.Values)
	} else {
		req := flows.SubmitRequest{Actor: u.ID, FlowID: st.Flow, Values: st.Values, Key: st.Token, Told: true}
		if !click {
			// The confirmation goes into this chat, written with the
			// request itself: a crash after the filing cannot lose it.
			if req.ReplyTo, err = json.Marshal(replyData{To: replyTo(ev), RefPlatform: platformKey(ev, u)}); err != nil {
				return Reply{}, fmt.Errorf("encode reply address: %w", err)
			}
		}
		out, err = b.eng.Submit(ctx, req)
	}
	if err != nil {
		return b.submitFailed(ctx, ev, u, st, err, click)
	}
	if err := b.endConv(ctx, ev, st); err != nil {
		// Filed all the same; a later Submit of this conversation is
		// refused by the key, and the state expires with its TTL.
		b.log.WarnContext(ctx, "end conversation", "err", err)
	}
	// A new request's outcome holds all its events: no reload needed.
	v := b.outcomeView(out, nil)
	msg := T(loc, "submitted", map[string]any{"number": out.Instance.Number})
	if st.Instance > 0 {
		b.withHistory(ctx, v)
		msg = T(loc, "resubmitted", map[string]any{"number": out.Instance.Number})
	}
	b.withRoute(ctx, v)
	card := b.RequestCard(v, u)
	if click {
		b.keepRef(ctx, ev, u, out.Instance.ID, 0)
		return Reply{Toast: msg, Card: card}, nil
	}
	card.Markdown = joinNonEmpty("\n\n", msg, card.Markdown)
	reply := Message{Card: card}
	for _, m := range out.Outbox {
		if m.Kind == flows.MsgSubmitted && m.Recipient == u.ID {
			if _, _, ok := ReplyTarget(m.Data); ok {
				// Durable already: the notifier sends the engine's message
				// with this key; an adapter showing this copy at once
				// (the web playground) dedupes by it.
				reply.Key = OutboxKey(m.ID)
			}
		}
	}
	return Reply{Messages: []Message{reply}}, nil
}

// submitFailed keeps the conversation when Submit refused the form (the
// fields at fault are asked again) or failed inside.
func (b *Bot) submitFailed(ctx context.Context, ev Event, u *flows.User, st *convState, err error, click bool) (Reply, error) {
	loc := locale(u)
	msg, internal := b.explain(ctx, loc, err)
	var fe *flows.Error
	if errors.As(err, &fe) && fe.Key == "already_submitted" {
		// A second click on Submit: the first one filed it; end the
		// conversation it left behind.
		if derr := b.endConv(ctx, ev, st); derr != nil {
			b.log.WarnContext(ctx, "end submitted conversation", "err", derr)
		}
		return Reply{Toast: msg, ToastKind: ToastWarning, Messages: clickless(click, msg)}, nil
	}
	if errors.As(err, &fe) && len(fe.Fields) > 0 {
		if d, derr := b.convDef(ctx, st); derr == nil {
			st.Pending = nil
			for _, f := range d.Fields {
				if _, bad := fe.Fields[f.ID]; bad {
					st.Pending = append(st.Pending, f.ID)
					delete(st.Values, f.ID)
				}
			}
			st.Total = len(st.Pending)
			rep, serr := b.saveAndNext(ctx, ev, loc, d, st, []string{msg})
			if serr != nil {
				return rep, serr
			}
			if click {
				rep.Toast = msg
			}
			return rep, nil
		}
	}
	if internal { // let the user submit again
		// Not recorded: the platform delivers the event again.
		if serr := b.writeConv(ctx, ev, st); serr != nil {
			b.log.WarnContext(ctx, "restore conversation", "err", serr)
		}
		return textReply(click, msg), err
	}
	return textReply(click, msg), nil
}

// cancelClick is the summary's Cancel button.
func (b *Bot) cancelClick(ctx context.Context, ev Event, u *flows.User, token string) (Reply, error) {
	loc := locale(u)
	if b.cfg.State == nil {
		return Reply{Toast: T(loc, "state_down", nil)}, nil
	}
	st, err := b.loadConv(ctx, ev)
	if err != nil {
		return b.stateDown(ctx, loc, true, "load conversation to cancel", err)
	}
	if st == nil || st.Token != token {
		return Reply{Toast: T(loc, "conv_stale", nil), ToastKind: ToastWarning}, nil
	}
	if err := b.endConv(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, true, "cancel conversation", err)
	}
	title := st.Flow
	if d, err := b.convDef(ctx, st); err == nil {
		title = d.Name.In(loc)
	}
	msg := T(loc, "conv_cancelled", nil)
	return Reply{Toast: msg, Card: &Card{Title: title, Color: ColorGrey, Note: msg}}, nil
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// errKey returns the message key of an engine error, or "".
func errKey(err error) string {
	var fe *flows.Error
	if errors.As(err, &fe) {
		return fe.Key
	}
	return ""
}

// clickless returns msg as a chat message when the event was not a click
// (a click's answer is its toast).
func clickless(click bool, msg string) []Message {
	if click {
		return nil
	}
	return []Message{{Text: msg}}
}
