package flowstats

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// Query selects what a report covers.
type Query struct {
	// Since and Until bound the window [Since, Until). Zero Since: from the
	// beginning; zero Until: no upper bound.
	Since, Until time.Time
	// FlowID restricts the report to one flow (empty: all flows).
	FlowID string
	// Depts restricts the report to requests of applicants in these
	// departments (exact ids; ExpandDepts adds sub-departments).
	// Applicants adds single applicants to the scope (a manager's direct
	// reports). Both empty: every request.
	Depts      []string
	Applicants []string
	// Now is the time open tasks are judged overdue at (zero: Until, or
	// the wall clock when Until is zero too).
	Now time.Time
}

// Counts counts requests (or tasks) by outcome. For requests, Submitted
// counts those filed in the window, Approved/Rejected/Withdrawn/Failed
// those that ended so in the window, Pending those still open. For tasks,
// Submitted counts tasks that became pending in the window, Approved and
// Rejected the decisions taken in the window, Pending the tasks still open.
type Counts struct {
	Submitted int `json:"submitted"`
	Approved  int `json:"approved"`
	Rejected  int `json:"rejected"`
	Withdrawn int `json:"withdrawn"`
	Failed    int `json:"failed"`
	Pending   int `json:"pending"`
	// Returned and SentBack count, for tasks, the decisions that returned
	// the request to the applicant or sent it back to an earlier step:
	// apart from Rejected (which ends the request).
	Returned int `json:"returned"`
	SentBack int `json:"sent_back"`
}

// Timing summarises durations.
type Timing struct {
	N      int           `json:"n"`
	Median time.Duration `json:"median"`
	P90    time.Duration `json:"p90"`
}

// Stats is one row of a report.
type Stats struct {
	// Key is the flow id, the step id, the approver's user id or the
	// department id, by table.
	Key    string `json:"key"`
	FlowID string `json:"flow_id,omitempty"`
	StepID string `json:"step_id,omitempty"`
	Counts
	// Decision is the time to a decision: submitted -> completed for flows,
	// departments and the total; task pending -> decided for steps and
	// approvers.
	Decision Timing `json:"decision"`
	// RejectionRate is Rejected / (Approved + Rejected), 0 without decisions.
	RejectionRate float64 `json:"rejection_rate"`
	// ReturnRate and SendBackRate are Returned and SentBack per decision
	// (approved, rejected, returned, sent back) for steps and approvers;
	// for flows, departments and the total, where Returned and SentBack
	// count the tasks of their requests decided so in the window, they are
	// per request that ended in the window (approved, rejected, withdrawn,
	// failed), like WithdrawalRate: Withdrawn per ended request.
	ReturnRate     float64 `json:"return_rate"`
	SendBackRate   float64 `json:"send_back_rate"`
	WithdrawalRate float64 `json:"withdrawal_rate"`
	// Tasks counts the tasks judged for overdue: decided in the window or
	// still pending. Overdue counts those reminded, escalated, timed out or
	// decided after their first deadline (or pending past it);
	// OverdueOpen the ones of them still pending.
	Tasks       int     `json:"tasks"`
	Overdue     int     `json:"overdue"`
	OverdueOpen int     `json:"overdue_open"`
	OverdueRate float64 `json:"overdue_rate"`
}

// FlowStats is a flow's row with its bottleneck.
type FlowStats struct {
	Stats
	// Bottleneck is the step with the largest median wait ("" if no step
	// decided anything in the window), BottleneckWait that median.
	Bottleneck     string        `json:"bottleneck,omitempty"`
	BottleneckWait time.Duration `json:"bottleneck_wait,omitempty"`
}

// Report is the result of Build.
type Report struct {
	Query     Query       `json:"-"`
	Total     Stats       `json:"total"`
	Flows     []FlowStats `json:"flows"`     // by flow id
	Steps     []Stats     `json:"steps"`     // by flow id, then step id
	Approvers []Stats     `json:"approvers"` // by user id
	Depts     []Stats     `json:"depts"`     // by applicant's department id
	// Bottleneck is the step (of any flow) with the largest median wait;
	// nil when no task was decided in the window.
	Bottleneck *Stats `json:"bottleneck,omitempty"`
}

// Flow returns the row of flow id, or nil.
func (r *Report) Flow(id string) *FlowStats {
	for i := range r.Flows {
		if r.Flows[i].Key == id {
			return &r.Flows[i]
		}
	}
	return nil
}

// Step returns the row of a flow's step, or nil.
func (r *Report) Step(flowID, stepID string) *Stats {
	return find(r.Steps, func(s *Stats) bool { return s.FlowID == flowID && s.StepID == stepID })
}

// Approver returns the row of user id, or nil.
func (r *Report) Approver(id string) *Stats {
	return find(r.Approvers, func(s *Stats) bool { return s.Key == id })
}

// Dept returns the row of department id, or nil.
func (r *Report) Dept(id string) *Stats {
	return find(r.Depts, func(s *Stats) bool { return s.Key == id })
}

func find(xs []Stats, ok func(*Stats) bool) *Stats {
	for i := range xs {
		if ok(&xs[i]) {
			return &xs[i]
		}
	}
	return nil
}

// Rows are the loaded rows a report is built from.
type Rows struct {
	Instances []*flows.Instance
	Tasks     []*flows.Task
	Users     []*flows.User // for departments; a missing user has no department
}

// acc accumulates one row.
type acc struct {
	Stats
	times []time.Duration
	// requests: a row of requests (flow, department, total) rather than
	// of tasks (step, approver).
	requests bool
}

type table map[string]*acc

func (t table) get(key string) *acc {
	a := t[key]
	if a == nil {
		a = &acc{Stats: Stats{Key: key}}
		t[key] = a
	}
	return a
}

// Build computes the report of q over rows. It only reads rows.
func Build(rows *Rows, q Query) *Report {
	if rows == nil {
		rows = &Rows{}
	}
	now := q.Now
	if now.IsZero() {
		now = q.Until
	}
	if now.IsZero() {
		now = time.Now()
	}
	in := func(t time.Time) bool {
		return !t.Before(q.Since) && (q.Until.IsZero() || t.Before(q.Until))
	}
	deptOf := make(map[string]string, len(rows.Users))
	for _, u := range rows.Users {
		deptOf[u.ID] = u.Dept
	}
	scoped := len(q.Depts) > 0 || len(q.Applicants) > 0
	inScope := func(applicant string) bool {
		return !scoped || slices.Contains(q.Applicants, applicant) || slices.Contains(q.Depts, deptOf[applicant])
	}

	total := &acc{Stats: Stats{Key: "total"}, requests: true}
	byFlow, byStep, byApprover, byDept := table{}, table{}, table{}, table{}
	instances := make(map[int64]*flows.Instance, len(rows.Instances))
	for _, x := range rows.Instances {
		if (q.FlowID != "" && x.FlowID != q.FlowID) || !inScope(x.Applicant) {
			continue
		}
		if !x.CreatedAt.Before(q.Until) && !q.Until.IsZero() {
			continue // filed after the window
		}
		instances[x.ID] = x
		f, d := byFlow.get(x.FlowID), byDept.get(deptOf[x.Applicant])
		f.FlowID, f.requests, d.requests = x.FlowID, true, true
		for _, a := range []*acc{total, f, d} {
			a.addInstance(x, in)
		}
	}
	for _, t := range rows.Tasks {
		x := instances[t.InstanceID]
		if x == nil {
			continue
		}
		s := byStep.get(x.FlowID + "\x00" + t.StepID)
		s.Key, s.FlowID, s.StepID = t.StepID, x.FlowID, t.StepID
		a := byApprover.get(t.Assignee)
		a.addTask(t, in)
		s.addTask(t, in)
		reqRows := []*acc{total, byFlow.get(x.FlowID), byDept.get(deptOf[x.Applicant])}
		for _, o := range append(reqRows, s, a) {
			o.addOverdue(t, now, in)
		}
		if t.DecidedAt != nil && in(*t.DecidedAt) && (t.Status == flows.TaskReturned || t.Status == flows.TaskSentBack) {
			for _, o := range reqRows {
				if t.Status == flows.TaskReturned {
					o.Returned++
				} else {
					o.SentBack++
				}
			}
		}
	}

	r := &Report{Query: q, Total: total.finish()}
	for _, a := range sorted(byStep, func(a, b *acc) int { return cmp.Or(cmp.Compare(a.FlowID, b.FlowID), cmp.Compare(a.StepID, b.StepID)) }) {
		r.Steps = append(r.Steps, a.finish())
	}
	for _, a := range sorted(byFlow, byKey) {
		fs := FlowStats{Stats: a.finish()}
		for i := range r.Steps {
			if s := &r.Steps[i]; s.FlowID == fs.Key && slower(s, fs.Bottleneck, fs.BottleneckWait, r.Steps) {
				fs.Bottleneck, fs.BottleneckWait = s.StepID, s.Decision.Median
			}
		}
		r.Flows = append(r.Flows, fs)
	}
	for _, a := range sorted(byApprover, byKey) {
		r.Approvers = append(r.Approvers, a.finish())
	}
	for _, a := range sorted(byDept, byKey) {
		r.Depts = append(r.Depts, a.finish())
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.Decision.N > 0 && (r.Bottleneck == nil || s.Decision.Median > r.Bottleneck.Decision.Median ||
			(s.Decision.Median == r.Bottleneck.Decision.Median && s.Decision.N > r.Bottleneck.Decision.N)) {
			r.Bottleneck = s
		}
	}
	if r.Bottleneck != nil {
		b := *r.Bottleneck
		r.Bottleneck = &b
	}
	return r
}

// slower reports whether step s waits longer (by median, then by number of
// decisions) than the current bottleneck cur of the same flow.
func slower(s *Stats, cur string, curWait time.Duration, steps []Stats) bool {
	if s.Decision.N == 0 {
		return false
	}
	if cur == "" || s.Decision.Median > curWait {
		return true
	}
	if s.Decision.Median < curWait {
		return false
	}
	for i := range steps {
		if steps[i].FlowID == s.FlowID && steps[i].StepID == cur {
			return s.Decision.N > steps[i].Decision.N
		}
	}
	return false
}

func byKey(a, b *acc) int { return cmp.Compare(a.Key, b.Key) }

func sorted(t table, by func(a, b *acc) int) []*acc {
	out := make([]*acc, 0, len(t))
	for _, a := range t {
		out = append(out, a)
	}
	slices.SortFunc(out, by)
	return out
}

func (a *acc) addInstance(x *flows.Instance, in func(time.Time) bool) {
	if in(x.CreatedAt) {
		a.Submitted++
	}
	if x.Status.Open() {
		a.Pending++
		return
	}
	if x.ClosedAt == nil || !in(*x.ClosedAt) {
		return
	}
	switch x.Status {
	case flows.StatusApproved:
		a.Approved++
	case flows.StatusRejected:
		a.Rejected++
	case flows.StatusWithdrawn:
		a.Withdrawn++
	case flows.StatusFailed:
		a.Failed++
	}
	if x.Status == flows.StatusApproved || x.Status == flows.StatusRejected {
		a.times = append(a.times, x.ClosedAt.Sub(x.CreatedAt))
	}
}

// started returns when t began to wait for its assignee, or false for a
// task that never did (queued, then cancelled).
func started(t *flows.Task) (time.Time, bool) {
	if t.StartedAt != nil {
		return *t.StartedAt, true
	}
	if t.Status == flows.TaskQueued || (t.Status == flows.TaskCancelled && t.DecidedAt == nil) {
		return time.Time{}, false
	}
	return t.CreatedAt, t.Status != flows.TaskQueued
}

func (a *acc) addTask(t *flows.Task, in func(time.Time) bool) {
	start, ok := started(t)
	if !ok {
		return
	}
	if in(start) {
		a.Submitted++
	}
	if t.Status == flows.TaskPending {
		a.Pending++
		return
	}
	if t.DecidedAt == nil || !in(*t.DecidedAt) {
		return
	}
	switch t.Status {
	case flows.TaskApproved:
		a.Approved++
	case flows.TaskRejected:
		a.Rejected++
	case flows.TaskReturned:
		a.Returned++
	case flows.TaskSentBack:
		a.SentBack++
	case flows.TaskExpired:
	default:
		return // transferred or cancelled: no decision of this approver
	}
	a.times = append(a.times, t.DecidedAt.Sub(start))
}

// addOverdue judges one task for the overdue rate.
func (a *acc) addOverdue(t *flows.Task, now time.Time, in func(time.Time) bool) {
	if _, ok := started(t); !ok {
		return
	}
	open := t.Status == flows.TaskPending
	if !open && (t.DecidedAt == nil || !in(*t.DecidedAt)) {
		return
	}
	a.Tasks++
	if Overdue(t, now) {
		a.Overdue++
		if open {
			a.OverdueOpen++
		}
	}
}

// Overdue reports whether task t missed a deadline: it was reminded,
// escalated or timed out, or was decided after (or is still pending past)
// its first deadline.
func Overdue(t *flows.Task, now time.Time) bool {
	if t.Reminders > 0 || t.Escalated || t.Auto {
		return true
	}
	end := now
	if t.DecidedAt != nil {
		end = *t.DecidedAt
	} else if !t.Open() {
		return false
	}
	for _, d := range []*time.Time{t.RemindAt, t.EscalateAt, t.TimeoutAt} {
		if d != nil && end.After(*d) {
			return true
		}
	}
	return false
}

func (a *acc) finish() Stats {
	s := a.Stats
	s.Decision = Summarize(a.times)
	if n := s.Approved + s.Rejected; n > 0 {
		s.RejectionRate = float64(s.Rejected) / float64(n)
	}
	if a.requests {
		if n := s.Approved + s.Rejected + s.Withdrawn + s.Failed; n > 0 {
			s.ReturnRate = float64(s.Returned) / float64(n)
			s.SendBackRate = float64(s.SentBack) / float64(n)
			s.WithdrawalRate = float64(s.Withdrawn) / float64(n)
		}
	} else if n := s.Approved + s.Rejected + s.Returned + s.SentBack; n > 0 {
		s.ReturnRate = float64(s.Returned) / float64(n)
		s.SendBackRate = float64(s.SentBack) / float64(n)
	}
	if s.Tasks > 0 {
		s.OverdueRate = float64(s.Overdue) / float64(s.Tasks)
	}
	return s
}

// Summarize returns the count, median and p90 (nearest rank) of ds. The
// median of an even count is the mean of the two middle values. ds is not
// modified.
func Summarize(ds []time.Duration) Timing {
	if len(ds) == 0 {
		return Timing{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Timing{N: len(s), Median: median(s), P90: s[int(math.Ceil(0.9*float64(len(s))))-1]}
}

func median(s []time.Duration) time.Duration {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}

// PredictFinish returns the median time from submission to decision of
// the approved or rejected requests of flowID in history: the expected
// time a new request of that flow takes. 0 when there is no history.
func PredictFinish(history []*flows.Instance, flowID string) time.Duration {
	var ds []time.Duration
	for _, x := range history {
		if x.FlowID == flowID && x.ClosedAt != nil && (x.Status == flows.StatusApproved || x.Status == flows.StatusRejected) {
			ds = append(ds, x.ClosedAt.Sub(x.CreatedAt))
		}
	}
	return Summarize(ds).Median
}

// PredictRemaining is PredictFinish for a request already waiting for
// elapsed: the median remaining time of the past requests of flowID that
// took longer than elapsed (0 when none did).
func PredictRemaining(history []*flows.Instance, flowID string, elapsed time.Duration) time.Duration {
	var ds []time.Duration
	for _, x := range history {
		if x.FlowID == flowID && x.ClosedAt != nil && (x.Status == flows.StatusApproved || x.Status == flows.StatusRejected) {
			if d := x.ClosedAt.Sub(x.CreatedAt); d > elapsed {
				ds = append(ds, d-elapsed)
			}
		}
	}
	return Summarize(ds).Median
}

// ExpandDepts returns roots and all their sub-departments (ids), in the
// order of depts after the roots. Unknown roots are kept.
func ExpandDepts(depts []*flows.Department, roots []string) []string {
	out := slices.Clone(roots)
	seen := map[string]bool{}
	for _, r := range roots {
		seen[r] = true
	}
	for grew := true; grew; {
		grew = false
		for _, d := range depts {
			if d.Parent != "" && seen[d.Parent] && !seen[d.ID] {
				seen[d.ID], grew = true, true
				out = append(out, d.ID)
			}
		}
	}
	return out
}
