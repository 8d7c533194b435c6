package schedule

import (
	"fmt"
	"slices"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// FocusKind says what the digest's "one thing to look at today" is.
type FocusKind string

// The kinds of focus, in the order the digest picks them.
const (
	// FocusOwnOverdue: a request waits for the manager past its deadline.
	FocusOwnOverdue FocusKind = "own_overdue"
	// FocusTeamOverdue: a request of the manager's departments or reports
	// waits past its deadline for someone else.
	FocusTeamOverdue FocusKind = "team_overdue"
	// FocusOwnOldest: a request has waited for the manager a working day
	// or more.
	FocusOwnOldest FocusKind = "own_oldest"
	// FocusBottleneck: nothing is late; the step holding most of the
	// waiting time of the last 30 days.
	FocusBottleneck FocusKind = "bottleneck"
)

// ownOldestAfter is how long a request waits for the manager before it is
// the digest's focus even though no deadline passed.
const ownOldestAfter = 24 * time.Hour

// Focus is the one thing a manager's digest names to look at today.
type Focus struct {
	Kind     FocusKind
	Number   string        // the request (not for FocusBottleneck)
	Assignee string        // who it waits for (the name), FocusTeamOverdue
	Step     flowdef.Text  // the step it waits at, or the bottleneck step
	Wait     time.Duration // how long it has waited; the bottleneck's median
}

// focus picks the digest's one thing among u's open tasks and those of
// the requests in scope: the longest-waiting overdue request of u's own,
// then of the team, then u's oldest request waiting a day or more, then
// the slowest step. ok false: nothing stands out.
func focus(in *input, u *flows.User, depts, reports []string, bn *flowstats.Stats, stepName func(flow, step string) flowdef.Text) (Focus, bool) {
	type cand struct {
		kind FocusKind
		t    *flows.Task
		wait time.Duration
	}
	var best *cand
	rank := map[FocusKind]int{FocusOwnOverdue: 0, FocusTeamOverdue: 1, FocusOwnOldest: 2}
	for _, t := range in.rows.Tasks {
		if t.Status != flows.TaskPending {
			continue
		}
		x := in.inst[t.InstanceID]
		if x == nil {
			continue
		}
		since := t.CreatedAt
		if t.StartedAt != nil {
			since = *t.StartedAt
		}
		c := cand{t: t, wait: in.now.Sub(since)}
		overdue := flowstats.Overdue(t, in.now)
		switch {
		case t.Assignee == u.ID && overdue:
			c.kind = FocusOwnOverdue
		case overdue && inScope(in, x, depts, reports):
			c.kind = FocusTeamOverdue
		case t.Assignee == u.ID && c.wait >= ownOldestAfter:
			c.kind = FocusOwnOldest
		default:
			continue
		}
		if best == nil || rank[c.kind] < rank[best.kind] || rank[c.kind] == rank[best.kind] && c.wait > best.wait {
			best = &c
		}
	}
	if best != nil {
		x := in.inst[best.t.InstanceID]
		f := Focus{Kind: best.kind, Number: x.Number, Step: stepName(x.FlowID, best.t.StepID), Wait: best.wait, Assignee: best.t.Assignee}
		if a := in.users[best.t.Assignee]; a != nil && a.Name != "" {
			f.Assignee = a.Name
		}
		return f, true
	}
	if bn != nil && bn.FlowID != "" {
		return Focus{Kind: FocusBottleneck, Step: stepName(bn.FlowID, bn.StepID), Wait: bn.Decision.Median}, true
	}
	return Focus{}, false
}

// inScope reports whether request x was filed from one of depts or by one
// of reports.
func inScope(in *input, x *flows.Instance, depts, reports []string) bool {
	if slices.Contains(reports, x.Applicant) {
		return true
	}
	a := in.users[x.Applicant]
	return a != nil && slices.Contains(depts, a.Dept)
}

// Text tells the focus in one line, in Chinese and English.
func (f Focus) Text() flowdef.Text {
	switch f.Kind {
	case FocusOwnOverdue:
		return flowdef.Text{
			ZH: fmt.Sprintf("%s 已超期，在「%s」等你审批 %s，请先处理它。", f.Number, f.Step.In("zh"), Duration("zh", f.Wait)),
			EN: fmt.Sprintf("%s is overdue: it has waited for you at \"%s\" for %s. Decide it first.", f.Number, f.Step.In("en"), Duration("en", f.Wait)),
		}
	case FocusTeamOverdue:
		return flowdef.Text{
			ZH: fmt.Sprintf("%s 已超期，在「%s」等 %s 审批 %s，请跟进。", f.Number, f.Step.In("zh"), f.Assignee, Duration("zh", f.Wait)),
			EN: fmt.Sprintf("%s is overdue: it has waited for %s at \"%s\" for %s. Follow it up.", f.Number, f.Assignee, f.Step.In("en"), Duration("en", f.Wait)),
		}
	case FocusOwnOldest:
		return flowdef.Text{
			ZH: fmt.Sprintf("%s 已在「%s」等你审批 %s。", f.Number, f.Step.In("zh"), Duration("zh", f.Wait)),
			EN: fmt.Sprintf("%s has waited for you at \"%s\" for %s.", f.Number, f.Step.In("en"), Duration("en", f.Wait)),
		}
	case FocusBottleneck:
		return flowdef.Text{
			ZH: fmt.Sprintf("没有超期的申请。等待最久的环节是「%s」（等待中位数 %s），看看能否加快。", f.Step.In("zh"), Duration("zh", f.Wait)),
			EN: fmt.Sprintf("Nothing is overdue. The slowest step is \"%s\" (median wait %s): see whether it can go faster.", f.Step.In("en"), Duration("en", f.Wait)),
		}
	}
	return flowdef.Text{}
}
