package flowdef

import "time"

// Parse reads one flow definition. On mistakes it returns Errors, one
// *Error per mistake. TODO(helper): implement.
func Parse(file string, src []byte) (*Definition, error) { panic("todo") }

// Env builds the environment of `when` expressions. TODO(helper).
func (d *Definition) Env(v Values, a Applicant) map[string]any { panic("todo") }

// Applies reports whether step s applies to env. TODO(helper).
func (s *Step) Applies(env map[string]any) (bool, error) { panic("todo") }

// CheckForm normalizes and validates a form. TODO(helper).
func (d *Definition) CheckForm(in map[string]any, now time.Time) (Values, map[string]Text) { panic("todo") }
