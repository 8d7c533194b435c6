package flowdef

import (
	"fmt"
	"strings"
)

// Error is one mistake in a flow definition, with its position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every mistake found in one or more definitions, in file and line
// order. Error() gives one "file:line:col: msg" per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// ValueError says why one form value was refused and what is expected,
// in both languages.
type ValueError struct {
	Field  string
	Reason Text
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("field %s: %s", e.Field, e.Reason.EN)
}
