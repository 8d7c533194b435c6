package workcal

import "time"

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

// Add returns the time d of working time after t. TODO(helper): implement.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time { return t.Add(d) }
