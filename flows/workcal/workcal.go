package workcal

import (
	"time"
)

// Calendar is a business calendar: working hours, weekends, public holidays
// and make-up working days (调休).
type Calendar struct {
	Location *time.Location
	// StartMin and EndMin are the working hours as minutes after midnight.
	StartMin, EndMin int
	Weekend          map[time.Weekday]bool
	Holidays         map[string]bool // "2006-01-02": no work although a weekday
	Workdays         map[string]bool // "2006-01-02": work although a weekend (调休)
}

// Default is 09:00-18:00, Monday to Friday, Asia/Shanghai, no holidays.
func Default() *Calendar {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return &Calendar{Location: loc, StartMin: 9 * 60, EndMin: 18 * 60,
		Weekend: map[time.Weekday]bool{time.Saturday: true, time.Sunday: true}}
}

// maxSearchDays bounds the search for the next working day, so that a
// calendar without any working day cannot loop forever.
const maxSearchDays = 3 * 366

func (c *Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// IsWorkday reports whether the calendar day of day (in the calendar's time
// zone) is a working day: a make-up day, or neither a weekend day nor a
// holiday.
func (c *Calendar) IsWorkday(day time.Time) bool {
	key := day.In(c.loc()).Format("2006-01-02")
	if c.Workdays[key] {
		return true
	}
	if c.Holidays[key] {
		return false
	}
	return !c.Weekend[day.In(c.loc()).Weekday()]
}

// IsWorkDate reports whether date ("2006-01-02", a date of the calendar's
// time zone) is a working day; a malformed date is not. It lets flow
// conditions count the working days of a date range
// (flowdef.WorkCalendar).
func (c *Calendar) IsWorkDate(date string) bool {
	t, err := time.ParseInLocation("2006-01-02", date, c.loc())
	if err != nil {
		return false
	}
	return c.IsWorkday(t.Add(12 * time.Hour))
}

// at returns the time min minutes after midnight of day's date.
func (c *Calendar) at(day time.Time, min int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, 0, min, 0, 0, c.loc())
}

// nextWorkday returns midnight of the first working day after day, and false
// when there is none within maxSearchDays.
func (c *Calendar) nextWorkday(day time.Time) (time.Time, bool) {
	y, m, d := day.Date()
	for i := 1; i <= maxSearchDays; i++ {
		next := time.Date(y, m, d+i, 0, 0, 0, 0, c.loc())
		if c.IsWorkday(next) {
			return next, true
		}
	}
	return time.Time{}, false
}

// Add returns the moment d of working time after t. Each whole 24h of d is
// one working day (same clock time on the next working day); the remainder
// is working hours. A t outside working hours starts at the next opening.
// A calendar without working hours or working days falls back to t.Add(d).
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	if c.StartMin < 0 || c.EndMin > 24*60 || c.StartMin >= c.EndMin {
		return t.Add(d)
	}
	cur := t.In(c.loc())
	// Move to working time.
	mins := cur.Hour()*60 + cur.Minute()
	switch {
	case !c.IsWorkday(cur) || mins >= c.EndMin:
		next, ok := c.nextWorkday(cur)
		if !ok {
			return t.Add(d)
		}
		cur = c.at(next, c.StartMin)
	case mins < c.StartMin:
		cur = c.at(cur, c.StartMin)
	}
	days := int(d / (24 * time.Hour))
	rem := d % (24 * time.Hour)
	for range days {
		next, ok := c.nextWorkday(cur)
		if !ok {
			return t.Add(d)
		}
		y, m, dd := next.Date()
		h, mi, s := cur.Clock()
		cur = time.Date(y, m, dd, h, mi, s, cur.Nanosecond(), c.loc())
	}
	for rem > 0 {
		end := c.at(cur, c.EndMin)
		if left := end.Sub(cur); rem <= left {
			return cur.Add(rem)
		} else {
			rem -= left
		}
		next, ok := c.nextWorkday(cur)
		if !ok {
			return t.Add(d)
		}
		cur = c.at(next, c.StartMin)
	}
	return cur
}
