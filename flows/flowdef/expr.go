package flowdef

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// RangeEnv is how a daterange field looks in a condition:
// `period.days > 3`, `period.workdays > 3`, `period.from >= "2026-12-01"`.
type RangeEnv struct {
	From string `expr:"from"`
	To   string `expr:"to"`
	// Days counts calendar days, both ends included (Fri–Mon = 4).
	Days int `expr:"days"`
	// Workdays counts the working days of the range on the business
	// calendar given to EnvOn (Monday to Friday with Env).
	Workdays int `expr:"workdays"`
}

// WorkCalendar says which dates are working days; *workcal.Calendar is one.
type WorkCalendar interface {
	// IsWorkDate reports whether date ("2006-01-02") is a working day.
	IsWorkDate(date string) bool
}

// weekdays is the calendar Env uses: Monday to Friday, no holidays.
type weekdays struct{}

func (weekdays) IsWorkDate(date string) bool {
	t, err := time.Parse(dateLayout, date)
	return err == nil && t.Weekday() != time.Saturday && t.Weekday() != time.Sunday
}

// maxWorkdaySpan bounds the days looked at when counting working days.
const maxWorkdaySpan = 3700

func rangeEnv(r DateRange, cal WorkCalendar) RangeEnv {
	out := RangeEnv{From: r.From, To: r.To, Days: r.Days}
	t, err := time.Parse(dateLayout, r.From)
	if err != nil {
		return out
	}
	for i := 0; i < r.Days && i < maxWorkdaySpan; i++ {
		if cal.IsWorkDate(t.AddDate(0, 0, i).Format(dateLayout)) {
			out.Workdays++
		}
	}
	return out
}

// WorkdaysOn counts the working days of the range on cal (nil = Monday
// to Friday).
func (r DateRange) WorkdaysOn(cal WorkCalendar) int {
	if cal == nil {
		cal = weekdays{}
	}
	return rangeEnv(r, cal).Workdays
}

// zeroOf is the value a field has in a condition when the form has none;
// its type is the type conditions are checked against.
func zeroOf(t FieldType) any {
	switch t {
	case FieldNumber, FieldMoney:
		return float64(0)
	case FieldDateRange:
		return RangeEnv{}
	case FieldMultiSelect:
		return []string{}
	case FieldBool:
		return false
	default:
		return ""
	}
}

// compileEnv is the typed environment conditions are compiled against.
func compileEnv(d *Definition) map[string]any {
	env := map[string]any{"applicant": Applicant{Roles: []string{}}, "balance": BalanceFunc(noBalance)}
	for _, f := range d.Fields {
		if f.ID != "" && f.ID != "applicant" {
			env[f.ID] = zeroOf(f.Type)
		}
	}
	return env
}

func compileWhen(src string, env map[string]any) (*vm.Program, error) {
	prog, err := expr.Compile(src, expr.Env(env), expr.AsBool())
	if err != nil {
		msg := err.Error()
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if strings.HasPrefix(msg, "unknown name ") {
			msg = "refers to a missing field: " + msg
		}
		return nil, errors.New(msg)
	}
	return prog, nil
}

// Env builds the environment of `when` expressions from canonical form
// values and the applicant. Money is in major units (float64), a daterange is
// {from, to, days, workdays} with workdays counted Monday to Friday, and a
// field without a value has the zero value of its type. EnvOn counts
// workdays on a business calendar.
func (d *Definition) Env(v Values, a Applicant) map[string]any {
	return d.EnvOn(v, a, nil)
}

// EnvOn is Env with the working days of date ranges counted on cal (nil =
// Monday to Friday).
func (d *Definition) EnvOn(v Values, a Applicant, cal WorkCalendar) map[string]any {
	if cal == nil {
		cal = weekdays{}
	}
	if a.Roles == nil {
		a.Roles = []string{}
	}
	env := map[string]any{"applicant": a, "balance": BalanceFunc(noBalance)}
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.ID == "applicant" {
			continue
		}
		env[f.ID] = envValue(f, v[f.ID], cal)
	}
	return env
}

func envValue(f *Field, raw any, cal WorkCalendar) any {
	if raw == nil {
		return zeroOf(f.Type)
	}
	v, err := Normalize(f, raw, time.Time{})
	if err != nil {
		return zeroOf(f.Type)
	}
	switch x := v.(type) {
	case Money:
		return float64(x.Cents) / 100
	case DateRange:
		return rangeEnv(x, cal)
	case File:
		return x.Name
	}
	return v
}

// Applies reports whether step s applies to env (built by Env). A step
// without `when` always applies.
func (s *Step) Applies(env map[string]any) (bool, error) {
	if strings.TrimSpace(s.When) == "" {
		return true, nil
	}
	prog := s.when
	if prog == nil {
		p, err := compileWhen(s.When, env)
		if err != nil {
			return false, fmt.Errorf("compile condition of step %s: %w", s.ID, err)
		}
		prog = p
	}
	out, err := expr.Run(prog, env)
	if err != nil {
		return false, fmt.Errorf("evaluate condition of step %s: %w", s.ID, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("evaluate condition of step %s: got %T, want bool", s.ID, out)
	}
	return b, nil
}
