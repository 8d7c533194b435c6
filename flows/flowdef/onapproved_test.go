package flowdef_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

func TestParseOnApproved(t *testing.T) {
	const head = `
id: leave
fields:
  - {id: period, type: daterange, label: {zh: 时间, en: Period}}
  - {id: day, type: date, label: {zh: 日期, en: Day}}
  - {id: backup, type: user, label: {zh: 代理人, en: Backup}}
  - {id: note, type: text, label: {zh: 说明, en: Note}}
steps:
  - {id: m, approvers: [{manager: 1}]}
`
	tests := []struct {
		name    string
		yaml    string
		want    flowdef.OnApproved
		wantErr string
	}{
		{"DefaultPeriod", "on_approved: {delegate_field: backup}", flowdef.OnApproved{DelegateField: "backup", PeriodField: "period"}, ""},
		{"DatePeriod", "on_approved: {delegate_field: backup, period_field: day}", flowdef.OnApproved{DelegateField: "backup", PeriodField: "day"}, ""},
		{"UnknownField", "on_approved: {delegate_field: nobody}", flowdef.OnApproved{}, `names no field`},
		{"NotAUser", "on_approved: {delegate_field: note}", flowdef.OnApproved{}, `want a user field`},
		{"PeriodNotADate", "on_approved: {delegate_field: backup, period_field: note}", flowdef.OnApproved{}, `want a daterange or date field`},
		{"PeriodAlone", "on_approved: {period_field: period}", flowdef.OnApproved{}, `needs delegate_field`},
		{"UnknownKey", "on_approved: {delegate: backup}", flowdef.OnApproved{}, `unknown key "delegate"`},
		{"NotAMapping", "on_approved: backup", flowdef.OnApproved{}, `must be a mapping`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := flowdef.Parse("leave.yaml", []byte(head+tc.yaml+"\n"))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, d.OnApproved)
		})
	}
}
