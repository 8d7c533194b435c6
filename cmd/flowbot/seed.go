package main

import (
	"container/heap"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/workcal"
)

// cmdDemoSeed is `flowbot demo seed`: it files and decides months of
// requests of the example flows through the real engine and store, moving
// the clock along, so that a new user's dashboard shows a living history.
func cmdDemoSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("demo seed", flag.ContinueOnError)
	fset.SetOutput(stderr)
	cfgPath := fset.String("config", "", "config file (default: built-in defaults)")
	months := fset.Int("months", 6, "months of history, ending now (1-24)")
	seed := fset.Uint64("seed", 1, "random seed: the same seed gives the same history")
	if err := fset.Parse(args); err != nil || fset.NArg() > 0 {
		return errUsage
	}
	if *months < 1 || *months > 24 {
		return fmt.Errorf("demo seed: -months must be 1 to 24, not %d", *months)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	cal, err := loadCalendar(cfg.Calendar.File)
	if err != nil {
		return err
	}
	s := &seeder{a: a, cal: cal, rng: newSeedRand(*seed)}
	end := time.Now()
	n, err := s.run(ctx, end.AddDate(0, -*months, 0), end)
	if err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	fmt.Fprintf(stdout, "seeded %d requests over %d months; open /ui/dashboard/ (demo mode)\n", n, *months)
	return nil
}

func newSeedRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 2026)) }

// seedDelay is the planted working-time wait of a step: [min, max).
// Finance is the planted bottleneck.
var seedDelay = map[string][2]time.Duration{
	"expense/manager": {30 * time.Minute, 6 * time.Hour},
	"expense/finance": {14 * time.Hour, 36 * time.Hour},
	"expense/cfo":     {2 * time.Hour, 10 * time.Hour},
	"leave/manager":   {20 * time.Minute, 5 * time.Hour},
	"leave/hr":        {1 * time.Hour, 8 * time.Hour},
}

// seedAction is one thing the seeder does at a moment.
type seedAction struct {
	at       time.Time
	submit   bool
	instance int64
}

type seedQueue []seedAction

func (q seedQueue) Len() int           { return len(q) }
func (q seedQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q seedQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *seedQueue) Push(x any)        { *q = append(*q, x.(seedAction)) }
func (q *seedQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

type seeder struct {
	// pendingRatings are rated right after the decision that ended them.
	pendingRatings []seedRating
	a              *app
	cal            *workcal.Calendar
	rng            *rand.Rand
	q              seedQueue
}

// at sets the engine's clock to t.
func (s *seeder) at(t time.Time) { s.a.clock.offset.Store(int64(time.Until(t))) }

// addWork is t plus w of working time.
func (s *seeder) addWork(t time.Time, w time.Duration) time.Time {
	day := time.Duration(s.cal.EndMin-s.cal.StartMin) * time.Minute
	if day <= 0 {
		return t.Add(w)
	}
	return s.cal.Add(t, (w/day)*24*time.Hour+w%day)
}

func (s *seeder) run(ctx context.Context, from, to time.Time) (int, error) {
	defer s.a.clock.offset.Store(0)
	users, err := s.a.store.Users(ctx)
	if err != nil {
		return 0, fmt.Errorf("load users: %w", err)
	}
	var applicants []string
	for _, u := range users {
		if u.Manager != "" {
			applicants = append(applicants, u.ID)
		}
	}
	if len(applicants) == 0 {
		return 0, errors.New("no user with a manager to file requests: import a directory first")
	}
	loc := s.cal.Location
	if loc == nil {
		loc = time.UTC
	}
	// Submissions: 3 to 7 on each working day, in working hours.
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if !s.cal.IsWorkday(d) {
			continue
		}
		y, m, dd := d.In(loc).Date()
		open := time.Date(y, m, dd, 0, s.cal.StartMin, 0, 0, loc)
		for range 3 + s.rng.IntN(5) {
			t := open.Add(time.Duration(s.rng.IntN(s.cal.EndMin-s.cal.StartMin)) * time.Minute)
			if t.Before(to) {
				heap.Push(&s.q, seedAction{at: t, submit: true})
			}
		}
	}
	filed := 0
	for s.q.Len() > 0 {
		act := heap.Pop(&s.q).(seedAction)
		if act.at.After(to) {
			continue // still waiting now: left open
		}
		s.at(act.at)
		if act.submit {
			out, err := s.submit(ctx, applicants[s.rng.IntN(len(applicants))])
			if err != nil {
				return filed, err
			}
			filed++
			s.schedule(out, act.at)
			continue
		}
		out, err := s.decide(ctx, act.instance)
		if err != nil {
			return filed, err
		}
		s.schedule(out, act.at)
		for _, r := range s.pendingRatings {
			if _, err := s.a.engine.Rate(ctx, r.applicant, r.instance, r.score, ""); err != nil {
				return filed, fmt.Errorf("rate request %d: %w", r.instance, err)
			}
		}
		s.pendingRatings = s.pendingRatings[:0]
	}
	// The past's cards are not sent now: mark them delivered.
	for {
		ms, err := s.a.store.Outbox(ctx, flows.OutboxPending, 1000)
		if err != nil {
			return filed, fmt.Errorf("list outbox: %w", err)
		}
		if len(ms) == 0 {
			return filed, nil
		}
		for _, m := range ms {
			if err := s.a.store.MarkDelivered(ctx, m.ID, s.a.clock.Now()); err != nil {
				return filed, fmt.Errorf("mark message %d delivered: %w", m.ID, err)
			}
		}
	}
}

func (s *seeder) submit(ctx context.Context, who string) (*flows.Outcome, error) {
	now := s.a.clock.Now()
	var r flows.SubmitRequest
	if s.rng.IntN(10) < 4 {
		from := now.AddDate(0, 0, 7+s.rng.IntN(14))
		days := 1 + s.rng.IntN(5)
		r = flows.SubmitRequest{Actor: who, FlowID: "leave", Values: map[string]any{
			"type":   []string{"annual", "sick", "personal"}[s.rng.IntN(3)],
			"period": map[string]any{"from": from.Format("2006-01-02"), "to": from.AddDate(0, 0, days-1).Format("2006-01-02")},
			"reason": "demo",
		}}
	} else {
		amount := 200 + s.rng.IntN(4800)
		switch k := s.rng.IntN(10); {
		case k < 1:
			amount = 50001 + s.rng.IntN(50000)
		case k < 6:
			amount = 5001 + s.rng.IntN(40000)
		}
		r = flows.SubmitRequest{Actor: who, FlowID: "expense", Values: map[string]any{
			"amount": amount, "category": "travel", "description": "demo",
		}}
	}
	out, err := s.a.engine.Submit(ctx, r)
	var fe *flows.Error
	if errors.As(err, &fe) && fe.Key == "balance_short" {
		// The demo's annual leave ran out: file it as personal leave,
		// which no balance counts.
		r.Values["type"] = "personal"
		out, err = s.a.engine.Submit(ctx, r)
	}
	if err != nil {
		return nil, fmt.Errorf("file %s for %s: %w", r.FlowID, who, err)
	}
	return out, nil
}

// schedule plans the next decision of an open request: its first pending
// task is decided after the step's planted delay.
func (s *seeder) schedule(out *flows.Outcome, now time.Time) {
	if out == nil {
		return
	}
	if !out.Instance.Status.Open() {
		s.rate(out)
		return
	}
	for _, t := range out.Tasks {
		if t.Status == flows.TaskPending {
			d := seedDelay[out.Instance.FlowID+"/"+t.StepID]
			w := d[0]
			if d[1] > d[0] {
				w += time.Duration(s.rng.Int64N(int64(d[1] - d[0])))
			}
			heap.Push(&s.q, seedAction{at: s.addWork(now, w), instance: out.Instance.ID})
			return
		}
	}
}

// decide takes the decision of the first pending task of a request: 94%
// approve, 6% reject (which the example expense flow sends back; the
// applicant then withdraws).
func (s *seeder) decide(ctx context.Context, id int64) (*flows.Outcome, error) {
	tasks, err := s.a.store.Tasks(ctx, flows.TaskFilter{InstanceID: id, Status: []flows.TaskStatus{flows.TaskPending}})
	if err != nil {
		return nil, fmt.Errorf("load tasks of request %d: %w", id, err)
	}
	if len(tasks) == 0 {
		return nil, nil
	}
	t := tasks[0]
	approve := s.rng.IntN(100) >= 6
	out, err := s.a.engine.Decide(ctx, flows.DecideRequest{Actor: t.Assignee, TaskID: t.ID, Approve: approve, Comment: map[bool]string{true: "", false: "请补充说明 / please explain"}[approve]})
	if err != nil {
		return nil, fmt.Errorf("decide task %d of request %d: %w", t.ID, id, err)
	}
	if out.Instance.Status == flows.StatusReturned {
		if _, err := s.a.engine.Withdraw(ctx, out.Instance.Applicant, id, "demo"); err != nil {
			return nil, fmt.Errorf("withdraw request %d: %w", id, err)
		}
		return nil, nil
	}
	return out, nil
}

// rate has seven in ten applicants of a finished request of a flow that
// asks for it rate it: mostly 4 or 5, lower when it took long.
func (s *seeder) rate(out *flows.Outcome) {
	in := out.Instance
	if out.Def == nil || !out.Def.Satisfaction || in.ClosedAt == nil || s.rng.IntN(10) >= 7 {
		return
	}
	score := 4 + s.rng.IntN(2)
	if in.ClosedAt.Sub(in.CreatedAt) > 5*24*time.Hour {
		score = 2 + s.rng.IntN(2)
	}
	s.pendingRatings = append(s.pendingRatings, seedRating{in.ID, in.Applicant, score})
}

type seedRating struct {
	instance  int64
	applicant string
	score     int
}
