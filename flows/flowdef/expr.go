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
// `period.days > 3`, `period.from >= "2026-12-01"`.
type RangeEnv struct {
	From string `expr:"from"`
	To   string `expr:"to"`
	Days int    `expr:"days"`
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
	env := map[string]any{"applicant": Applicant{Roles: []string{}}}
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
// {from, to, days}, and a field without a value has the zero value of its
// type.
func (d *Definition) Env(v Values, a Applicant) map[string]any {
	if a.Roles == nil {
		a.Roles = []string{}
	}
	env := map[string]any{"applicant": a}
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.ID == "applicant" {
			continue
		}
		env[f.ID] = envValue(f, v[f.ID])
	}
	return env
}

func envValue(f *Field, raw any) any {
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
		return RangeEnv(x)
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
