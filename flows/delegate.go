package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// Delegation hands an approver's new tasks to someone else for a period:
// tasks created while it is active go to To with From in CC, and the
// audit trail shows "To for From".
type Delegation struct {
	ID   int64  `json:"id"`
	From string `json:"from"` // the approver who is away
	To   string `json:"to"`   // the delegate
	// Start and End bound the period: active when Start <= t < End.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Source says what set it: "chat" or "request:<number>" (an approved
	// leave request whose flow sets a delegation).
	Source    string     `json:"source,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"` // ended early ("/delegate off")
}

// ActiveAt reports whether the delegation applies at t.
func (d *Delegation) ActiveAt(t time.Time) bool {
	return d.EndedAt == nil && !t.Before(d.Start) && t.Before(d.End)
}

// DelegationTx is what the engine needs from a transaction to keep
// delegations. Orderings: by id.
type DelegationTx interface {
	// SaveDelegation inserts d and sets d.ID.
	SaveDelegation(d *Delegation) error
	// EndDelegation sets EndedAt of delegation id; ErrNotFound when unknown.
	EndDelegation(id int64, at time.Time) error
	// DelegationsOf returns the delegations of user (From) not ended early
	// whose End is after now, by id.
	DelegationsOf(user string, now time.Time) ([]*Delegation, error)
	// DelegationsTo returns the delegations to user (To) not ended early
	// whose End is after now, by id.
	DelegationsTo(user string, now time.Time) ([]*Delegation, error)
}

// DelegationStore reads delegations outside a transaction.
type DelegationStore interface {
	// Delegations returns the delegations of user (From) not ended early
	// whose End is after now, by id.
	Delegations(ctx context.Context, user string, now time.Time) ([]*Delegation, error)
}

// DelegateRequest sets a delegation of Actor's tasks to To.
type DelegateRequest struct {
	Actor string
	To    string
	// Start and End are the first and last day (2006-01-02), inclusive, in
	// the actor's time zone. Start empty = today.
	Start, End string
	// Pending hands over the actor's pending tasks at once too (those of
	// requests the delegate filed stay with the actor).
	Pending bool
}

// DelegateResult is what Delegate did.
type DelegateResult struct {
	Delegation *Delegation
	// Handed are the tasks handed over (Pending); Kept those that stayed
	// because the delegate filed the request or already has a task there.
	Handed, Kept []*Task
}

// Delegate records a delegation from r.Actor to r.To for the days given,
// replacing the actor's earlier ones, and with r.Pending hands over the
// actor's pending tasks in the same transaction.
func (e *Engine) Delegate(ctx context.Context, r DelegateRequest) (*DelegateResult, error) {
	rd := e.reads(ctx)
	actor, err := e.user(rd, r.Actor)
	if err != nil {
		return nil, err
	}
	to, err := e.user(rd, r.To)
	if err != nil {
		return nil, err
	}
	if to.ID == actor.ID {
		return nil, Errorf(CodeInvalid, "delegate_self", nil)
	}
	now := e.clock.Now()
	start, end, err := period(r.Start, r.End, e.userLoc(actor), now)
	if err != nil {
		return nil, err
	}
	var ids []int64
	if r.Pending {
		ts, err := e.store.Tasks(ctx, TaskFilter{Assignee: actor.ID, Status: []TaskStatus{TaskPending, TaskQueued}, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("list pending tasks: %w", err)
		}
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
	}
	res := &DelegateResult{}
	_, err = e.run(ctx, "delegate", func(o *op) error {
		*res = DelegateResult{}
		d := &Delegation{From: actor.ID, To: to.ID, Start: start, End: end, Source: "chat", CreatedBy: actor.ID, CreatedAt: o.now}
		if err := e.setDelegation(o, d); err != nil {
			return err
		}
		res.Delegation = d
		for _, id := range ids {
			handed, t, err := e.handOver(o, id, actor.ID, to.ID)
			if err != nil {
				return err
			}
			if t == nil {
				continue
			}
			if handed {
				res.Handed = append(res.Handed, t)
			} else {
				res.Kept = append(res.Kept, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// EndDelegations ends the actor's delegations now; the number ended is
// returned (0: there was none).
func (e *Engine) EndDelegations(ctx context.Context, actor string) (int, error) {
	n := 0
	_, err := e.run(ctx, "end delegation", func(o *op) error {
		n = 0
		ds, err := o.tx.DelegationsOf(actor, o.now)
		if err != nil {
			return fmt.Errorf("list delegations of %s: %w", actor, err)
		}
		for _, d := range ds {
			if err := o.tx.EndDelegation(d.ID, o.now); err != nil {
				return fmt.Errorf("end delegation %d: %w", d.ID, err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// Delegations returns the actor's delegations that are active now or start
// later.
func (e *Engine) Delegations(ctx context.Context, actor string) ([]*Delegation, error) {
	ds, err := e.store.Delegations(ctx, actor, e.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("list delegations of %s: %w", actor, err)
	}
	return ds, nil
}

// setDelegation ends the delegations of d.From that overlap d and saves d.
func (e *Engine) setDelegation(o *op, d *Delegation) error {
	old, err := o.tx.DelegationsOf(d.From, o.now)
	if err != nil {
		return fmt.Errorf("list delegations of %s: %w", d.From, err)
	}
	for _, x := range old {
		if x.Start.Before(d.End) && d.Start.Before(x.End) {
			if err := o.tx.EndDelegation(x.ID, o.now); err != nil {
				return fmt.Errorf("end delegation %d: %w", x.ID, err)
			}
		}
	}
	if err := o.tx.SaveDelegation(d); err != nil {
		return fmt.Errorf("save delegation: %w", err)
	}
	return nil
}

// handOver gives the open task id of from to the delegate to. It returns
// the task (nil when it is no longer from's open task) and whether it was
// handed over: a task of a request the delegate filed, or of a step where
// the delegate has a task already, stays with from.
func (e *Engine) handOver(o *op, id int64, from, to string) (bool, *Task, error) {
	t0, err := o.tx.Task(id)
	if err != nil {
		return false, nil, fmt.Errorf("load task %d: %w", id, err)
	}
	if t0.Assignee != from || !t0.Open() {
		return false, nil, nil
	}
	l, err := e.load(o, t0.InstanceID)
	if err != nil {
		return false, nil, err
	}
	t := l.task(id)
	if !l.in.Status.Open() || t == nil {
		return false, nil, nil
	}
	if l.in.Applicant == to || hasOpenTask(l.tasks, t.StepID, to) {
		return false, t, nil
	}
	wasPending := t.Status == TaskPending
	o.closeTask(t, TaskTransferred, from, "", false)
	if err := o.saveTask(t); err != nil {
		return false, nil, err
	}
	nt := &Task{InstanceID: t.InstanceID, StepID: t.StepID, Seq: t.Seq, Assignee: to, Status: TaskQueued,
		CreatedAt: o.now, OnBehalfOf: from}
	if wasPending {
		s, _ := l.def.Step(t.StepID)
		e.startTask(nt, l.def, s, o.now)
	}
	if err := o.tx.CreateTask(nt); err != nil {
		return false, nil, fmt.Errorf("create task: %w", err)
	}
	if err := o.event(l.in, t, EvDelegated, from, false, map[string]any{"to": to, "for": from, "task": nt.ID}); err != nil {
		return false, nil, err
	}
	if wasPending {
		if err := o.send(MsgCardUpdate, "", l.in, t, nil); err != nil {
			return false, nil, err
		}
		if err := o.send(MsgTask, to, l.in, nt, map[string]any{"for": from}); err != nil {
			return false, nil, err
		}
	}
	return true, nt, o.save(l.in)
}

// delegateOf returns who takes user's new tasks now, or "" when nobody
// does. A delegation to the applicant does not apply (a delegate never
// decides their own request).
func (e *Engine) delegateOf(o *op, user, applicant string) (string, error) {
	ds, err := e.delegationsOf(o, user)
	if err != nil {
		return "", fmt.Errorf("list delegations of %s: %w", user, err)
	}
	for _, d := range ds {
		if d.ActiveAt(o.now) && d.To != applicant && d.To != user {
			if u, err := o.tx.User(d.To); err != nil || u.Departed {
				continue // the delegate left: the approver keeps the task
			}
			return d.To, nil
		}
	}
	return "", nil
}

// delegateTasks replaces each approver of ids by their delegate, when they
// have an active one who is neither the applicant nor already an approver
// of the step. It returns the assignees and, per assignee, whom they stand
// in for.
func (e *Engine) delegateTasks(o *op, ids []string, applicant string) ([]string, map[string]string, error) {
	out := slices.Clone(ids)
	var obo map[string]string
	for i, id := range ids {
		to, err := e.delegateOf(o, id, applicant)
		if err != nil {
			return nil, nil, err
		}
		if to == "" || slices.Contains(out, to) {
			continue
		}
		out[i] = to
		if obo == nil {
			obo = map[string]string{}
		}
		obo[to] = id
	}
	return out, obo, nil
}

// delegateOnApproval sets the delegation an approved request asks for
// (flow key on_approved.delegate_field): the applicant's tasks go to the
// user of that field for the days of the period field.
func (e *Engine) delegateOnApproval(o *op, in *Instance, def *flowdef.Definition, applicant *User, form flowdef.Values) error {
	oa := def.OnApproved
	if oa.DelegateField == "" {
		return nil
	}
	to, _ := form[oa.DelegateField].(string)
	if to == "" || to == applicant.ID {
		return nil
	}
	if u, err := o.tx.User(to); err != nil || u.Departed {
		return nil // a departed or unknown backup: no delegation, the request stands
	}
	from, until, ok := rangeOf(form[oa.PeriodField])
	if !ok {
		return nil
	}
	start, end, err := period(from, until, e.userLoc(applicant), time.Time{})
	if err != nil {
		return nil
	}
	d := &Delegation{From: applicant.ID, To: to, Start: start, End: end, Source: "request:" + in.Number,
		CreatedBy: System, CreatedAt: o.now}
	if err := e.setDelegation(o, d); err != nil {
		return err
	}
	return o.event(in, nil, EvDelegated, System, true, map[string]any{"to": to, "for": applicant.ID,
		"start": from, "end": until})
}

// rangeOf reads a date range form value.
func rangeOf(v any) (string, string, bool) {
	switch x := v.(type) {
	case flowdef.DateRange:
		return x.From, x.To, x.From != ""
	case map[string]any:
		f, _ := x["from"].(string)
		t, _ := x["to"].(string)
		return f, t, f != ""
	case string:
		return x, x, x != ""
	}
	return "", "", false
}

const dayLayout = "2006-01-02"

// period turns inclusive days into [start, end) in loc. A zero now skips
// the check that the period has not ended.
func period(from, to string, loc *time.Location, now time.Time) (time.Time, time.Time, error) {
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if from == "" {
		from = now.In(loc).Format(dayLayout)
	}
	if to == "" {
		to = from
	}
	s, err1 := time.ParseInLocation(dayLayout, from, loc)
	t, err2 := time.ParseInLocation(dayLayout, to, loc)
	if err := errors.Join(err1, err2); err != nil {
		return time.Time{}, time.Time{}, Errorf(CodeInvalid, "delegate_dates", map[string]any{"from": from, "to": to})
	}
	end := t.AddDate(0, 0, 1)
	if !s.Before(end) {
		return time.Time{}, time.Time{}, Errorf(CodeInvalid, "delegate_order", map[string]any{"from": from, "to": to})
	}
	if !now.IsZero() && !now.Before(end) {
		return time.Time{}, time.Time{}, Errorf(CodeInvalid, "delegate_past", map[string]any{"to": to})
	}
	return s.UTC(), end.UTC(), nil
}

// userLoc is the user's time zone, Asia/Shanghai when unset or unknown.
func (e *Engine) userLoc(u *User) *time.Location {
	if u != nil && u.TZ != "" {
		if l, err := e.zones.load(u.TZ); err == nil {
			return l
		}
	}
	if l, err := e.zones.load("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}

// delegationData is the event data of a decision taken for someone else.
func delegationData(t *Task, data map[string]any) map[string]any {
	if t.OnBehalfOf != "" {
		data["on_behalf_of"] = t.OnBehalfOf
	}
	return data
}

// delegationsOf is o.tx.DelegationsOf(user, o.now), answered from the
// engine's cache when it was read less than Recheck ago: a task's creation
// then costs no round trip to the database for the approver's delegations.
// A delegation saved or ended by this engine empties the cache when its
// operation's transaction ends (runPre), and an operation that wrote
// delegations reads its own from the transaction; one saved or ended by
// another engine (replica) is seen within Recheck.
func (e *Engine) delegationsOf(o *op, user string) ([]*Delegation, error) {
	tr, _ := o.tx.(*taskTracker)
	if tr == nil || tr.delegWrote {
		return o.tx.DelegationsOf(user, o.now)
	}
	c, ok, gen := e.delegs.get(user)
	if ok {
		if ds, ok := c.at(o.now); ok {
			return ds, nil
		}
	}
	readAt := time.Now()
	ds, err := o.tx.DelegationsOf(user, o.now)
	if err != nil {
		return nil, err
	}
	e.delegs.put(user, gen, cacheDelegations(o.now, ds), readAt)
	return ds, nil
}

// SaveDelegation marks the operation as one that wrote delegations.
func (t *taskTracker) SaveDelegation(d *Delegation) error {
	t.delegWrote = true
	return t.Tx.SaveDelegation(d)
}

// EndDelegation marks the operation as one that wrote delegations.
func (t *taskTracker) EndDelegation(id int64, at time.Time) error {
	t.delegWrote = true
	return t.Tx.EndDelegation(id, at)
}
