package bots

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// Card size limits: every card must fit Feishu's 30 KB and Teams' 28 KB.
const (
	maxCardFields = 15  // key/value lines per card
	maxFieldText  = 500 // characters per value
	maxHistory    = 5   // events shown on a request card
)

// TaskCard is the approver's card of task t: the request's key facts and,
// while t waits for viewer's decision, the Approve / Reject / Transfer /
// Add signer / Comment buttons with their inputs. A closed task shows no
// buttons and a note saying who closed it and when, in the viewer's locale
// and time zone.
func (b *Bot) TaskCard(v *flows.View, t *flows.Task, viewer *flows.User) *Card {
	b.ensureDirectory()
	if t == nil {
		return b.RequestCard(v, viewer)
	}
	c := b.taskCard(v, t, viewer)
	c.About = &About{InstanceID: v.Instance.ID, TaskID: t.ID}
	return c
}

func (b *Bot) taskCard(v *flows.View, t *flows.Task, viewer *flows.User) *Card {
	loc, tz := locale(viewer), b.zone(viewer)
	in := v.Instance
	c := &Card{Title: cardTitle(loc, v), Color: taskColor(t, in)}
	c.Fields = append(c.Fields,
		Field{Label: T(loc, "f_applicant", nil), Value: applicantName(v)},
		Field{Label: T(loc, "f_dept", nil), Value: b.deptName(loc, applicantDept(v))},
	)
	if s, _ := v.Def.Step(t.StepID); s != nil {
		c.Fields = append(c.Fields, Field{Label: T(loc, "f_step", nil), Value: s.Name.In(loc)})
	}
	var md []string
	c.Fields, md = b.formFields(loc, v, c.Fields, md)
	if e := sentBackHere(v, t); e != nil && t.Status == flows.TaskPending {
		var d struct {
			Comment string `json:"comment"`
		}
		_ = json.Unmarshal(e.Data, &d)
		md = append(md, T(loc, "hd_sent_back_task", map[string]any{"by": b.name(loc, e.Actor), "reason": truncate(d.Comment, 200)}))
	}
	c.Links = b.fileLinks(loc, v, viewer)
	if t.From != "" && t.Note != "" && t.Status == flows.TaskPending {
		md = append(md, T(loc, "hd_task_from", map[string]any{"from": b.name(loc, t.From), "reason": truncate(t.Note, 200)}))
	}
	if t.Status == flows.TaskPending && in.Status == flows.StatusPending && in.LastUrgeAt != nil &&
		(t.StartedAt == nil || !in.LastUrgeAt.Before(*t.StartedAt)) {
		// Part of the card's state, so that every copy and every answer
		// to a click keeps it.
		md = append([]string{T(loc, "urged_line", map[string]any{"applicant": applicantName(v), "at": b.fmtTime(tz, in.LastUrgeAt)})}, md...)
	}
	if t.Status == flows.TaskPending && in.Status == flows.StatusPending && t.Reminders > 0 && viewer != nil && viewer.ID == t.Assignee {
		// The reminder is part of the assignee's card: every copy keeps it.
		since := t.CreatedAt
		if t.StartedAt != nil {
			since = *t.StartedAt
		}
		md = append([]string{T(loc, "hd_reminder", map[string]any{"flow": v.Def.Name.In(loc), "number": in.Number, "wait": duration(loc, b.now().Sub(since))})}, md...)
		c.Color = ColorOrange
	}
	escTo, escAt := escalation(v, t)
	if t.Status == flows.TaskPending && in.Status == flows.StatusPending && escAt != nil {
		// Every copy shows the escalation: the approver's, the applicant's
		// and the escalation target's.
		md = append([]string{T(loc, "escalated_line", map[string]any{"assignee": b.name(loc, t.Assignee), "at": b.fmtTime(tz, escAt)})}, md...)
		c.Color = ColorOrange
	}
	if t.OnBehalfOf != "" && t.Open() {
		md = append(md, T(loc, "hd_task_for", map[string]any{"for": b.name(loc, t.OnBehalfOf)}))
	}
	if t.Comment != "" && !t.Open() {
		md = append(md, T(loc, "comment_line", map[string]any{"who": b.name(loc, t.DecidedBy), "text": truncate(t.Comment, 300)}))
	}
	c.Markdown = strings.Join(md, "\n")
	if t.Status == flows.TaskPending && in.Status == flows.StatusPending && viewer != nil && viewer.ID == t.Assignee {
		c.Inputs = []Input{
			{Name: "comment", Label: T(loc, "in_comment", nil), Placeholder: T(loc, "in_comment_ph", nil), Kind: InputTextarea},
			{Name: "user", Label: T(loc, "in_user", nil), Placeholder: T(loc, "in_user_ph", nil), Kind: InputUser},
			{Name: "position", Label: T(loc, "in_position", nil), Kind: InputSelect, Value: string(flows.SignBefore), Options: []Option{
				{Value: string(flows.SignBefore), Label: T(loc, "pos_before", nil)},
				{Value: string(flows.SignAfter), Label: T(loc, "pos_after", nil)},
				{Value: string(flows.SignAlongside), Label: T(loc, "pos_alongside", nil)},
			}},
		}
		val := func() map[string]string {
			return map[string]string{"task": strconv.FormatInt(t.ID, 10), "instance": strconv.FormatInt(in.ID, 10)}
		}
		c.Buttons = []Button{{Label: T(loc, "btn_approve", nil), Action: "approve", Value: val(), Style: StylePrimary}}
		c.Buttons, c.Inputs = noButtons(loc, v, t, c.Buttons, c.Inputs)
		c.Buttons = append(c.Buttons, []Button{
			{Label: T(loc, "btn_transfer", nil), Action: "transfer", Value: val(), Style: StyleDefault},
			{Label: T(loc, "btn_signer", nil), Action: "add_signer", Value: val(), Style: StyleDefault},
			{Label: T(loc, "btn_comment", nil), Action: "comment", Value: val(), Style: StyleDefault},
		}...)
		return c
	}
	if t.Status == flows.TaskPending && in.Status == flows.StatusPending && viewer != nil && slices.Contains(escTo, viewer.ID) {
		// The person the task was escalated to: urge the approver, hand
		// the task to someone else, comment, and decide on the
		// approver's behalf where the flow allows it.
		c.Inputs = []Input{
			{Name: "comment", Label: T(loc, "in_comment", nil), Placeholder: T(loc, "in_comment_ph", nil), Kind: InputTextarea},
			{Name: "user", Label: T(loc, "in_transfer_to", nil), Placeholder: T(loc, "in_user_ph", nil), Kind: InputUser},
		}
		tv := func() map[string]string {
			return map[string]string{"task": strconv.FormatInt(t.ID, 10), "instance": strconv.FormatInt(in.ID, 10)}
		}
		if s, _ := v.Def.Step(t.StepID); s != nil && v.Def.DeadlineOf(s).EscalationDecides {
			c.Buttons = append(c.Buttons,
				Button{Label: T(loc, "btn_approve_for", nil), Action: "approve", Value: tv(), Style: StylePrimary})
			c.Buttons, c.Inputs = noButtons(loc, v, t, c.Buttons, c.Inputs)
		}
		c.Buttons = append(c.Buttons,
			Button{Label: T(loc, "btn_urge", nil), Action: "urge", Value: map[string]string{"instance": strconv.FormatInt(in.ID, 10)}, Style: StyleDefault},
			Button{Label: T(loc, "btn_transfer", nil), Action: "transfer", Value: tv(), Style: StyleDefault},
			Button{Label: T(loc, "btn_comment", nil), Action: "comment", Value: tv(), Style: StyleDefault})
		return c
	}
	c.Note = b.taskNote(loc, tz, v, t)
	return c
}

// ToApplicant is the to_step value that sends a request back to its
// applicant to amend (a return), beside the earlier steps of a send-back.
// It cannot be a step id.
const ToApplicant = "@applicant"

// noButtons appends the buttons of the outcomes other than approval that
// t's step offers: Reject (ends the request), and one Send back button
// with a select of where to: the applicant to amend (return) and the
// earlier steps this request passed (send back). A step that can only
// return gets a Return for changes button. At most two buttons, so that a
// task card keeps within six.
func noButtons(loc string, v *flows.View, t *flows.Task, buttons []Button, inputs []Input) ([]Button, []Input) {
	s, _ := v.Def.Step(t.StepID)
	if s == nil {
		return buttons, inputs
	}
	val := func(outcome flowdef.RejectAction) map[string]string {
		return map[string]string{"task": strconv.FormatInt(t.ID, 10), "instance": strconv.FormatInt(v.Instance.ID, 10), "outcome": string(outcome)}
	}
	if s.Offers(flowdef.RejectEnd) {
		buttons = append(buttons, Button{Label: T(loc, "btn_reject", nil), Action: "reject", Value: val(flowdef.RejectEnd), Style: StyleDanger})
	}
	var targets []*flowdef.Step
	if s.Offers(flowdef.RejectSendBack) {
		targets = flows.SendBackTargets(v.Def, v.Instance, v.Events)
	}
	if len(targets) == 0 {
		if s.Offers(flowdef.RejectReturn) {
			buttons = append(buttons, Button{Label: T(loc, "btn_return", nil), Action: "return", Value: val(flowdef.RejectReturn), Style: StyleDanger})
		}
		return buttons, inputs
	}
	in := Input{Name: "to_step", Label: T(loc, "in_to_step", nil), Kind: InputSelect, Value: targets[len(targets)-1].ID}
	if s.Offers(flowdef.RejectReturn) {
		in.Options = append(in.Options, Option{Value: ToApplicant, Label: T(loc, "opt_applicant", nil)})
		in.Value = ToApplicant
	}
	for _, x := range targets {
		in.Options = append(in.Options, Option{Value: x.ID, Label: x.Name.In(loc)})
	}
	inputs = append(inputs, in)
	buttons = append(buttons, Button{Label: T(loc, "btn_send_back", nil), Action: "send_back", Value: val(flowdef.RejectSendBack), Style: StyleDanger})
	return buttons, inputs
}

// sentBackHere is the send-back event that started task t (its step sent
// back to, in the same change that created t), or nil.
func sentBackHere(v *flows.View, t *flows.Task) *flows.Event {
	for i := len(v.Events) - 1; i >= 0; i-- {
		e := v.Events[i]
		if e.Type != flows.EvSentBack || !e.At.Equal(t.CreatedAt) {
			continue
		}
		var d struct {
			To string `json:"to"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.To == t.StepID {
			return e
		}
	}
	return nil
}

// escalation says to whom task t was escalated and when (the latest
// escalation), from the view's events; at is nil when it was not.
func escalation(v *flows.View, t *flows.Task) (to []string, at *time.Time) {
	for _, e := range v.Events {
		if e.Type != flows.EvEscalated || e.TaskID != t.ID {
			continue
		}
		var d struct {
			To []string `json:"to"`
		}
		if json.Unmarshal(e.Data, &d) == nil {
			to = append(to, d.To...)
		}
		at = &e.At
	}
	return to, at
}

// taskNote says what became of a task that the viewer cannot act on.
func (b *Bot) taskNote(loc string, tz *time.Location, v *flows.View, t *flows.Task) string {
	in := v.Instance
	at := b.fmtTime(tz, t.DecidedAt)
	by := b.name(loc, t.DecidedBy)
	switch t.Status {
	case flows.TaskApproved:
		if t.Auto {
			return T(loc, "note_auto_approved", map[string]any{"at": at})
		}
		return T(loc, "note_approved", map[string]any{"by": by, "at": at})
	case flows.TaskRejected:
		if t.Auto {
			return T(loc, "note_auto_rejected", map[string]any{"at": at})
		}
		return T(loc, "note_rejected", map[string]any{"by": by, "at": at})
	case flows.TaskReturned:
		return T(loc, "note_returned", map[string]any{"by": by, "at": at})
	case flows.TaskSentBack:
		return T(loc, "note_sent_back", map[string]any{"by": by, "at": at, "step": stepName(loc, v.Def, sentBackTo(v, t))})
	case flows.TaskTransferred:
		return T(loc, "note_transferred", map[string]any{"by": by, "to": b.name(loc, transferTarget(v, t)), "at": at})
	case flows.TaskCancelled:
		if in.Status == flows.StatusWithdrawn {
			return T(loc, "note_withdrawn", map[string]any{"at": at})
		}
		return T(loc, "note_cancelled", map[string]any{"by": by, "at": at})
	case flows.TaskExpired:
		return T(loc, "note_expired", map[string]any{"at": at})
	case flows.TaskQueued:
		return T(loc, "note_queued", nil)
	}
	if !in.Status.Open() || in.Status == flows.StatusReturned {
		return T(loc, "note_closed", map[string]any{"status": statusText(loc, in.Status)})
	}
	return T(loc, "note_waiting", map[string]any{"who": b.name(loc, t.Assignee)})
}

// sentBackTo is the step task t sent its request back to (from its
// decision event), or "".
func sentBackTo(v *flows.View, t *flows.Task) string {
	for _, e := range v.Events {
		if e.Type != flows.EvRejected || e.TaskID != t.ID {
			continue
		}
		var d struct {
			To string `json:"to"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.To != "" {
			return d.To
		}
	}
	return ""
}

// stepName is the name of step id in loc, or the id.
func stepName(loc string, def *flowdef.Definition, id string) string {
	if s, _ := def.Step(id); s != nil {
		return s.Name.In(loc)
	}
	return id
}

// RequestCard is the applicant's view of a request: status, current step,
// form, route with ✓ / → / … marks and the latest events. The applicant
// gets Urge and Withdraw while it is pending, Amend and resubmit and
// Withdraw while it is returned for changes.
func (b *Bot) RequestCard(v *flows.View, viewer *flows.User) *Card {
	c := b.requestCard(v, viewer)
	c.About = &About{InstanceID: v.Instance.ID}
	return c
}

func (b *Bot) requestCard(v *flows.View, viewer *flows.User) *Card {
	return b.requestCardPage(v, viewer, 0)
}

// timelinePage is how many events one page of /status N shows.
const timelinePage = 20

// requestCardPage is the request card with page (1-based) of the whole
// timeline, or with the latest events when page is 0.
func (b *Bot) requestCardPage(v *flows.View, viewer *flows.User, page int) *Card {
	b.ensureDirectory()
	loc, tz := locale(viewer), b.zone(viewer)
	in := v.Instance
	c := &Card{Title: cardTitle(loc, v), Color: statusColor(in.Status)}
	c.Fields = append(c.Fields,
		Field{Label: T(loc, "f_status", nil), Value: statusText(loc, in.Status)},
		Field{Label: T(loc, "f_applicant", nil), Value: applicantName(v)},
	)
	if s, _ := v.Def.Step(in.StepID); s != nil && in.Status.Open() {
		c.Fields = append(c.Fields, Field{Label: T(loc, "f_step", nil), Value: s.Name.In(loc)})
	}
	var md []string
	c.Fields, md = b.formFields(loc, v, c.Fields, md)
	c.Links = b.fileLinks(loc, v, viewer)
	if route := b.routeLines(loc, v); len(route) > 0 {
		md = append(md, T(loc, "route", nil))
		md = append(md, route...)
	}
	all := b.historyAll(loc, tz, v)
	switch {
	case page > 0:
		pages := max(1, (len(all)+timelinePage-1)/timelinePage)
		page = min(page, pages)
		lo, hi := (page-1)*timelinePage, min(page*timelinePage, len(all))
		md = append(md, T(loc, "timeline", map[string]any{"page": page, "pages": pages, "n": len(all)}))
		md = append(md, all[lo:hi]...)
		if page < pages {
			md = append(md, T(loc, "timeline_next", map[string]any{"number": in.Number, "next": page + 1}))
		}
	case len(all) > 0:
		md = append(md, T(loc, "history", nil))
		if len(all) > maxHistory {
			md = append(md, all[len(all)-maxHistory:]...)
			md = append(md, T(loc, "history_more", map[string]any{"n": len(all) - maxHistory, "number": in.Number}))
		} else {
			md = append(md, all...)
		}
	}
	c.Markdown = strings.Join(md, "\n")
	c.Note = T(loc, "f_submitted", nil) + " " + b.fmtTime(tz, &in.CreatedAt)
	if viewer != nil && viewer.ID == in.Applicant {
		val := func() map[string]string { return map[string]string{"instance": strconv.FormatInt(in.ID, 10)} }
		switch in.Status {
		case flows.StatusPending:
			c.Buttons = []Button{
				{Label: T(loc, "btn_urge", nil), Action: "urge", Value: val(), Style: StylePrimary},
				{Label: T(loc, "btn_withdraw", nil), Action: "withdraw", Value: val(), Style: StyleDanger},
			}
		case flows.StatusReturned:
			c.Buttons = []Button{
				{Label: T(loc, "btn_amend", nil), Action: "amend", Value: val(), Style: StylePrimary},
				{Label: T(loc, "btn_withdraw", nil), Action: "withdraw", Value: val(), Style: StyleDanger},
			}
		case flows.StatusRejected, flows.StatusWithdrawn:
			c.Buttons = []Button{{Label: T(loc, "btn_copy", nil), Action: "copy", Value: val(), Style: StyleDefault}}
		case flows.StatusApproved:
			// Cancelled through the flow's cancel rule, until the day it
			// names begins.
			if _, started := flows.CancelStarted(v.Def, v.Form, b.now().In(tz).Format("2006-01-02")); flows.CancelFlowOf(v.Def) != "" && !started {
				c.Buttons = []Button{{Label: T(loc, "btn_cancel_request", nil), Action: "cancel_request", Value: val(), Style: StyleDanger}}
			}
		}
	}
	addRating(loc, v, viewer, c)
	return c
}

// formFields appends the form's values (formatted, truncated) to fields,
// up to maxCardFields lines in all; a markdown line says how many were left out.
func (b *Bot) formFields(loc string, v *flows.View, fields []Field, md []string) ([]Field, []string) {
	left := 0
	for i := range v.Def.Fields {
		f := &v.Def.Fields[i]
		val, ok := v.Form[f.ID]
		if !ok || val == nil {
			continue
		}
		if len(fields) >= maxCardFields {
			left++
			continue
		}
		fields = append(fields, Field{Label: f.Label.In(loc), Value: truncate(b.formatValue(loc, f, val), maxFieldText)})
	}
	if left > 0 {
		md = append(md, T(loc, "more_fields", map[string]any{"n": left, "number": v.Instance.Number}))
	}
	return fields, md
}

// formatValue formats one form value; a user field shows the person's
// name (and the id only when the directory has no name).
func (b *Bot) formatValue(loc string, f *flowdef.Field, v any) string {
	if id, ok := v.(string); ok && f.Type == flowdef.FieldUser {
		return b.name(loc, id)
	}
	if r, ok := v.(flowdef.DateRange); ok && f.CountsWorkdays() {
		n := b.workdays(r)
		key := "workdays"
		if n == 1 {
			key = "workday"
		}
		unit := T(loc, key, map[string]any{"n": n})
		if r.From == r.To {
			return r.From + " (" + unit + ")"
		}
		return r.From + " → " + r.To + " (" + unit + ")"
	}
	return flowdef.FormatValue(f, v, loc)
}

// workdays counts the working days of r on the engine's calendar.
func (b *Bot) workdays(r flowdef.DateRange) int {
	var cal flowdef.WorkCalendar
	if b.eng != nil {
		cal = b.eng.WorkCalendar()
	}
	return r.WorkdaysOn(cal)
}

var routeMarks = map[string]string{
	"done": "✓", "current": "→", "upcoming": "…",
	string(flows.StatusRejected): "✗", string(flows.StatusFailed): "✗",
	string(flows.StatusWithdrawn): "⊘", string(flows.StatusReturned): "↩",
}

// routeLines lists the steps of the request. Without a computed route (a
// view built from an engine outcome) it is derived from the tasks.
func (b *Bot) routeLines(loc string, v *flows.View) []string {
	route := v.Route
	if route == nil {
		for i := range v.Def.Steps {
			s := &v.Def.Steps[i]
			rs := flows.RouteStep{StepID: s.ID, Name: s.Name, Kind: s.Kind, Mode: s.Mode, Status: "upcoming"}
			switch {
			case i < v.Instance.StepIndex:
				rs.Status = "done"
			case i == v.Instance.StepIndex && v.Instance.Status.Open():
				rs.Status = "current"
			case i == v.Instance.StepIndex:
				rs.Status = string(v.Instance.Status)
				if v.Instance.Status == flows.StatusApproved {
					rs.Status = "done"
				}
			}
			for _, t := range v.Tasks {
				if t.StepID == s.ID && t.Status != flows.TaskTransferred && !contains(rs.Approvers, t.Assignee) {
					rs.Approvers = append(rs.Approvers, t.Assignee)
				}
			}
			if rs.Status == "upcoming" && len(rs.Approvers) == 0 {
				continue // not known without evaluating the step
			}
			route = append(route, rs)
		}
	}
	var out []string
	for _, rs := range route {
		status := rs.Status
		if status == "current" && v.Instance.Status == flows.StatusReturned {
			status = string(flows.StatusReturned) // waits for the applicant, not the approvers
		}
		mark, ok := routeMarks[status]
		if !ok {
			continue // skipped
		}
		line := mark + " " + rs.Name.In(loc)
		if len(rs.Approvers) > 0 {
			line += " — " + b.names(loc, rs.Approvers)
		}
		if status == string(flows.StatusWithdrawn) {
			// Nobody decided: the applicant withdrew while it waited.
			line += T(loc, "route_withdrawn", nil)
		}
		if status == "done" && httpFailed(v.Events, rs.StepID) {
			// on_failure: continue went on past a call that failed: not ✓.
			line = "⚠ " + rs.Name.In(loc) + T(loc, "route_http_skipped", nil)
		}
		if status == "current" {
			if isZH(loc) {
				line += "（" + T(loc, "rs_current", nil) + "）"
			} else {
				line += " (" + T(loc, "rs_current", nil) + ")"
			}
		}
		out = append(out, line)
	}
	return out
}

// httpFailed reports whether the latest call of http step stepID failed.
func httpFailed(evs []*flows.Event, stepID string) bool {
	for i := len(evs) - 1; i >= 0; i-- {
		if e := evs[i]; e.Type == flows.EvHTTPCalled && e.StepID == stepID {
			return !httpOK(e)
		}
	}
	return false
}

// httpOK reports whether an http_called event recorded a call that
// succeeded.
func httpOK(e *flows.Event) bool {
	var d struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal(e.Data, &d) == nil && d.OK
}

var historyTypes = map[flows.EventType]bool{
	flows.EvSubmitted: true, flows.EvResubmitted: true, flows.EvApproved: true, flows.EvRejected: true,
	flows.EvReturned: true, flows.EvTransferred: true, flows.EvSignerAdded: true, flows.EvCommented: true,
	flows.EvUrged: true, flows.EvEscalated: true, flows.EvTimedOut: true, flows.EvWithdrawn: true, flows.EvCompleted: true,
	flows.EvDelegated: true, flows.EvSentBack: true, flows.EvCancelled: true, flows.EvBalanceUsed: true, flows.EvBalanceRestored: true, flows.EvRated: true,
}

// historyLines shows the latest events worth reading.
func (b *Bot) historyLines(loc string, tz *time.Location, v *flows.View) []string {
	all := b.historyAll(loc, tz, v)
	if len(all) > maxHistory {
		all = all[len(all)-maxHistory:]
	}
	return all
}

// historyAll is the whole timeline of the request: every event worth
// reading, oldest first.
func (b *Bot) historyAll(loc string, tz *time.Location, v *flows.View) []string {
	var evs []*flows.Event
	for i, e := range v.Events {
		if !historyTypes[e.Type] && (e.Type != flows.EvHTTPCalled || httpOK(e)) {
			continue // a failed call is worth reading; a good one is the ✓
		}
		if e.Type == flows.EvRejected && (returnedBy(v.Events[i+1:], e) || laterOutcome(e)) {
			continue // the "returned" or "sent back" line says it
		}
		evs = append(evs, e)
	}
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		var data map[string]any
		_ = json.Unmarshal(e.Data, &data)
		str := func(k string) string {
			if s, ok := data[k].(string); ok {
				return s
			}
			return ""
		}
		to := str("to")
		if to == "" {
			to = str("signer")
		}
		who := b.name(loc, e.Actor)
		if obo := str("on_behalf_of"); obo != "" { // "赵敏 代 李雷 同意"
			who = T(loc, "on_behalf", map[string]any{"who": who, "for": b.name(loc, obo)})
		}
		key := "ev_" + string(e.Type)
		if e.Type == flows.EvCommented && str("reply_to") != "" {
			key, to = "ev_replied", str("reply_to")
		}
		args := map[string]any{"who": who, "to": b.name(loc, to), "status": statusText(loc, flows.Status(str("status"))),
			"by": str("by"), "type": balanceType(loc, v.Def, str("type")), "days": data["days"]}
		if e.Type == flows.EvSentBack {
			args["step"] = stepName(loc, v.Def, to)
		}
		if e.Type == flows.EvHTTPCalled {
			key, args["step"] = "ev_http_failed", stepName(loc, v.Def, e.StepID)
		}
		line := b.fmtTime(tz, &e.At) + " " + T(loc, key, args)
		if text := cmpStr(str("comment"), str("text"), str("reason")); text != "" {
			sep := "："
			if !isZH(loc) {
				sep = ": "
			}
			line += sep + truncate(text, 100)
		}
		out = append(out, line)
	}
	return out
}

// laterOutcome reports whether a task's rejection event recorded an
// outcome that a request-level event tells (returned, sent back).
func laterOutcome(rej *flows.Event) bool {
	var d struct {
		Outcome string `json:"outcome"`
	}
	return json.Unmarshal(rej.Data, &d) == nil && (d.Outcome == string(flowdef.RejectReturn) || d.Outcome == string(flowdef.RejectSendBack))
}

// returnedBy reports whether the rejection rej returned the request: a
// returned event by the same actor at the same time follows it.
func returnedBy(next []*flows.Event, rej *flows.Event) bool {
	for _, e := range next {
		if !e.At.Equal(rej.At) {
			return false
		}
		if e.Type == flows.EvReturned && e.Actor == rej.Actor {
			return true
		}
	}
	return false
}

func cmpStr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func cardTitle(loc string, v *flows.View) string {
	return v.Def.Name.In(loc) + " · " + v.Instance.Number
}

func applicantName(v *flows.View) string {
	if v.Applicant != nil && v.Applicant.Name != "" {
		return v.Applicant.Name
	}
	return v.Instance.Applicant
}

func applicantDept(v *flows.View) string {
	if v.Applicant != nil {
		return v.Applicant.Dept
	}
	return ""
}

func statusText(loc string, s flows.Status) string {
	if _, ok := catalog["st_"+string(s)]; ok {
		return T(loc, "st_"+string(s), nil)
	}
	return string(s)
}

func statusColor(s flows.Status) Color {
	switch s {
	case flows.StatusApproved:
		return ColorGreen
	case flows.StatusRejected, flows.StatusFailed:
		return ColorRed
	case flows.StatusReturned:
		return ColorOrange
	case flows.StatusWithdrawn, flows.StatusCancelled:
		return ColorGrey
	}
	return ColorBlue
}

func taskColor(t *flows.Task, in *flows.Instance) Color {
	switch t.Status {
	case flows.TaskApproved:
		return ColorGreen
	case flows.TaskRejected:
		return ColorRed
	case flows.TaskReturned, flows.TaskSentBack:
		return ColorOrange
	case flows.TaskPending, flows.TaskQueued:
		if in.Status.Open() {
			return ColorBlue
		}
		return statusColor(in.Status)
	}
	return ColorGrey
}

// fmtTime shows t in tz: "10:32" today, "11-26 10:32" this year, else the
// full date.
func (b *Bot) fmtTime(tz *time.Location, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	lt, now := t.In(tz), b.now().In(tz)
	switch {
	case lt.Year() == now.Year() && lt.YearDay() == now.YearDay():
		return lt.Format("15:04")
	case lt.Year() == now.Year():
		return lt.Format("01-02 15:04")
	}
	return lt.Format("2006-01-02 15:04")
}

// duration is a short human duration ("5 小时", "2 h 15 min").
func duration(loc string, d time.Duration) string {
	if d < 30*time.Second {
		return T(loc, "dur_under_min", nil) // never "0 minutes"
	}
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h >= 24:
		return T(loc, "dur_day", map[string]any{"d": h / 24, "h": h % 24})
	case h > 0 && m > 0:
		return T(loc, "dur_hour_min", map[string]any{"h": h, "m": m})
	case h > 0:
		return T(loc, "dur_hour", map[string]any{"h": h})
	}
	return T(loc, "dur_min", map[string]any{"m": m})
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// transferTarget is who task t was transferred to: the target its
// transfer event records, else the assignee of the task the transfer
// created (same step, from t's assignee, created when t closed; a signer
// t's assignee added earlier is not it).
func transferTarget(v *flows.View, t *flows.Task) string {
	for _, e := range v.Events {
		if e.Type != flows.EvTransferred || e.TaskID != t.ID {
			continue
		}
		var d struct {
			To string `json:"to"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.To != "" {
			return d.To
		}
	}
	for _, x := range v.Tasks {
		if x.ID > t.ID && x.From == t.Assignee && x.StepID == t.StepID && t.DecidedAt != nil && x.CreatedAt.Equal(*t.DecidedAt) && x.Note == t.Comment {
			return x.Assignee
		}
	}
	return "?"
}
