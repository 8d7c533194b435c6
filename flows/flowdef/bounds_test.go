package flowdef_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// Defect 3: a chat answer is checked against the field's min and max when
// it is given, not only when the form is submitted.
func TestParseInputChecksBounds(t *testing.T) {
	t.Parallel()
	lo, hi := 0.01, 30.0
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    flowdef.Field
		text string
		ok   bool
	}{
		{"money below min", flowdef.Field{ID: "amount", Type: flowdef.FieldMoney, Min: &lo}, "-500", false},
		{"money ok", flowdef.Field{ID: "amount", Type: flowdef.FieldMoney, Min: &lo}, "1280.5", true},
		{"number below min", flowdef.Field{ID: "qty", Type: flowdef.FieldNumber, Min: &lo}, "-2", false},
		{"range too long", flowdef.Field{ID: "period", Type: flowdef.FieldDateRange, Max: &hi}, "2026-12-01~2027-03-01", false},
		{"range ok", flowdef.Field{ID: "period", Type: flowdef.FieldDateRange, Max: &hi}, "2026-12-01~2026-12-03", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := flowdef.ParseInput(&tt.f, tt.text, now)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			var ve *flowdef.ValueError
			require.ErrorAs(t, err, &ve, "got %v, want a ValueError", err)
			require.NotEmpty(t, ve.Reason.ZH)
		})
	}
}

// Defect 3: pattern and not_past are rules of the definition, checked by
// ParseInput (the chat answer) and CheckForm (the submit) alike.
func TestPatternAndNotPast(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	code := flowdef.Field{ID: "code", Type: flowdef.FieldText, Pattern: `[A-Z]{2}-\d{3}`}
	day := flowdef.Field{ID: "day", Type: flowdef.FieldDate, NotPast: true}
	span := flowdef.Field{ID: "span", Type: flowdef.FieldDateRange, NotPast: true}
	anyDay := flowdef.Field{ID: "any", Type: flowdef.FieldDate}
	tests := []struct {
		name string
		f    flowdef.Field
		text string
		ok   bool
	}{
		{"pattern ok", code, "AB-123", true},
		{"pattern is anchored", code, "xAB-123x", false},
		{"pattern refused", code, "ab-123", false},
		{"today is not past", day, "2026-11-26", true},
		{"yesterday", day, "2026-11-25", false},
		{"range starting yesterday", span, "2026-11-25~2026-11-27", false},
		{"range from today", span, "2026-11-26~2026-11-27", true},
		{"past allowed when the flow does not say", anyDay, "2020-01-01", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := flowdef.ParseInput(&tt.f, tt.text, now)
			d := &flowdef.Definition{Fields: []flowdef.Field{tt.f}}
			_, problems := d.CheckForm(map[string]any{tt.f.ID: tt.text}, now)
			if tt.ok {
				require.NoError(t, err)
				require.Empty(t, problems)
				return
			}
			var ve *flowdef.ValueError
			require.ErrorAs(t, err, &ve, "got %v, want a ValueError", err)
			require.NotEmpty(t, ve.Reason.ZH)
			require.NotEmpty(t, ve.Reason.EN)
			require.Contains(t, problems, tt.f.ID, "the submit refuses it too")
		})
	}
}

// A pattern that is no regular expression, or a rule on a field type it
// does not apply to, is an error of the definition.
func TestPatternAndNotPastInDefinitions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, field, want string }{
		{"bad pattern", "{id: a, type: text, pattern: '(['}", "not a regular expression"},
		{"pattern on a number", "{id: a, type: number, pattern: '1'}", "pattern only applies"},
		{"not_past on text", "{id: a, type: text, not_past: true}", "not_past only applies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "id: x\nname: {zh: x, en: x}\nfields:\n  - " + tc.field + "\nsteps:\n  - {id: s, name: {zh: s, en: s}, approvers: [{user: a}]}\n"
			_, err := flowdef.Parse("x.yaml", []byte(src))
			require.ErrorContains(t, err, tc.want)
		})
	}
}
