package flowstats

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Filter selects the cells a Summary covers. Zero fields do not filter.
type Filter struct {
	FlowID   string
	Version  int
	StepID   string // step-level figures only
	Approver string // step-level figures only
	Dept     string
	// Since and Until bound the weeks: a cell counts when its week starts
	// in [week of Since, Until).
	Since, Until time.Time
}

// Figures are the request-level figures of a set of cells.
type Figures struct {
	Submitted int `json:"submitted"`
	Approved  int `json:"approved"`
	Rejected  int `json:"rejected"`
	Withdrawn int `json:"withdrawn"`
	Failed    int `json:"failed"`
	SentBack  int `json:"sent_back"`
	// SentToStep counts send-backs to an earlier step (not ends).
	SentToStep int `json:"sent_to_step"`
	Reworked   int `json:"reworked"`
	Overdue    int `json:"overdue"`
	// Ratings counts satisfaction ratings, Satisfaction is their mean
	// score (1-5; 0 without ratings).
	Ratings      int     `json:"ratings"`
	Satisfaction float64 `json:"satisfaction"`
	ratingSum    int
	// Decision is submitted -> completed (approved or rejected) in wall
	// time, DecisionWork the same in working time.
	Decision     Timing `json:"decision"`
	DecisionWork Timing `json:"decision_work"`
	// Rates over the requests that ended (approved, rejected, withdrawn,
	// failed); SendBackRate and OverdueRate are per ended request too.
	RejectionRate  float64 `json:"rejection_rate"`
	WithdrawalRate float64 `json:"withdrawal_rate"`
	SendBackRate   float64 `json:"send_back_rate"`
	OverdueRate    float64 `json:"overdue_rate"`
	// SendToStepRate is SentToStep per ended request.
	SendToStepRate float64 `json:"send_to_step_rate"`
}

// Ended is the number of requests that ended.
func (f *Figures) Ended() int { return f.Approved + f.Rejected + f.Withdrawn + f.Failed }

// WaitFigures are the step-level figures of a set of cells: a step, an
// approver.
type WaitFigures struct {
	FlowID   string `json:"flow_id,omitempty"`
	StepID   string `json:"step_id,omitempty"`
	Approver string `json:"approver,omitempty"`
	Tasks    int    `json:"tasks"`
	Approved int    `json:"approved"`
	Rejected int    `json:"rejected"`
	SentBack int    `json:"sent_back"`
	// SentToStep counts this step's (approver's) send-backs to an
	// earlier step.
	SentToStep int `json:"sent_to_step"`
	// Transferred, Reminders, Escalations, TimedOut: what the waits needed.
	Transferred int `json:"transferred"`
	Reminders   int `json:"reminders"`
	Escalations int `json:"escalations"`
	TimedOut    int `json:"timed_out"`
	Overdue     int `json:"overdue"`
	FridayPM    int `json:"friday_pm"`
	// Wait is pending -> decided in wall time, WaitWork in working time.
	Wait     Timing `json:"wait"`
	WaitWork Timing `json:"wait_work"`
	// Waiting is the total working time waited here; Share its part of
	// the waiting time of the flow (of everything, for approvers).
	Waiting     time.Duration `json:"waiting"`
	Share       float64       `json:"share"`
	OverdueRate float64       `json:"overdue_rate"`
	// RejectionRate: Rejected / (Approved + Rejected).
	RejectionRate float64 `json:"rejection_rate"`
	// ReturnRate and SendToStepRate: SentBack and SentToStep per decision
	// (approved, rejected, returned or sent back), counted apart from
	// rejections.
	ReturnRate     float64 `json:"return_rate"`
	SendToStepRate float64 `json:"send_to_step_rate"`
}

// FlowFigures are a flow's figures and its steps, slowest first.
type FlowFigures struct {
	FlowID string `json:"flow_id"`
	Figures
	Steps []WaitFigures `json:"steps"`
	// Waiting is the working time waited in the flow's steps.
	Waiting time.Duration `json:"waiting"`
}

// Step returns the figures of step id, or nil.
func (f *FlowFigures) Step(id string) *WaitFigures {
	for i := range f.Steps {
		if f.Steps[i].StepID == id {
			return &f.Steps[i]
		}
	}
	return nil
}

// DeptFigures are the figures of the requests of one department.
type DeptFigures struct {
	Dept string `json:"dept"`
	Figures
}

// WeekFigures are one week's figures.
type WeekFigures struct {
	Start time.Time `json:"start"`
	Figures
}

// Summary is what a dashboard shows: the figures of the cells a Filter
// selects, by flow (with steps), approver, department and week.
type Summary struct {
	Filter    Filter        `json:"-"`
	Cursor    int64         `json:"cursor"`
	Total     Figures       `json:"total"`
	Flows     []FlowFigures `json:"flows"`     // by flow id
	Approvers []WaitFigures `json:"approvers"` // most waiting first
	Depts     []DeptFigures `json:"depts"`     // longest median decision first
	Weeks     []WeekFigures `json:"weeks"`     // oldest first
	// Waiting is all the working time waited in the selected steps.
	Waiting time.Duration `json:"waiting"`
}

// Flow returns the figures of flow id, or nil.
func (s *Summary) Flow(id string) *FlowFigures {
	for i := range s.Flows {
		if s.Flows[i].FlowID == id {
			return &s.Flows[i]
		}
	}
	return nil
}

// Dept returns the figures of department id, or nil.
func (s *Summary) Dept(id string) *DeptFigures {
	for i := range s.Depts {
		if s.Depts[i].Dept == id {
			return &s.Depts[i]
		}
	}
	return nil
}

// Approver returns the figures of approver id, or nil.
func (s *Summary) Approver(id string) *WaitFigures {
	for i := range s.Approvers {
		if s.Approvers[i].Approver == id {
			return &s.Approvers[i]
		}
	}
	return nil
}

// reqAcc accumulates request-level cells.
type reqAcc struct {
	f          Figures
	wall, work dist
}

func (r *reqAcc) add(c *Cell) {
	r.f.Submitted += c.Submitted
	r.f.Approved += c.Approved
	r.f.Rejected += c.Rejected
	r.f.Withdrawn += c.Withdrawn
	r.f.Failed += c.Failed
	r.f.SentBack += c.SentBack
	r.f.SentToStep += c.SentToStep
	r.f.Reworked += c.Reworked
	r.f.Overdue += c.Overdue
	r.f.Ratings += c.Ratings
	r.f.ratingSum += c.RatingSum
	r.wall.add(&c.Wall)
	r.work.add(&c.Work)
}

func (r *reqAcc) finish() Figures {
	f := r.f
	f.Decision, f.DecisionWork = r.wall.timing(), r.work.timing()
	if f.Ratings > 0 {
		f.Satisfaction = float64(f.ratingSum) / float64(f.Ratings)
	}
	if n := f.Ended(); n > 0 {
		f.RejectionRate = float64(f.Rejected) / float64(n)
		f.WithdrawalRate = float64(f.Withdrawn) / float64(n)
		f.SendBackRate = float64(f.SentBack) / float64(n)
		f.SendToStepRate = float64(f.SentToStep) / float64(n)
		f.OverdueRate = float64(f.Overdue) / float64(n)
	}
	return f
}

// waitAcc accumulates step-level cells.
type waitAcc struct {
	w          WaitFigures
	waiting    int64
	wall, work dist
}

func (w *waitAcc) add(c *Cell) {
	w.w.Tasks += c.Tasks
	w.w.Approved += c.Approved
	w.w.Rejected += c.Rejected
	w.w.SentBack += c.SentBack
	w.w.SentToStep += c.SentToStep
	w.w.Transferred += c.Transferred
	w.w.Reminders += c.Reminders
	w.w.Escalations += c.Escalations
	w.w.TimedOut += c.TimedOut
	w.w.Overdue += c.Overdue
	w.w.FridayPM += c.FridayPM
	w.waiting += c.WaitWork
	w.wall.add(&c.Wall)
	w.work.add(&c.Work)
}

func (w *waitAcc) finish(total time.Duration) WaitFigures {
	f := w.w
	f.Wait, f.WaitWork = w.wall.timing(), w.work.timing()
	f.Waiting = time.Duration(w.waiting) * time.Second
	if total > 0 {
		f.Share = float64(f.Waiting) / float64(total)
	}
	if f.Tasks > 0 {
		f.OverdueRate = float64(f.Overdue) / float64(f.Tasks)
	}
	if n := f.Approved + f.Rejected; n > 0 {
		f.RejectionRate = float64(f.Rejected) / float64(n)
	}
	if n := f.Approved + f.Rejected + f.SentBack + f.SentToStep; n > 0 {
		f.ReturnRate = float64(f.SentBack) / float64(n)
		f.SendToStepRate = float64(f.SentToStep) / float64(n)
	}
	return f
}

// Summary computes the figures of the cells f selects.
func (a *Aggregate) Summary(f Filter) *Summary {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var since, until int32 = math.MinInt32, math.MaxInt32
	if !f.Since.IsZero() {
		since = a.week(f.Since)
	}
	if !f.Until.IsZero() {
		until = a.dayOf(f.Until)
		if y, m, d := f.Until.In(a.loc).Date(); !f.Until.Equal(time.Date(y, m, d, 0, 0, 0, 0, a.loc)) {
			until++ // a week that starts on Until's day before Until counts
		}
	}
	total := &reqAcc{}
	flowsAcc, deptAcc, weekAcc := map[string]*reqAcc{}, map[string]*reqAcc{}, map[int32]*reqAcc{}
	steps, approvers := map[[2]string]*waitAcc{}, map[string]*waitAcc{}
	get := func(m map[string]*reqAcc, k string) *reqAcc {
		r := m[k]
		if r == nil {
			r = &reqAcc{}
			m[k] = r
		}
		return r
	}
	for k, c := range a.cells {
		if k.Week < since || k.Week >= until || (f.FlowID != "" && k.FlowID != f.FlowID) ||
			(f.Version != 0 && k.Version != f.Version) || (f.Dept != "" && k.Dept != f.Dept) {
			continue
		}
		if k.StepID == "" {
			total.add(c)
			get(flowsAcc, k.FlowID).add(c)
			get(deptAcc, k.Dept).add(c)
			w := weekAcc[k.Week]
			if w == nil {
				w = &reqAcc{}
				weekAcc[k.Week] = w
			}
			w.add(c)
			continue
		}
		if (f.StepID != "" && k.StepID != f.StepID) || (f.Approver != "" && k.Approver != f.Approver) {
			continue
		}
		sk := [2]string{k.FlowID, k.StepID}
		s := steps[sk]
		if s == nil {
			s = &waitAcc{w: WaitFigures{FlowID: k.FlowID, StepID: k.StepID}}
			steps[sk] = s
			get(flowsAcc, k.FlowID) // a flow with waits has a row
		}
		s.add(c)
		ap := approvers[k.Approver]
		if ap == nil {
			ap = &waitAcc{w: WaitFigures{Approver: k.Approver}}
			approvers[k.Approver] = ap
		}
		ap.add(c)
	}
	s := &Summary{Filter: f, Cursor: a.cursor, Total: total.finish()}
	flowWait := map[string]int64{}
	var all int64
	for k, w := range steps {
		flowWait[k[0]] += w.waiting
		all += w.waiting
	}
	s.Waiting = time.Duration(all) * time.Second
	for id, r := range flowsAcc {
		ff := FlowFigures{FlowID: id, Figures: r.finish(), Waiting: time.Duration(flowWait[id]) * time.Second}
		for k, w := range steps {
			if k[0] == id {
				ff.Steps = append(ff.Steps, w.finish(ff.Waiting))
			}
		}
		slices.SortFunc(ff.Steps, func(x, y WaitFigures) int {
			return cmp.Or(cmp.Compare(y.Waiting, x.Waiting), cmp.Compare(x.StepID, y.StepID))
		})
		s.Flows = append(s.Flows, ff)
	}
	slices.SortFunc(s.Flows, func(x, y FlowFigures) int { return cmp.Compare(x.FlowID, y.FlowID) })
	for _, w := range approvers {
		s.Approvers = append(s.Approvers, w.finish(s.Waiting))
	}
	slices.SortFunc(s.Approvers, func(x, y WaitFigures) int {
		return cmp.Or(cmp.Compare(y.Waiting, x.Waiting), cmp.Compare(x.Approver, y.Approver))
	})
	for d, r := range deptAcc {
		s.Depts = append(s.Depts, DeptFigures{Dept: d, Figures: r.finish()})
	}
	slices.SortFunc(s.Depts, func(x, y DeptFigures) int {
		return cmp.Or(cmp.Compare(y.DecisionWork.Median, x.DecisionWork.Median), cmp.Compare(x.Dept, y.Dept))
	})
	for w, r := range weekAcc {
		s.Weeks = append(s.Weeks, WeekFigures{Start: a.WeekStart(w), Figures: r.finish()})
	}
	slices.SortFunc(s.Weeks, func(x, y WeekFigures) int { return x.Start.Compare(y.Start) })
	return s
}
