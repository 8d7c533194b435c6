package flowdef_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

const balanceHead = `
id: leave
fields:
  - {id: type, type: select, label: {zh: 类型, en: Type}, options: [{value: annual, label: {zh: 年假, en: Annual}}]}
  - {id: period, type: daterange, label: {zh: 时间, en: Period}}
  - {id: cal, type: daterange, count: calendar, label: {zh: 时间, en: Period}}
  - {id: days, type: number, label: {zh: 天数, en: Days}}
  - {id: note, type: text, label: {zh: 说明, en: Note}}
steps:
  - {id: m, approvers: [{manager: 1}], when: "balance(type) >= 1"}
`

func TestParseBalance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		want    *flowdef.BalanceRule
		wantErr string
	}{
		{"Range", "balance: {type: type, days: period}", &flowdef.BalanceRule{TypeField: "type", DaysField: "period"}, ""},
		{"Number", "balance: {type: type, days: days, require: 'balance(type) >= days'}", &flowdef.BalanceRule{TypeField: "type", DaysField: "days", Require: "balance(type) >= days"}, ""},
		{"NoType", "balance: {days: period}", nil, "type (the select field of the leave type) is missing"},
		{"NoDays", "balance: {type: type}", nil, "days (a daterange or number field) is missing"},
		{"TypeNotSelect", "balance: {type: note, days: period}", nil, `type "note" is a text field, want a select field`},
		{"DaysNotCounted", "balance: {type: type, days: note}", nil, `days "note" is a text field, want a daterange or number field`},
		{"UnknownField", "balance: {type: kind, days: period}", nil, `type "kind" names no field`},
		{"BadRequire", "balance: {type: type, days: period, require: 'balance(type) >='}", nil, "balance: require:"},
		{"RequireNotBool", "balance: {type: type, days: period, require: 'balance(type)'}", nil, "balance: require:"},
		{"BalanceWrongArg", "balance: {type: type, days: period, require: 'balance(1) > 0'}", nil, "balance: require:"},
		{"UnknownKey", "balance: {type: type, days: period, field: x}", nil, `unknown key "field"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := flowdef.Parse("leave.yaml", []byte(balanceHead+tc.yaml+"\n"))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want.TypeField, d.Balance.TypeField)
			require.Equal(t, tc.want.DaysField, d.Balance.DaysField)
			require.Equal(t, tc.want.Require, d.Balance.Require)
		})
	}
}

func TestParseCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		want    string
		wantErr string
	}{
		{"Flow", "cancel: {flow: leave_cancel}", "leave_cancel", ""},
		{"Self", "cancel: {flow: leave}", "", "is this flow"},
		{"NotAnID", "cancel: {flow: 'Leave Cancel'}", "", "is not a flow id"},
		{"Missing", "cancel: {}", "", "flow (the id of the flow that decides a cancellation) is missing"},
		{"CancelFieldText", "on_approved: {cancel_field: note}", "", ""},
		{"CancelFieldNotText", "on_approved: {cancel_field: days}", "", `cancel_field "days" is a number field, want a text field`},
		{"CancelFieldUnknown", "on_approved: {cancel_field: nothing}", "", `cancel_field "nothing" names no field`},
		{"BeforeRange", "cancel: {flow: leave_cancel, before: period}", "leave_cancel", ""},
		{"BeforeNotADate", "cancel: {flow: leave_cancel, before: days}", "", `before "days" is a number field, want a date or daterange field`},
		{"BeforeUnknown", "cancel: {flow: leave_cancel, before: nothing}", "", `before "nothing" names no field`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := flowdef.Parse("leave.yaml", []byte(balanceHead+tc.yaml+"\n"))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, func() string {
				if d.Cancel == nil {
					return ""
				}
				return d.Cancel.Flow
			}())
		})
	}
}

func TestBalanceUse(t *testing.T) {
	t.Parallel()
	d, err := flowdef.Parse("leave.yaml", []byte(balanceHead+"balance: {type: type, days: period}\n"))
	require.NoError(t, err)
	dc, err := flowdef.Parse("leave.yaml", []byte(balanceHead+"balance: {type: type, days: cal}\n"))
	require.NoError(t, err)
	dn, err := flowdef.Parse("leave.yaml", []byte(balanceHead+"balance: {type: type, days: days}\n"))
	require.NoError(t, err)
	none, err := flowdef.Parse("leave.yaml", []byte(balanceHead))
	require.NoError(t, err)
	fri2mon := map[string]any{"from": "2026-12-04", "to": "2026-12-07"}
	tests := []struct {
		name   string
		def    *flowdef.Definition
		form   flowdef.Values
		want   flowdef.BalanceUse
		wantOK bool
	}{
		{"WorkdaysFriToMon", d, flowdef.Values{"type": "annual", "period": fri2mon}, flowdef.BalanceUse{Type: "annual", Days: 2, Year: 2026}, true},
		{"CalendarDaysFriToMon", dc, flowdef.Values{"type": "annual", "cal": fri2mon}, flowdef.BalanceUse{Type: "annual", Days: 4, Year: 2026}, true},
		{"YearOfFirstDay", d, flowdef.Values{"type": "annual", "period": map[string]any{"from": "2027-01-04", "to": "2027-01-05"}}, flowdef.BalanceUse{Type: "annual", Days: 2, Year: 2027}, true},
		{"Number", dn, flowdef.Values{"type": "annual", "days": 1.5}, flowdef.BalanceUse{Type: "annual", Days: 1.5}, true},
		{"WeekendOnly", d, flowdef.Values{"type": "annual", "period": map[string]any{"from": "2026-12-05", "to": "2026-12-06"}}, flowdef.BalanceUse{}, false},
		{"NoType", d, flowdef.Values{"period": fri2mon}, flowdef.BalanceUse{}, false},
		{"NoDays", d, flowdef.Values{"type": "annual"}, flowdef.BalanceUse{}, false},
		{"WrongTypeOfDays", d, flowdef.Values{"type": "annual", "period": 12}, flowdef.BalanceUse{}, false},
		{"NoRule", none, flowdef.Values{"type": "annual", "period": fri2mon}, flowdef.BalanceUse{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tc.def.BalanceUse(tc.form, nil)
			require.Equal(t, tc.wantOK, ok)
			if ok {
				require.Equal(t, tc.want, got)
			}
		})
	}
}
