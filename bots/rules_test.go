package bots_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

const rulesYAML = `
id: rules
name: {zh: 规则, en: Rules}
fields:
  - id: amount
    type: money
    label: {zh: 金额, en: Amount}
    required: true
    min: 0.01
  - id: qty
    type: number
    label: {zh: 数量, en: Quantity}
    required: true
    min: 1
  - id: period
    type: daterange
    label: {zh: 时间, en: Period}
    required: true
    max: 30
    not_past: true
  - id: code
    type: text
    label: {zh: 编码, en: Code}
    help: {zh: 例如 AB-123, en: e.g. AB-123}
    required: true
    pattern: '[A-Z]{2}-\d{3}'
  - id: manager
    type: user
    label: {zh: 上级, en: Manager}
    required: true
  - id: day
    type: date
    label: {zh: 日期, en: Day}
    required: true
    not_past: true
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
`

// Defect 3: every rule of the flow definition is checked when the answer
// is given, and the question is asked again; a good answer then goes on.
func TestRulesCheckedAtTheAnswer(t *testing.T) {
	t.Parallel()
	good := map[string]string{"amount": "12", "qty": "2", "period": "2026-12-01~2026-12-02", "code": "AB-123", "manager": "cto", "day": "2026-12-01"}
	for _, tc := range []struct {
		name, field, bad, why, fix, shown string
	}{
		{"negative amount", "amount", "-500", "不能小于", "1280.5", "¥1,280.50"},
		{"negative quantity, fixed by label", "qty", "-2", "不能少于", "数量=3", "3"},
		{"too long a range, fixed by key", "period", "2026-12-01~2027-02-28", "不能多于 30", "period=2026-12-01~2026-12-03", "2026-12-03"},
		{"range in the past", "period", "2026-11-20~2026-11-21", "已过去", "2026-11-26~2026-11-27", "2026-11-27"},
		{"range back to front", "period", "2026-12-05~2026-12-01", "结束日期早于开始日期", "2026-12-01~2026-12-05", "2026-12-05"},
		{"pattern", "code", "abc", "例如 AB-123", "XY-999", "XY-999"},
		{"unknown user", "manager", "nobody", "找不到「nobody」", "李雷", "李雷"},
		{"unknown @mention", "manager", "@nobody", "找不到「nobody」", "@cto", "李雷"},
		{"date in the past", "day", "2026-11-25", "已过去", "今天", "2026-11-26"},
		{"required skipped", "amount", "跳过", "必填项", "5", "¥5.00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, _, err := b.engine.PublishFlow(b.ctx, "rules.yaml", []byte(rulesYAML))
			require.NoError(t, err)
			var args []string
			for _, k := range []string{"amount", "qty", "period", "code", "manager", "day"} {
				if k != tc.field {
					args = append(args, k+"="+good[k])
				}
			}
			rep := b.say(t, "dev1", "/rules "+strings.Join(args, " "))
			require.Empty(t, cards(rep), "only %s is missing: got %q", tc.field, text(rep))
			rep = b.say(t, "dev1", tc.bad)
			require.Contains(t, text(rep), tc.why, "the answer %q is refused when given", tc.bad)
			require.Empty(t, cards(rep), "no confirmation card for a wrong answer: %q", text(rep))
			require.Contains(t, text(rep), "1/1", "the same question is asked again: %q", text(rep))
			rep = b.say(t, "dev1", tc.fix)
			c := lastCard(t, rep)
			require.Contains(t, cardText(c), tc.shown)
			// And the card files.
			rep = b.click(t, "dev1", button(t, c, "submit"), nil)
			require.Contains(t, rep.Toast, "已提交", "got %q", text(rep))
		})
	}
}

// The same rules hold for name=value arguments: the field at fault is
// asked, the others are kept.
func TestRulesCheckedOnInlineArguments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := b.engine.PublishFlow(b.ctx, "rules.yaml", []byte(rulesYAML))
	require.NoError(t, err)
	rep := b.say(t, "dev1", "/rules amount=-5 qty=2 period=2026-12-01~2026-12-02 code=zz manager=nobody day=2026-12-01")
	out := text(rep)
	for _, want := range []string{"金额", "不能小于", "编码", "找不到「nobody」"} {
		require.Contains(t, out, want)
	}
	require.Empty(t, cards(rep))
	require.Contains(t, out, "1/3", "three questions: amount, code, manager; got %q", out)
}

func cards(rep bots.Reply) []*bots.Card {
	var out []*bots.Card
	for _, m := range rep.Messages {
		if m.Card != nil {
			out = append(out, m.Card)
		}
	}
	if rep.Card != nil {
		out = append(out, rep.Card)
	}
	return out
}
