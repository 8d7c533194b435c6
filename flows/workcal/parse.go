package workcal

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

type file struct {
	Timezone string      `yaml:"timezone"`
	Hours    string      `yaml:"hours"`
	Weekend  []yaml.Node `yaml:"weekend"`
	Holidays []yaml.Node `yaml:"holidays"`
	Workdays []yaml.Node `yaml:"workdays"`
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday, "周日": time.Sunday, "星期日": time.Sunday,
	"mon": time.Monday, "monday": time.Monday, "周一": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday, "周二": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday, "周三": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday, "周四": time.Thursday,
	"fri": time.Friday, "friday": time.Friday, "周五": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday, "周六": time.Saturday,
}

// maxRangeDays bounds one holiday range.
const maxRangeDays = 366

// Parse reads a calendar file (see the package comment). Keys left out keep
// the values of Default. Every mistake is reported, with its line.
func Parse(src []byte) (cal *Calendar, err error) {
	defer func() {
		if r := recover(); r != nil {
			cal, err = nil, fmt.Errorf("parse calendar: invalid YAML: %v", r)
		}
	}()
	var f file
	dec := yaml.NewDecoder(strings.NewReader(string(src)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse calendar: %w", err)
	}
	c := Default()
	c.Holidays, c.Workdays = map[string]bool{}, map[string]bool{}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...)))
	}
	if f.Timezone != "" {
		loc, err := time.LoadLocation(f.Timezone)
		if err != nil {
			fail(1, "unknown timezone %q (want an IANA name such as Asia/Shanghai)", f.Timezone)
		} else {
			c.Location = loc
		}
	}
	if f.Hours != "" {
		a, b, ok := strings.Cut(f.Hours, "-")
		start, ok1 := clock(a)
		end, ok2 := clock(b)
		if !ok || !ok1 || !ok2 || start >= end {
			fail(1, "bad hours %q (want e.g. \"09:00-18:00\")", f.Hours)
		} else {
			c.StartMin, c.EndMin = start, end
		}
	}
	if f.Weekend != nil {
		c.Weekend = map[time.Weekday]bool{}
		for _, n := range f.Weekend {
			wd, ok := weekdays[strings.ToLower(strings.TrimSpace(n.Value))]
			if !ok || n.Kind != yaml.ScalarNode {
				fail(n.Line, "unknown weekday %q (want mon, tue, wed, thu, fri, sat or sun)", n.Value)
				continue
			}
			c.Weekend[wd] = true
		}
	}
	days := func(list []yaml.Node, into map[string]bool, what string) {
		for _, n := range list {
			from, to, isRange := strings.Cut(n.Value, "..")
			if !isRange {
				to = from
			}
			ft, err1 := time.Parse("2006-01-02", strings.TrimSpace(from))
			tt, err2 := time.Parse("2006-01-02", strings.TrimSpace(to))
			switch {
			case n.Kind != yaml.ScalarNode || err1 != nil || err2 != nil:
				fail(n.Line, "bad %s %q (want 2026-10-01 or 2026-10-01..2026-10-07)", what, n.Value)
				continue
			case tt.Before(ft) || tt.Sub(ft) > maxRangeDays*24*time.Hour:
				fail(n.Line, "bad %s range %q: the end is before the start or more than a year later", what, n.Value)
				continue
			}
			for d := ft; !d.After(tt); d = d.AddDate(0, 0, 1) {
				into[d.Format("2006-01-02")] = true
			}
		}
	}
	days(f.Holidays, c.Holidays, "holiday")
	days(f.Workdays, c.Workdays, "workday")
	for d := range c.Workdays {
		if c.Holidays[d] {
			errs = append(errs, fmt.Errorf("%s is both a holiday and a workday", d))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("parse calendar: %w", errors.Join(errs...))
	}
	return c, nil
}

// clock reads "09:00" as minutes after midnight (24:00 allowed).
func clock(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, false
	}
	return hh*60 + mm, true
}
