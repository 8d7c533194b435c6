package flowdef_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodFlow))
	files, _ := filepath.Glob("../../examples/flows/*.yaml")
	for _, name := range files {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("id: x\nsteps: [{id: s, when: 'a >', approvers: [{role: hr}]}]\n"))
	f.Add([]byte("- [\n"))
	f.Add([]byte("id: x\nsteps: [{id: a, approvers: [{role: hr}]}, {id: b, approvers: [{role: hr}], on_reject: [send_back, return, end]}]\n"))
	f.Add([]byte("id: x\nsteps: [{id: a, approvers: [{role: hr}], on_reject: [send_back]}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := flowdef.Parse("f.yaml", src)
		if err != nil {
			require.Nil(t, d)
			var errs flowdef.Errors
			require.True(t, errors.As(err, &errs), "mistakes come as Errors, got %T", err)
			require.NotEmpty(t, errs)
			for _, e := range errs {
				require.Positive(t, e.Line)
				require.NotEmpty(t, e.Msg)
			}
			return
		}
		// A definition that parses parses again the same, and its parts work.
		again, err := flowdef.Parse("f.yaml", src)
		require.NoError(t, err)
		require.Equal(t, d.ID, again.ID)
		require.NotEmpty(t, d.Steps)
		env := d.Env(nil, flowdef.Applicant{})
		for i := range d.Steps {
			_, err := d.Steps[i].Applies(env)
			_ = err // a runtime error (e.g. division) is allowed, a panic is not
			if h := d.Steps[i].HTTP; h != nil {
				require.LessOrEqual(t, h.WorstCase(), flowdef.MaxHTTPWorstCase, "no http step outlives the delivery lease")
			}
			_ = d.DeadlineOf(&d.Steps[i])
			rs := d.Steps[i].Rejects()
			require.NotEmpty(t, rs, "a step always has a plain reject")
			for _, a := range rs {
				require.Contains(t, flowdef.RejectActions, a)
			}
		}
		_ = flowdef.Mermaid(d)
		_, _ = d.CheckForm(map[string]any{}, now)
	})
}

func FuzzParseInput(f *testing.F) {
	patternField := &flowdef.Field{ID: "code", Type: flowdef.FieldText, Pattern: `[A-Z]{2}-\d{3}`}
	futureRange := &flowdef.Field{ID: "span", Type: flowdef.FieldDateRange, NotPast: true}
	fields := []*flowdef.Field{moneyField, usdField, numField, dateField, rangeField, selectField, multiField, boolField, textField, userField, patternField, futureRange}
	for i, s := range []string{"¥1,234.50", "$12", "3", "2026-12-01", "12-01 至 12-03", "病假", "red, 3", "是", "hi", "@lilei", "9999999999999999.99", "-0.5", "AB-123", "2026-11-20~2026-12-01"} {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		fld := fields[int(which)%len(fields)]
		v, err := flowdef.ParseInput(fld, text, now)
		if err != nil {
			var ve *flowdef.ValueError
			require.True(t, errors.As(err, &ve), "got %T", err)
			require.NotEmpty(t, ve.Reason.EN)
			require.NotEmpty(t, ve.Reason.ZH)
			return
		}
		// A parsed value is canonical: normalizing it again changes nothing.
		again, err := flowdef.Normalize(fld, v, now)
		require.NoError(t, err)
		require.Equal(t, v, again)
		require.NotPanics(t, func() { flowdef.FormatValue(fld, v, "zh-CN") })
	})
}
