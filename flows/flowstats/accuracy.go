package flowstats

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"
)

// finished is what the aggregate keeps of a request approved recently,
// to measure how well it would have been forecast.
type finished struct {
	submitted time.Time
	week      int32 // of the submission
	work      int32 // working seconds from submission to decision
	path      []pathStep
}

// pathStep is a step a request went through and who decided it.
type pathStep struct{ step, approver string }

// keepFinished is how many approved requests per flow the aggregate keeps
// for Accuracy.
const keepFinished = 200

// Accuracy measures the forecasts of past requests: each of the last
// approved requests of a flow is forecast as at its submission, from the
// waits of the weeks before it only (the steps and approvers it went
// through, as Predict draws them), and its actual working time compared
// with the forecast.
type Accuracy struct {
	FlowID string
	// N is how many requests were measured (those with history before
	// them at every step).
	N int
	// WithinP90 is the part that finished by the p90 forecast; Within is
	// the part whose actual time lies within a quarter of the p50 forecast
	// (or 1 working hour, the larger).
	WithinP90, Within float64
	// MedianError is the median |actual - p50| in working time.
	MedianError time.Duration
}

// accuracyWindow bounds the past waits a measured forecast draws from
// per step: the most recent ones before the request.
const accuracyWindow = 500

// accuracySims is how many histories each measured forecast draws.
const accuracySims = 500

// Accuracy measures the forecasts of up to n of the last approved
// requests of flowID (n <= 0: the last 200). nil when none could be measured.
func (a *Aggregate) Accuracy(flowID string, n int) *Accuracy {
	a.mu.RLock()
	recs := a.finished[flowID]
	if n <= 0 || n > keepFinished {
		n = keepFinished
	}
	if len(recs) > n {
		recs = recs[len(recs)-n:]
	}
	recs = slices.Clone(recs)
	// The waits of each step and approver, cell by cell in the order of
	// their weeks.
	type seg struct {
		week int32
		work *Durations
	}
	byKey := map[pathStep][]seg{}
	keys := make([]Key, 0)
	for k := range a.cells {
		if k.FlowID == flowID && k.StepID != "" {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y Key) int {
		if x.Week != y.Week {
			return int(x.Week - y.Week)
		}
		if x.StepID != y.StepID {
			return cmpString(x.StepID, y.StepID)
		}
		if x.Approver != y.Approver {
			return cmpString(x.Approver, y.Approver)
		}
		if x.Dept != y.Dept {
			return cmpString(x.Dept, y.Dept)
		}
		return x.Version - y.Version
	})
	for _, k := range keys {
		c := a.cells[k]
		for _, p := range []pathStep{{k.StepID, k.Approver}, {k.StepID, ""}} {
			byKey[p] = append(byKey[p], seg{k.Week, &c.Work})
		}
	}
	// before returns the last accuracyWindow waits of p in the weeks
	// before week (a cell's last ones, or an even spread of a cell kept as
	// a histogram, when only part of it is needed).
	type at struct {
		p    pathStep
		week int32
	}
	memo := map[at][]int32{}
	before := func(p pathStep, week int32) []int32 {
		if d, ok := memo[at{p, week}]; ok {
			return d
		}
		segs := byKey[p]
		i, _ := slices.BinarySearchFunc(segs, week, func(s seg, w int32) int { return cmp.Compare(s.week, w) })
		need, j := accuracyWindow, i
		for j > 0 && need > 0 {
			j--
			need -= segs[j].work.N()
		}
		var d []int32
		for ; j < i; j++ {
			n := segs[j].work.N()
			if need < 0 { // only the last part of the oldest cell
				n += need
				need = 0
			}
			d = segs[j].work.appendTail(d, n)
		}
		memo[at{p, week}] = d
		return d
	}
	dists := make([][][]int32, len(recs))
	for ri, r := range recs {
		dists[ri] = make([][]int32, len(r.path))
		for i, p := range r.path {
			d := before(p, r.week)
			if len(d) < minSamples {
				d = before(pathStep{p.step, ""}, r.week)
			}
			if len(d) == 0 {
				dists[ri] = nil // no history before it at a step: not measured
				break
			}
			dists[ri][i] = d
		}
	}
	a.mu.RUnlock()
	out := &Accuracy{FlowID: flowID}
	var errs []int64
	within, within90 := 0, 0
	sums := make([]int64, accuracySims)
	for ri, r := range recs {
		dists := dists[ri]
		if dists == nil {
			continue
		}
		rng := rand.New(rand.NewPCG(uint64(r.submitted.Unix()), uint64(len(r.path))))
		for s := range sums {
			var t int64
			for _, d := range dists {
				t += int64(d[rng.IntN(len(d))])
			}
			sums[s] = t
		}
		slices.Sort(sums)
		p50, p90 := sums[accuracySims/2], sums[accuracySims*9/10-1]
		actual := int64(r.work)
		e := actual - p50
		if e < 0 {
			e = -e
		}
		errs = append(errs, e)
		if actual <= p90 {
			within90++
		}
		if float64(e) <= max(float64(p50)/4, 3600) {
			within++
		}
	}
	if len(errs) == 0 {
		return nil
	}
	slices.Sort(errs)
	out.N = len(errs)
	out.WithinP90 = float64(within90) / float64(out.N)
	out.Within = float64(within) / float64(out.N)
	out.MedianError = time.Duration(errs[len(errs)/2]) * time.Second
	return out
}

func cmpString(x, y string) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
