package bots_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Defect 12: a leave's length counts working days on the business
// calendar (Monday to Friday by default); a flow can say calendar days;
// a period with no working day is refused when it is given.
func TestLeaveLengthCountsWorkingDays(t *testing.T) {
	t.Parallel()
	calendarYAML := strings.Replace(leaveYAML, "help: {zh: 起止日期, en: First and last day}", "help: {zh: 起止日期, en: First and last day}\n    count: calendar", 1)
	for _, tc := range []struct {
		name, flow, period, want, refused string
	}{
		{"Friday to Monday", leaveYAML, "2026-12-04~2026-12-07", "2 个工作日", ""},
		{"one working day", leaveYAML, "2026-12-04", "(1 个工作日)", ""},
		{"Saturday only", leaveYAML, "2026-12-05", "", "没有工作日"},
		{"a weekend", leaveYAML, "2026-12-05~2026-12-06", "", "没有工作日"},
		{"calendar days when the flow says so", calendarYAML, "2026-12-04~2026-12-07", "(4天)", ""},
		{"a Saturday in calendar days", calendarYAML, "2026-12-05", "(1天)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, _, err := b.engine.PublishFlow(b.ctx, "leave.yaml", []byte(tc.flow))
			require.NoError(t, err)
			rep := b.say(t, "dev1", "/leave type=annual reason=家事 period="+tc.period)
			if tc.refused != "" {
				require.Contains(t, text(rep), tc.refused)
				require.Empty(t, cards(rep))
				return
			}
			require.Contains(t, cardText(lastCard(t, rep)), tc.want)
		})
	}
}
