package flowstats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/workcal"
)

// Key identifies one cell of an Aggregate: one flow version, step,
// approver, applicant's department and week. Request-level cells (filed,
// ended, time to decision) have an empty StepID and Approver; step-level
// cells (one task's wait and decision) name both.
type Key struct {
	FlowID   string
	Version  int
	StepID   string
	Approver string
	Dept     string
	// Week is the Monday that starts the week of the counted event, as days
	// since 1970-01-01 in the calendar's time zone.
	Week int32
}

// Cell holds the counts and durations folded into one Key. Durations are
// kept in whole seconds, as samples while a cell has few and as a
// histogram of bounded size beyond (see Durations), so medians and
// percentiles over any set of cells have exact ranks and values within
// 1.6% of the exact ones.
type Cell struct {
	// Request level.
	Submitted int // requests filed
	Approved  int // requests (or, in a step cell, tasks) approved
	// Rejected counts requests (tasks) rejected for good; for tasks
	// decided before outcomes were recorded it includes returns.
	Rejected  int
	Withdrawn int
	Failed    int
	SentBack  int // returns to the applicant for amendment
	// SentToStep counts send-backs to an earlier step: at request level
	// each send-back, at step level the approver who sent it back.
	SentToStep int
	Reworked   int // resubmissions after a send-back
	Overdue    int // requests (tasks) that needed a reminder, escalation or timeout
	// Ratings counts the applicants' satisfaction ratings (week of the
	// rating), RatingSum adds their scores (1-5).
	Ratings, RatingSum int

	// Step level.
	Tasks       int // tasks decided or transferred
	Transferred int
	Reminders   int
	Escalations int
	TimedOut    int
	// FridayPM counts the waits that began on a Friday afternoon (12:00 or
	// later in the calendar's time zone).
	FridayPM int

	// Wall and Work are durations in seconds: the time to a decision
	// (submitted -> completed) for requests, the wait (pending -> decided)
	// for tasks, in wall-clock and in working time of the calendar.
	Wall, Work Durations
	// WaitWork sums the working-time waits of the cell's tasks, transfers
	// included: the waiting time the cell is responsible for.
	WaitWork int64
}

// reqState is what the aggregate remembers of a request still open.
type reqState struct {
	flow      string
	version   int
	dept      string
	submitted time.Time
	tasks     map[int64]*taskState
	// lastDecision is when a step's last task was decided: the start of a
	// queued (sequence) task's wait.
	lastDecision map[string]time.Time
	overdue      bool
	// path is the steps decided so far and who decided them (the last
	// decision of each step), for Accuracy.
	path []pathStep
}

type taskState struct {
	step, assignee string
	start          time.Time
	queued         bool
	reminders      int
	escalated      bool
	timedOut       bool
}

// Aggregate folds the event log into cells, incrementally: Update reads
// only the events after its cursor. A new Aggregate updated from an empty
// cursor is a full rebuild. It is safe for concurrent use.
type Aggregate struct {
	// upd serialises Update, so that two callers do not read the same
	// pages; warming is set while Warm rebuilds.
	upd      sync.Mutex
	dirRead  time.Time // when Update last read the directory (under upd)
	warming  atomic.Bool
	mu       sync.RWMutex
	cal      *workcal.Calendar
	loc      *time.Location
	cursor   int64
	cells    map[Key]*Cell
	open     map[int64]*reqState
	ended    *ended                // ended requests not rated yet, for ratings
	versions map[string]int        // flow -> the version of its last request filed
	dept     map[string]string     // user id -> department id
	workdays map[int32]bool        // day -> working day, a cache of cal
	finished map[string][]finished // flow -> its last approved requests, for Accuracy
}

// NewAggregate returns an empty aggregate measuring working time in cal
// (nil: workcal.Default()).
func NewAggregate(cal *workcal.Calendar) *Aggregate {
	if cal == nil {
		cal = workcal.Default()
	}
	loc := cal.Location
	if loc == nil {
		loc = time.UTC
	}
	return &Aggregate{cal: cal, loc: loc, cells: map[Key]*Cell{}, open: map[int64]*reqState{}, ended: newEnded(keepEnded), versions: map[string]int{},
		dept: map[string]string{}, workdays: map[int32]bool{}, finished: map[string][]finished{}}
}

// Calendar returns the aggregate's business calendar.
func (a *Aggregate) Calendar() *workcal.Calendar { return a.cal }

// Cursor returns the id of the last event folded.
func (a *Aggregate) Cursor() int64 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.cursor
}

// SetDirectory tells the aggregate the departments of users; a request is
// counted under its applicant's department at the time it is filed.
func (a *Aggregate) SetDirectory(users []*flows.User) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dept = make(map[string]string, len(users))
	for _, u := range users {
		a.dept[u.ID] = u.Dept
	}
}

// EventSource is what Update reads: the event log and the directory.
type EventSource interface {
	Events(ctx context.Context, f flows.EventFilter) ([]*flows.Event, error)
	Users(ctx context.Context) ([]*flows.User, error)
}

// FastEventSource is an EventSource with a cheaper full read of the log
// (store/sqlite's EventsForStats): Update uses it when src has it.
type FastEventSource interface {
	EventsForStats(ctx context.Context, afterID int64, limit int) ([]*flows.Event, error)
}

// updatePage is how many events Update reads at once.
const updatePage = 5000

// Update reads the events after the cursor from src and, when there are
// any, the directory, and folds them in. It returns how many events it
// folded.
func (a *Aggregate) Update(ctx context.Context, src EventSource) (int, error) {
	if src == nil {
		return 0, errors.New("update statistics: no store")
	}
	a.upd.Lock()
	defer a.upd.Unlock()
	n := 0
	for {
		f := flows.EventFilter{AfterID: a.Cursor(), Limit: updatePage}
		var evs []*flows.Event
		var err error
		if fast, ok := src.(FastEventSource); ok {
			evs, err = fast.EventsForStats(ctx, f.AfterID, f.Limit)
		} else {
			evs, err = src.Events(ctx, f)
		}
		if err != nil {
			return n, fmt.Errorf("update statistics: load events after %d: %w", f.AfterID, err)
		}
		if len(evs) > 0 && n == 0 && a.directoryStale(evs) {
			// The directory only matters to new events: nothing new, no load
			// (forecasts call Update on every card they draw).
			users, err := src.Users(ctx)
			if err != nil {
				return 0, fmt.Errorf("update statistics: load users: %w", err)
			}
			a.SetDirectory(users)
			a.dirRead = time.Now()
		}
		a.Apply(evs...)
		n += len(evs)
		if len(evs) < updatePage {
			return n, nil
		}
	}
}

// DirectoryRecheck is how long Update keeps the directory it read while
// the new events' people are all in it: under load, forecasts update on
// every card they draw, and reading every user each time cost more than
// the rest of the update. A department move counts from at most this
// long after it (the stores' own user caches recheck as often).
const DirectoryRecheck = time.Second

// directoryStale reports whether Update reads the directory again before
// folding evs: it is older than DirectoryRecheck, or someone who files
// or rates in evs is not in it (a new employee). Called under upd.
func (a *Aggregate) directoryStale(evs []*flows.Event) bool {
	if a.dirRead.IsZero() || time.Since(a.dirRead) >= DirectoryRecheck {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, e := range evs {
		if e.Type != flows.EvSubmitted && e.Type != flows.EvRated {
			continue
		}
		if _, ok := a.dept[e.Actor]; !ok {
			return true
		}
	}
	return false
}

// Warm brings the aggregate up to date (Update) in the background and
// says Warming from its call until then: the cold start, which at
// 1,000,000 events takes seconds (see docs/BENCHMARKS.md), so that a
// server answers "warming up" instead of waiting for it. The channel gets
// the result of the Update and is closed.
func (a *Aggregate) Warm(ctx context.Context, src EventSource) <-chan error {
	a.warming.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := a.Update(ctx, src)
		a.warming.Store(false) // before the result, so a reader of done sees it warm
		done <- err
		close(done)
	}()
	return done
}

// Warming reports whether Warm is still rebuilding; Cursor tells how far.
// Callers that must not wait (a page, a card) skip the figures then.
func (a *Aggregate) Warming() bool { return a.warming.Load() }

// Apply folds events in id order. An event at or below the cursor was
// folded already and is skipped, so a page read twice counts once.
func (a *Aggregate) Apply(evs ...*flows.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range evs {
		if e == nil || e.ID <= a.cursor {
			continue
		}
		a.cursor = e.ID
		a.fold(e)
	}
}

// eventData holds the fields of event data the aggregate reads.
type eventData struct {
	Version  int    `json:"version"`
	Assignee string `json:"assignee"`
	Status   string `json:"status"`
	To       any    `json:"to"`
	Task     int64  `json:"task"`
	Step     string `json:"step"`
	Score    int    `json:"score"`
	Outcome  string `json:"outcome"`
}

func decode(e *flows.Event) eventData {
	var d eventData
	if len(e.Data) > 0 {
		_ = json.Unmarshal(e.Data, &d) // a malformed payload reads as empty
	}
	return d
}

func (a *Aggregate) cell(k Key) *Cell {
	c := a.cells[k]
	if c == nil {
		c = &Cell{}
		a.cells[k] = c
	}
	return c
}

func (a *Aggregate) reqKey(st *reqState, at time.Time) Key {
	return Key{FlowID: st.flow, Version: st.version, Dept: st.dept, Week: a.week(at)}
}

func (a *Aggregate) fold(e *flows.Event) {
	st := a.open[e.InstanceID]
	if e.Type == flows.EvSubmitted {
		if st != nil {
			return
		}
		st = &reqState{flow: e.FlowID, version: decode(e).Version, dept: a.dept[e.Actor], submitted: e.At,
			tasks: map[int64]*taskState{}, lastDecision: map[string]time.Time{}}
		a.open[e.InstanceID] = st
		a.versions[e.FlowID] = st.version
		a.cell(a.reqKey(st, e.At)).Submitted++
		return
	}
	if e.Type == flows.EvRated {
		score := decode(e).Score
		if score < 1 || score > 5 {
			return
		}
		k, known, ok := a.ended.rate(e.InstanceID) // one rating per request
		if !ok {
			return
		}
		if !known { // ended long ago: the flow's latest version, the rater's department
			k = Key{FlowID: e.FlowID, Version: a.versions[e.FlowID], Dept: a.dept[e.Actor]}
		}
		k.Week = a.week(e.At)
		c := a.cell(k)
		c.Ratings++
		c.RatingSum += score
		return
	}
	if st == nil {
		return // filed before the aggregate's history began, or already closed
	}
	switch e.Type {
	case flows.EvTaskCreated:
		d := decode(e)
		st.tasks[e.TaskID] = &taskState{step: e.StepID, assignee: d.Assignee, start: e.At, queued: d.Status == string(flows.TaskQueued)}
	case flows.EvReminded, flows.EvEscalated, flows.EvTimedOut:
		t := st.tasks[e.TaskID]
		if t == nil {
			return
		}
		switch e.Type {
		case flows.EvReminded:
			t.reminders++
		case flows.EvEscalated:
			t.escalated = true
		default:
			t.timedOut = true
		}
		st.overdue = true
	case flows.EvApproved, flows.EvRejected:
		t := st.tasks[e.TaskID]
		if t == nil {
			return
		}
		delete(st.tasks, e.TaskID)
		c := a.taskDone(st, t, e.At)
		switch {
		case e.Type == flows.EvApproved:
			c.Approved++
		case decode(e).Outcome == "return":
			// counted by the returned event that follows
		case decode(e).Outcome == "send_back":
			c.SentToStep++
		default:
			c.Rejected++
		}
	case flows.EvTransferred:
		t := st.tasks[e.TaskID]
		if t == nil {
			return
		}
		delete(st.tasks, e.TaskID)
		start := a.waitStart(st, t)
		c := a.cell(Key{FlowID: st.flow, Version: st.version, StepID: t.step, Approver: t.assignee, Dept: st.dept, Week: a.week(e.At)})
		c.Transferred++
		c.Tasks++
		c.WaitWork += int64(a.workBetween(start, e.At) / time.Second)
		d := decode(e)
		if to, ok := d.To.(string); ok && d.Task != 0 {
			st.tasks[d.Task] = &taskState{step: t.step, assignee: to, start: e.At}
		}
	case flows.EvReturned:
		st.path = nil
		step := decode(e).Step
		if step == "" {
			step = e.StepID
		}
		st.tasks = map[int64]*taskState{}
		st.lastDecision = map[string]time.Time{}
		a.cell(a.reqKey(st, e.At)).SentBack++
		a.cell(Key{FlowID: st.flow, Version: st.version, StepID: step, Approver: e.Actor, Dept: st.dept, Week: a.week(e.At)}).SentBack++
	case flows.EvSentBack:
		a.cell(a.reqKey(st, e.At)).SentToStep++
	case flows.EvResubmitted:
		a.cell(a.reqKey(st, e.At)).Reworked++
	case flows.EvWithdrawn:
		a.cell(a.reqKey(st, e.At)).Withdrawn++
		delete(a.open, e.InstanceID)
	case flows.EvCompleted:
		c := a.cell(a.reqKey(st, e.At))
		switch flows.Status(decode(e).Status) {
		case flows.StatusApproved:
			c.Approved++
		case flows.StatusRejected:
			c.Rejected++
		default:
			c.Failed++
		}
		if st.overdue {
			c.Overdue++
		}
		a.ended.add(e.InstanceID, Key{FlowID: st.flow, Version: st.version, Dept: st.dept})
		if s := decode(e).Status; s == string(flows.StatusApproved) || s == string(flows.StatusRejected) {
			work := secs(a.workBetween(st.submitted, e.At))
			c.Wall.Add(secs(e.At.Sub(st.submitted)))
			c.Work.Add(work)
			if s == string(flows.StatusApproved) && len(st.path) > 0 {
				r := append(a.finished[st.flow], finished{submitted: st.submitted, week: a.week(st.submitted), work: work, path: st.path})
				if len(r) > 2*keepFinished {
					r = append(r[:0:0], r[len(r)-keepFinished:]...)
				}
				a.finished[st.flow] = r
			}
		}
		delete(a.open, e.InstanceID)
	}
}

// waitStart is when task t began to wait: its creation, or for a queued
// task of a sequence the decision of the one before it.
func (a *Aggregate) waitStart(st *reqState, t *taskState) time.Time {
	if t.queued {
		if at, ok := st.lastDecision[t.step]; ok && at.After(t.start) {
			return at
		}
	}
	return t.start
}

// taskDone records the decision of task t at at and returns its cell.
func (a *Aggregate) taskDone(st *reqState, t *taskState, at time.Time) *Cell {
	start := a.waitStart(st, t)
	st.lastDecision[t.step] = at
	if i := slices.IndexFunc(st.path, func(p pathStep) bool { return p.step == t.step }); i >= 0 {
		st.path[i].approver = t.assignee // a step of several tasks: its last decision
	} else {
		st.path = append(st.path, pathStep{t.step, t.assignee})
	}
	c := a.cell(Key{FlowID: st.flow, Version: st.version, StepID: t.step, Approver: t.assignee, Dept: st.dept, Week: a.week(at)})
	c.Tasks++
	work := a.workBetween(start, at)
	c.Wall.Add(secs(at.Sub(start)))
	c.Work.Add(secs(work))
	c.WaitWork += int64(work / time.Second)
	c.Reminders += t.reminders
	if t.escalated {
		c.Escalations++
	}
	if t.timedOut {
		c.TimedOut++
	}
	if t.reminders > 0 || t.escalated || t.timedOut {
		c.Overdue++
	}
	if l := start.In(a.loc); l.Weekday() == time.Friday && l.Hour() >= 12 {
		c.FridayPM++
	}
	return c
}

func secs(d time.Duration) int32 {
	s := d / time.Second
	switch {
	case s < 0:
		return 0
	case s > 1<<31-1:
		return 1<<31 - 1
	}
	return int32(s)
}

// dayOf returns t's date in the calendar's zone as days since 1970-01-01.
func (a *Aggregate) dayOf(t time.Time) int32 {
	y, m, d := t.In(a.loc).Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// week returns the Monday of t's week (days since 1970-01-01).
func (a *Aggregate) week(t time.Time) int32 {
	d := a.dayOf(t)
	// 1970-01-01 was a Thursday: day 0 has weekday offset 3 from Monday.
	return d - (d+3)%7
}

// WeekStart returns the Monday (midnight, calendar zone) of week w.
func (a *Aggregate) WeekStart(w int32) time.Time {
	y, m, d := time.Unix(int64(w)*86400, 0).UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, a.loc)
}

func (a *Aggregate) isWorkday(day int32) bool {
	w, ok := a.workdays[day]
	if !ok {
		y, m, d := time.Unix(int64(day)*86400, 0).UTC().Date()
		w = a.cal.IsWorkday(time.Date(y, m, d, 12, 0, 0, 0, a.loc))
		a.workdays[day] = w
	}
	return w
}

// maxWorkDays bounds the days workBetween walks.
const maxWorkDays = 3 * 366

// workBetween returns the working time of the calendar between from and to.
// A calendar without valid working hours counts wall time.
func (a *Aggregate) workBetween(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	c := a.cal
	if c.StartMin < 0 || c.EndMin > 24*60 || c.StartMin >= c.EndMin {
		return to.Sub(from)
	}
	var total time.Duration
	first, last := a.dayOf(from), a.dayOf(to)
	if last-first > maxWorkDays {
		last = first + maxWorkDays
	}
	for day := first; day <= last; day++ {
		if !a.isWorkday(day) {
			continue
		}
		y, m, d := time.Unix(int64(day)*86400, 0).UTC().Date()
		open := time.Date(y, m, d, 0, c.StartMin, 0, 0, a.loc)
		shut := time.Date(y, m, d, 0, c.EndMin, 0, 0, a.loc)
		lo, hi := open, shut
		if from.After(lo) {
			lo = from
		}
		if to.Before(hi) {
			hi = to
		}
		if hi.After(lo) {
			total += hi.Sub(lo)
		}
	}
	return total
}

// WorkDay returns the length of one working day of the calendar (9h for
// 09:00-18:00; 24h for a calendar without valid working hours).
func (a *Aggregate) WorkDay() time.Duration {
	c := a.cal
	if c.StartMin < 0 || c.EndMin > 24*60 || c.StartMin >= c.EndMin {
		return 24 * time.Hour
	}
	return time.Duration(c.EndMin-c.StartMin) * time.Minute
}
