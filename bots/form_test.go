package bots_test

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// formInputs returns the inputs of a form card by name, and their values
// as a click would send them back untouched.
func formInputs(t testing.TB, c *bots.Card) (map[string]bots.Input, map[string]string) {
	t.Helper()
	byName, vals := map[string]bots.Input{}, map[string]string{}
	for _, in := range c.Inputs {
		byName[in.Name] = in
		vals[in.Name] = in.Value
	}
	return byName, vals
}

// Filing as one form card: "/leave form type=annual" shows every field
// with its native input, pre-filled from the inline arguments; Submit
// files what the inputs hold. In Chinese and English.
func TestFormCardFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, user, cmd, title, submitted string
	}{
		{"zh", "dev1", "/请假 表单 type=annual", "填写：请假", "已提交"},
		{"en", "dev2", "/leave form type=annual", "Fill in: Leave", "Submitted as"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			rep := b.say(t, tc.user, tc.cmd)
			c := lastCard(t, rep)
			require.Equal(t, tc.title, c.Title)
			ins, vals := formInputs(t, c)
			require.Equal(t, bots.InputSelect, ins["type"].Kind)
			require.Equal(t, "annual", ins["type"].Value, "pre-filled from type=annual")
			require.Len(t, ins["type"].Options, 2)
			require.Equal(t, bots.InputDateRange, ins["period"].Kind)
			require.True(t, ins["period"].Required)
			require.Equal(t, bots.InputTextarea, ins["reason"].Kind)
			require.Equal(t, []string{"form_submit", "cancel"}, actions(c))

			vals["period"] = "2026-12-01~2026-12-02"
			vals["reason"] = "family"
			rep = b.click(t, tc.user, button(t, c, "form_submit"), vals)
			require.Contains(t, rep.Toast, tc.submitted)
			require.Contains(t, cardText(rep.Card), "LEAVE-")

			// A second click on the same form files nothing more.
			rep = b.click(t, tc.user, button(t, c, "form_submit"), vals)
			require.Equal(t, bots.ToastWarning, rep.ToastKind)
			mine := text(b.say(t, tc.user, "/mine"))
			require.Contains(t, mine, "LEAVE-20261126-0001")
			require.NotContains(t, mine, "LEAVE-20261126-0002", "one request filed")
		})
	}
}

// Every rule of the flow is checked on Submit of the form; the form
// comes back with the error next to its field, every typed value kept,
// and nothing filed; fixing the field files it.
func TestFormRulesOnSubmit(t *testing.T) {
	t.Parallel()
	good := map[string]string{"amount": "12", "qty": "2", "period": "2026-12-01~2026-12-02", "code": "AB-123", "manager": "cto", "day": "2026-12-01"}
	for _, tc := range []struct {
		name, field, bad, why, fix string
	}{
		{"amount below min", "amount", "-500", "不能小于", "1280.5"},
		{"amount not a number", "amount", "abc", "金额", "5"},
		{"quantity below min", "qty", "-2", "不能少于", "3"},
		{"range too long", "period", "2026-12-01~2027-02-28", "不能多于 30", "2026-12-01~2026-12-03"},
		{"range in the past", "period", "2026-11-20~2026-11-21", "已过去", "2026-11-27~2026-11-27"},
		{"range back to front", "period", "2026-12-05~2026-12-01", "结束日期早于开始日期", "2026-12-01~2026-12-05"},
		{"range half picked", "period", "2026-12-01~", "开始和结束", "2026-12-01~2026-12-01"},
		{"pattern", "code", "abc", "AB-123", "XY-999"},
		{"unknown user", "manager", "nobody", "找不到「nobody」", "李雷"},
		{"date in the past", "day", "2026-11-25", "已过去", "2026-11-26"},
		{"required left empty", "amount", "", "必填", "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, _, err := b.engine.PublishFlow(b.ctx, "rules.yaml", []byte(rulesYAML))
			require.NoError(t, err)
			c := lastCard(t, b.say(t, "dev1", "/rules form"))
			vals := maps.Clone(good)
			vals[tc.field] = tc.bad
			rep := b.click(t, "dev1", button(t, c, "form_submit"), vals)
			require.Equal(t, bots.ToastWarning, rep.ToastKind, "got %q", rep.Toast)
			require.NotNil(t, rep.Card, "the form comes back")
			ins, back := formInputs(t, rep.Card)
			require.Contains(t, ins[tc.field].Error, tc.why, "the error is next to its field")
			for k := range good {
				if k != tc.field {
					require.Empty(t, ins[k].Error, "no error on %s", k)
				}
			}
			require.Equal(t, vals, back, "every typed value is kept, the wrong one too")

			back[tc.field] = tc.fix
			rep = b.click(t, "dev1", button(t, rep.Card, "form_submit"), back)
			require.Contains(t, rep.Toast, "已提交", "got %q", text(rep))
			require.Contains(t, rep.Toast, "-0001", "the refused form filed nothing before")
		})
	}
}

// The confirm card of a conversation offers the same typed inputs: Edit
// turns it into the form, pre-filled with what it showed, and the form
// files the corrected values.
func TestConfirmCardEditsInForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sum := lastCard(t, b.say(t, "dev1", "/leave type=annual period=2026-12-01~2026-12-03 reason=family"))
	require.Equal(t, "请确认：请假", sum.Title)
	rep := b.click(t, "dev1", button(t, sum, "form"), nil)
	require.NotNil(t, rep.Card)
	ins, vals := formInputs(t, rep.Card)
	require.Equal(t, "2026-12-01~2026-12-03", ins["period"].Value)
	require.Equal(t, "family", ins["reason"].Value)
	vals["type"] = "sick"
	rep = b.click(t, "dev1", button(t, rep.Card, "form_submit"), vals)
	require.Contains(t, rep.Toast, "已提交")
	require.Contains(t, cardText(rep.Card), "病假", "the corrected type is filed")
}

// Bad clicks on a form change nothing and say why.
func TestFormBadClicks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := lastCard(t, b.say(t, "dev1", "/leave form"))
	good := map[string]string{"type": "annual", "period": "2026-12-01~2026-12-02", "reason": "x"}

	// Another user's click on my form: no conversation of theirs.
	rep := b.click(t, "dev2", button(t, c, "form_submit"), good)
	require.Equal(t, bots.ToastWarning, rep.ToastKind)
	require.Contains(t, rep.Toast, "out of date")

	// A forged token.
	forged := button(t, c, "form_submit")
	forged.Value = map[string]string{"conv": "0000", "v": forged.Value["v"]}
	rep = b.click(t, "dev1", forged, good)
	require.Equal(t, bots.ToastWarning, rep.ToastKind)

	// An option the flow does not have.
	bad := maps.Clone(good)
	bad["type"] = "holiday"
	rep = b.click(t, "dev1", button(t, c, "form_submit"), bad)
	require.Equal(t, bots.ToastWarning, rep.ToastKind)
	ins, _ := formInputs(t, rep.Card)
	require.NotEmpty(t, ins["type"].Error)

	// The conversation changed by text after the card was drawn: the old
	// card is refused.
	b.say(t, "dev1", "/leave type=annual period=2026-12-01~2026-12-02")
	rep = b.click(t, "dev1", button(t, c, "form_submit"), good)
	require.Equal(t, bots.ToastWarning, rep.ToastKind)
	require.NotContains(t, text(b.say(t, "dev1", "/mine")), "LEAVE-", "nothing filed")
}

// Cancel on the form ends the conversation and files nothing.
func TestFormCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := lastCard(t, b.say(t, "dev2", "/leave form"))
	rep := b.click(t, "dev2", button(t, c, "cancel"), nil)
	require.Contains(t, rep.Toast, "Cancelled")
	rep = b.click(t, "dev2", button(t, c, "form_submit"), map[string]string{"type": "annual", "period": "2026-12-01~2026-12-02"})
	require.Equal(t, bots.ToastWarning, rep.ToastKind)
}

// FuzzFormInputs: any text in any input of the form is refused or taken,
// never a panic nor an internal error.
func FuzzFormInputs(f *testing.F) {
	for _, s := range []string{"", "~", "2026-12-01~", "-1", "1e400", "@", "１２", "a\x00b", "2026-13-45"} {
		f.Add(s, uint8(0))
	}
	b := setup(f)
	_, _, err := b.engine.PublishFlow(b.ctx, "rules.yaml", []byte(rulesYAML))
	require.NoError(f, err)
	fields := []string{"amount", "qty", "period", "code", "manager", "day"}
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		c := lastCard(t, b.say(t, "dev1", "/rules form"))
		vals := map[string]string{"amount": "12", "qty": "2", "period": "2026-12-01~2026-12-02", "code": "AB-123", "manager": "cto", "day": "2026-12-01"}
		vals[fields[int(which)%len(fields)]] = s
		rep := b.click(t, "dev1", button(t, c, "form_submit"), vals)
		require.NotEqual(t, bots.ToastError, rep.ToastKind, "got %q", rep.Toast)
	})
}
