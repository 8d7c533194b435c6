package flowstats

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Month is one flow's month, with the month before to compare: what the
// monthly process-health report (in chat and on its page) shows. The
// figures are those of the weeks starting in the month (the aggregate
// keeps weeks).
type Month struct {
	FlowID string
	// Start is the first day of the month (midnight in the calendar's
	// zone); End the first day of the next.
	Start, End time.Time
	// Now and Before are the figures of the month and of the one before.
	Now, Before Figures
	// Steps are the month's approval steps, most waiting first.
	Steps []WaitFigures
	// Weeks are the weeks of both months, oldest first, the empty ones
	// too.
	Weeks []WeekFigures
	// Bottleneck is where the month's requests waited (nil: nothing
	// waited).
	Bottleneck *Bottleneck
}

// FailureRate is the part of the ended requests that were rejected or
// failed (0 when none ended).
func (f *Figures) FailureRate() float64 {
	if n := f.Ended(); n > 0 {
		return float64(f.Rejected+f.Failed) / float64(n)
	}
	return 0
}

// MonthOf returns the first day of the month of t in the calendar's
// zone.
func (a *Aggregate) MonthOf(t time.Time) time.Time {
	t = t.In(a.cal.Location)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, a.cal.Location)
}

// Month returns the figures of the flow f.FlowID (of department f.Dept
// when set; f's other fields are ignored) for the month that starts at
// start (a first day from MonthOf or ParseMonth), with the month before.
func (a *Aggregate) Month(f Filter, start time.Time) *Month {
	flowID := f.FlowID
	start = a.MonthOf(start)
	end := start.AddDate(0, 1, 0)
	prev := start.AddDate(0, -1, 0)
	m := &Month{FlowID: flowID, Start: start, End: end}
	if ff := a.Summary(Filter{FlowID: flowID, Dept: f.Dept, Since: start, Until: end}).Flow(flowID); ff != nil {
		m.Now, m.Steps = ff.Figures, ff.Steps
	}
	if ff := a.Summary(Filter{FlowID: flowID, Dept: f.Dept, Since: prev, Until: start}).Flow(flowID); ff != nil {
		m.Before = ff.Figures
	}
	// Every week of both months as Summary counts them (from the week of
	// the first day), the empty ones too.
	have := map[string]WeekFigures{}
	for _, w := range a.Summary(Filter{FlowID: flowID, Dept: f.Dept, Since: prev, Until: end}).Weeks {
		have[w.Start.Format(time.DateOnly)] = w
	}
	for w := a.WeekStart(a.week(prev)); w.Before(end); w = w.AddDate(0, 0, 7) {
		f, ok := have[w.Format(time.DateOnly)]
		if !ok {
			f = WeekFigures{Start: w}
		}
		m.Weeks = append(m.Weeks, f)
	}
	m.Bottleneck = a.Bottleneck(Filter{Dept: f.Dept, Since: start, Until: end}, flowID)
	return m
}

// ErrBadMonth says a month is not of the form YYYY-MM (years 2000 to
// 2999).
var ErrBadMonth = errors.New("month must be YYYY-MM")

var monthRE = regexp.MustCompile(`^(2[0-9]{3})-(0[1-9]|1[0-2])$`)

// ParseMonth reads "2026-11" as the first day of that month in loc.
func ParseMonth(s string, loc *time.Location) (time.Time, error) {
	m := monthRE.FindStringSubmatch(s)
	if m == nil {
		if len(s) > 16 {
			s = s[:16] + "…"
		}
		return time.Time{}, fmt.Errorf("%w, not %q", ErrBadMonth, s)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	return time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, loc), nil
}
