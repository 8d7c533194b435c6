package flowstats

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// PlannedStep is one step still ahead of (or running for) a request.
type PlannedStep struct {
	StepID   string
	Approver string // "" when not known yet: the step's history as a whole
	// Started is when the step's current task began to wait; zero for a
	// step not reached yet.
	Started time.Time
	// Deadline is when the step should be done (zero: none). For a step not
	// reached yet, DeadlineAfter (working time from the step's start) is
	// used instead.
	Deadline      time.Time
	DeadlineAfter time.Duration
	// DeadlineWall counts DeadlineAfter in wall-clock time (a flow whose
	// deadlines use the natural calendar) instead of working time.
	DeadlineWall bool
}

// StepForecast is the predicted end of one planned step.
type StepForecast struct {
	StepID   string
	Approver string
	// End50 and End90: the step is done by then in half (nine in ten) of
	// the simulated histories.
	End50, End90 time.Time
	// Deadline is the step's deadline (zero: none); Breach is set when the
	// median end is after it.
	Deadline time.Time
	Breach   bool
	// Samples is how many past waits the step's forecast draws from.
	Samples int
}

// Forecast is the predicted finish of a request.
type Forecast struct {
	Finish50, Finish90 time.Time
	// Work50 and Work90 are the working time from now to Finish50 and
	// Finish90.
	Work50, Work90 time.Duration
	Steps          []StepForecast
}

// Breaches reports whether any step is predicted to miss its deadline.
func (f *Forecast) Breaches() bool {
	return slices.ContainsFunc(f.Steps, func(s StepForecast) bool { return s.Breach })
}

// minSamples is how many past waits of one approver at a step make their
// own history; with fewer, the step's history as a whole is used.
const minSamples = 5

// simulations is how many histories Predict draws.
const simulations = 2000

// ErrNoHistory: a planned step has never been decided before.
var ErrNoHistory = errors.New("no history")

// waits returns the working-time waits (seconds) of a flow's step, of one
// approver when given, sorted. Caller holds a.mu.
func (a *Aggregate) waits(flowID, stepID, approver string) *dist {
	d := &dist{}
	for k, c := range a.cells {
		if k.FlowID == flowID && k.StepID == stepID && (approver == "" || k.Approver == approver) {
			d.add(&c.Work)
		}
	}
	d.sort() // map order must not change the draws
	return d
}

// Predict forecasts when a request of flowID at now finishes its planned
// steps (in order; a running step has Started set), from the history of
// waits in working time: each step's wait is drawn from the past waits of
// its approver (of the step as a whole when the approver has fewer than
// five), a running step's only from the waits longer than it has already
// waited. The draws are repeatable (fixed seed).
func (a *Aggregate) Predict(flowID string, steps []PlannedStep, now time.Time) (*Forecast, error) {
	if len(steps) == 0 {
		return &Forecast{Finish50: now, Finish90: now}, nil
	}
	a.mu.RLock()
	dists := make([]sampler, len(steps))
	elapsed := make([]int32, len(steps))
	for i, s := range steps {
		d := a.waits(flowID, s.StepID, s.Approver)
		if d.n < minSamples {
			d = a.waits(flowID, s.StepID, "")
		}
		if d.n == 0 {
			a.mu.RUnlock()
			return nil, fmt.Errorf("predict %s step %s: %w", flowID, s.StepID, ErrNoHistory)
		}
		if !s.Started.IsZero() {
			elapsed[i] = secs(a.workBetween(s.Started, now))
			if d.above(elapsed[i]); d.n == 0 {
				// longer than any before: due any moment
				d = &dist{p: []pair{{elapsed[i], 1}}, n: 1, sorted: true}
			} // else only the waits longer than this one has lasted
		}
		dists[i] = newSampler(d)
	}
	a.mu.RUnlock()
	rng := rand.New(rand.NewPCG(1, uint64(len(steps))))
	cum := make([][]int64, len(steps))
	for i := range cum {
		cum[i] = make([]int64, simulations)
	}
	for n := range simulations {
		var t int64
		for i, d := range dists {
			t += int64(d.At(rng.IntN(d.Len())) - elapsed[i])
			cum[i][n] = t
		}
	}
	f := &Forecast{}
	for i, s := range steps {
		slices.Sort(cum[i])
		p50 := time.Duration(cum[i][simulations/2]) * time.Second
		p90 := time.Duration(cum[i][simulations*9/10-1]) * time.Second
		sf := StepForecast{StepID: s.StepID, Approver: s.Approver, End50: a.addWork(now, p50), End90: a.addWork(now, p90),
			Deadline: s.Deadline, Samples: dists[i].Len()}
		if sf.Deadline.IsZero() && s.DeadlineAfter > 0 {
			begin := now
			if i > 0 {
				begin = f.Steps[i-1].End50
			}
			sf.Deadline = a.addWork(begin, s.DeadlineAfter)
			if s.DeadlineWall {
				sf.Deadline = begin.Add(s.DeadlineAfter)
			}
		}
		sf.Breach = !sf.Deadline.IsZero() && sf.End50.After(sf.Deadline)
		f.Steps = append(f.Steps, sf)
	}
	last := f.Steps[len(f.Steps)-1]
	f.Finish50, f.Finish90 = last.End50, last.End90
	n := len(steps) - 1
	f.Work50, f.Work90 = time.Duration(cum[n][simulations/2])*time.Second, time.Duration(cum[n][simulations*9/10-1])*time.Second
	return f, nil
}

// addWork returns the moment w of working time after t.
func (a *Aggregate) addWork(t time.Time, w time.Duration) time.Time {
	day := a.WorkDay()
	if day == 24*time.Hour {
		return t.Add(w)
	}
	return a.cal.Add(t, (w/day)*24*time.Hour+w%day)
}
