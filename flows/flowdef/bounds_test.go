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
