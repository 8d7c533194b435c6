package flowdef

import (
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// BalanceFunc is `balance(type)` in conditions: the days left of the
// applicant's balance of that leave type for the year of the request (0
// when there is none).
type BalanceFunc = func(leaveType string) float64

// noBalance is balance() where no balances are known (validation, Env).
func noBalance(string) float64 { return 0 }

// BalanceRule ties a flow to leave balances (YAML key `balance`):
//
//	balance:
//	  type: type        # select field: the leave type
//	  days: period      # daterange (counted as the field counts) or number field
//	  require: balance(type) >= period.workdays
//
// An approved request uses Days of its type's balance of the year of its
// first day (of the filing year with a number field); a cancelled one gives
// them back. A request whose type has no balance row for the applicant is
// not counted. Require, when set, is checked at filing for requests that
// are counted: false refuses the request.
type BalanceRule struct {
	TypeField string `json:"type"`
	DaysField string `json:"days"`
	Require   string `json:"require,omitempty"`

	require *vm.Program
}

// CancelRule says how an approved request of the flow is cancelled
// (YAML key `cancel`): by filing a request of Flow, a small flow whose
// on_approved.cancel_field names the request to cancel.
type CancelRule struct {
	Flow string `json:"flow"`
	// Before, when set, names a date or date-range field: the request can
	// be cancelled only before the day it names (the first day of a range)
	// begins, e.g. a leave before its first day.
	Before string `json:"before,omitempty"`
}

// BalanceUse is what a request takes from a balance.
type BalanceUse struct {
	Type string  // the leave type (value of the type field)
	Days float64 // days counted
	// Year is the calendar year of the first day; 0 when the days field is
	// a number (the caller uses the filing year).
	Year int
}

// BalanceUse reads what form v takes from a balance; ok is false when the
// flow has no balance rule or the form lacks the type or the days.
func (d *Definition) BalanceUse(v Values, cal WorkCalendar) (BalanceUse, bool) {
	r := d.Balance
	if r == nil {
		return BalanceUse{}, false
	}
	tf, df := d.Field(r.TypeField), d.Field(r.DaysField)
	if tf == nil || df == nil {
		return BalanceUse{}, false
	}
	typ, _ := envValue(tf, v[tf.ID], weekdays{}).(string)
	if typ == "" || v[df.ID] == nil {
		return BalanceUse{}, false
	}
	if cal == nil {
		cal = weekdays{}
	}
	u := BalanceUse{Type: typ}
	switch x := envValue(df, v[df.ID], cal).(type) {
	case RangeEnv:
		if x.From == "" {
			return BalanceUse{}, false
		}
		u.Days = float64(x.Days)
		if df.CountsWorkdays() {
			u.Days = float64(x.Workdays)
		}
		if t, err := time.Parse(dateLayout, x.From); err == nil {
			u.Year = t.Year()
		}
	case float64:
		u.Days = x
	default:
		return BalanceUse{}, false
	}
	return u, u.Days > 0
}

// Requires reports whether env (built by Env, with balance set) meets the
// flow's balance.require condition; true when there is none.
func (r *BalanceRule) Requires(env map[string]any) (bool, error) {
	if r == nil || strings.TrimSpace(r.Require) == "" {
		return true, nil
	}
	prog := r.require
	if prog == nil {
		p, err := compileWhen(r.Require, env)
		if err != nil {
			return false, err
		}
		prog = p
	}
	out, err := expr.Run(prog, env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// balanceRule parses the balance key; env is the flow's condition env.
func (p *parser) balanceRule(n *yaml.Node, d *Definition, env map[string]any) *BalanceRule {
	r := &BalanceRule{}
	var typeNode, daysNode, reqNode *yaml.Node
	p.mapping(n, "balance", map[string]func(k, v *yaml.Node){
		"type":    func(_, v *yaml.Node) { typeNode, r.TypeField = v, p.str(v, "balance type") },
		"days":    func(_, v *yaml.Node) { daysNode, r.DaysField = v, p.str(v, "balance days") },
		"require": func(_, v *yaml.Node) { reqNode, r.Require = v, p.str(v, "balance require") },
	})
	switch f := d.Field(r.TypeField); {
	case typeNode == nil:
		p.errf(n, "balance: type (the select field of the leave type) is missing")
	case f == nil:
		p.errf(typeNode, "balance: type %q names no field of the form", r.TypeField)
	case f.Type != FieldSelect:
		p.errf(typeNode, "balance: type %q is a %s field, want a select field", r.TypeField, f.Type)
	}
	switch f := d.Field(r.DaysField); {
	case daysNode == nil:
		p.errf(n, "balance: days (a daterange or number field) is missing")
	case f == nil:
		p.errf(daysNode, "balance: days %q names no field of the form", r.DaysField)
	case f.Type != FieldDateRange && f.Type != FieldNumber:
		p.errf(daysNode, "balance: days %q is a %s field, want a daterange or number field", r.DaysField, f.Type)
	}
	if reqNode != nil && strings.TrimSpace(r.Require) != "" {
		prog, err := compileWhen(r.Require, env)
		if err != nil {
			p.errf(reqNode, "balance: require: %v", err)
		} else {
			r.require = prog
		}
	}
	return r
}

// cancelRule parses the cancel key: {flow: leave_cancel}.
func (p *parser) cancelRule(n *yaml.Node, d *Definition) *CancelRule {
	r := &CancelRule{}
	var flowNode, beforeNode *yaml.Node
	p.mapping(n, "cancel", map[string]func(k, v *yaml.Node){
		"flow":   func(_, v *yaml.Node) { flowNode, r.Flow = v, p.str(v, "cancel flow") },
		"before": func(_, v *yaml.Node) { beforeNode, r.Before = v, p.str(v, "cancel before") },
	})
	if beforeNode != nil {
		switch f := d.Field(r.Before); {
		case f == nil:
			p.errf(beforeNode, "cancel: before %q names no field of the form", r.Before)
		case f.Type != FieldDate && f.Type != FieldDateRange:
			p.errf(beforeNode, "cancel: before %q is a %s field, want a date or daterange field", r.Before, f.Type)
		}
	}
	switch {
	case flowNode == nil:
		p.errf(n, "cancel: flow (the id of the flow that decides a cancellation) is missing")
	case !idRe.MatchString(r.Flow):
		p.errf(flowNode, "cancel: flow %q is not a flow id", r.Flow)
	case r.Flow == d.ID:
		p.errf(flowNode, "cancel: flow %q is this flow; name a separate cancel flow", r.Flow)
	}
	return r
}

// cancelField checks on_approved.cancel_field: a text field of the form.
func (p *parser) cancelField(n *yaml.Node, d *Definition) string {
	id := p.str(n, "cancel_field")
	switch f := d.Field(id); {
	case f == nil:
		p.errf(n, "on_approved: cancel_field %q names no field of the form", id)
	case f.Type != FieldText:
		p.errf(n, "on_approved: cancel_field %q is a %s field, want a text field", id, f.Type)
	}
	return id
}
