package flowstats_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/workcal"
)

// genParams describes a generated history of the flow "purchase" (steps
// mgr -> finance -> ceo, one approver each) with a planted bottleneck in
// finance. Every wait is chosen by the generator; truth records them, so
// tests compare the aggregate's measurements with what was planted.
type genParams struct {
	Requests int
	// Base waits per step in working time; request i waits base * (1 +
	// i%5) at each step, plus SalesExtra at finance for sales applicants.
	Base       map[string]time.Duration
	SalesExtra time.Duration
	// Spacing is the working time between two submissions (zero: 50
	// minutes, counted the way workcal.Add counts 24h as a day).
	Spacing time.Duration
	// Jitter scales each wait by a factor between 0.5 and 1.5 (the same
	// for a request and step on every run), so that waits spread.
	Jitter bool
}

var genSteps = []struct{ id, approver string }{{"mgr", "mia"}, {"finance", "fay"}, {"ceo", "cole"}}

// truth is what the generator planted.
type truth struct {
	waits               map[string][]time.Duration // step -> working-time waits of decided tasks
	deptWaits           map[string][]time.Duration // dept -> submitted->completed working time
	submitted, approved int
	rejected, withdrawn int
	sentBack, reminders int
	fridayPM            map[string]int
	// approvedWork is the planted working time of each approved request
	// that was never sent back, by instance id.
	approvedWork map[int64]time.Duration
	users        []*flows.User
}

// role of request i in the generated history.
func rejectedAtCEO(i int) bool { return i%10 == 9 }
func sentBack(i int) bool      { return i%20 == 3 }
func withdrawn(i int) bool     { return i%25 == 7 }
func deptOf(i int) string {
	if (i/5)%2 == 0 {
		return "eng"
	}
	return "sales"
}

// addWork returns the moment w of working time after t (t in working
// hours), through workcal.Add: whole working days as 24h, the rest as hours.
func addWork(cal *workcal.Calendar, t time.Time, w time.Duration) time.Time {
	day := time.Duration(cal.EndMin-cal.StartMin) * time.Minute
	return cal.Add(t, (w/day)*24*time.Hour+w%day)
}

// generate returns the events of p's history, in id order, and the truth.
func generate(p genParams, origin time.Time) ([]*flows.Event, truth) {
	cal := workcal.Default()
	tr := truth{waits: map[string][]time.Duration{}, deptWaits: map[string][]time.Duration{}, fridayPM: map[string]int{}, approvedWork: map[int64]time.Duration{}}
	tr.users = []*flows.User{{ID: "mia", Dept: "mgmt"}, {ID: "fay", Dept: "finance"}, {ID: "cole", Dept: "mgmt"}}
	var evs []*flows.Event
	var taskID int64
	data := func(m map[string]any) json.RawMessage {
		b, _ := json.Marshal(m)
		return b
	}
	for i := range p.Requests {
		id := int64(i + 1)
		// Ten applicants: u0-u4 in eng, u5-u9 in sales (deptOf(i) is
		// deptOf(i%10)).
		applicant, dept := fmt.Sprintf("u%d", i%10), deptOf(i)
		if i < 10 {
			tr.users = append(tr.users, &flows.User{ID: applicant, Dept: dept})
		}
		// Submissions spread over working time, 50 working minutes apart.
		at := cal.Add(origin, time.Duration(i)*50*time.Minute)
		if p.Spacing > 0 {
			at = addWork(cal, origin, time.Duration(i)*p.Spacing)
		}
		var planted time.Duration // working time the request waited
		ev := func(typ flows.EventType, step string, task int64, actor string, t time.Time, d map[string]any) {
			e := &flows.Event{InstanceID: id, FlowID: "purchase", StepID: step, TaskID: task, Type: typ, Actor: actor, At: t}
			if d != nil {
				e.Data = data(d)
			}
			evs = append(evs, e)
		}
		submitted := at
		ev(flows.EvSubmitted, "mgr", 0, applicant, at, map[string]any{"version": 1})
		tr.submitted++
		steps := genSteps
		for k := 0; k < len(steps); k++ {
			s := steps[k]
			w := p.Base[s.id] * time.Duration(1+i%5)
			if s.id == "finance" && dept == "sales" {
				w += p.SalesExtra
			}
			if p.Jitter {
				h := uint64(i)*0x9E3779B97F4A7C15 + uint64(k+1)*0xBF58476D1CE4E5B9
				h ^= h >> 31
				w = w * time.Duration(500+h%1001) / 1000
			}
			taskID++
			ev(flows.EvStepStarted, s.id, 0, flows.System, at, nil)
			ev(flows.EvTaskCreated, s.id, taskID, flows.System, at, map[string]any{"assignee": s.approver, "status": "pending"})
			if s.id == "finance" && withdrawn(i) {
				end := addWork(cal, at, time.Hour)
				ev(flows.EvWithdrawn, s.id, 0, applicant, end, nil)
				tr.withdrawn++
				break
			}
			if l := at.In(cal.Location); l.Weekday() == time.Friday && l.Hour() >= 12 {
				tr.fridayPM[s.id]++
			}
			if w > 9*time.Hour {
				ev(flows.EvReminded, s.id, taskID, flows.System, addWork(cal, at, 9*time.Hour), map[string]any{"count": 1})
				tr.reminders++
			}
			end := addWork(cal, at, w)
			tr.waits[s.id] = append(tr.waits[s.id], w)
			planted += w
			if s.id == "mgr" && sentBack(i) && k == 0 && at.Equal(submitted) {
				ev(flows.EvRejected, s.id, taskID, s.approver, end, map[string]any{"comment": "fix"})
				ev(flows.EvReturned, s.id, 0, s.approver, end, map[string]any{"step": "mgr", "by": s.approver})
				tr.sentBack++
				at = addWork(cal, end, time.Hour)
				planted += time.Hour
				ev(flows.EvResubmitted, s.id, 0, applicant, at, nil)
				k-- // mgr again
				continue
			}
			at = end
			if s.id == "ceo" && rejectedAtCEO(i) {
				ev(flows.EvRejected, s.id, taskID, s.approver, at, map[string]any{"comment": "no"})
				ev(flows.EvCompleted, s.id, 0, s.approver, at, map[string]any{"status": "rejected"})
				tr.rejected++
				tr.deptWaits[dept] = append(tr.deptWaits[dept], planted)
				break
			}
			ev(flows.EvApproved, s.id, taskID, s.approver, at, map[string]any{"comment": ""})
			ev(flows.EvStepDone, s.id, 0, flows.System, at, nil)
			if k == len(steps)-1 {
				ev(flows.EvCompleted, "", 0, flows.System, at, map[string]any{"status": "approved"})
				tr.approved++
				if !sentBack(i) {
					tr.approvedWork[id] = planted
				}
				tr.deptWaits[dept] = append(tr.deptWaits[dept], planted)
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b *flows.Event) int { return a.At.Compare(b.At) })
	for i, e := range evs {
		e.ID = int64(i + 1)
	}
	return evs, tr
}
