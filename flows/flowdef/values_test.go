package flowdef_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/workcal"
)

// now is Thursday 2026-11-26 10:00 in Shanghai.
var now = time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func ptr(f float64) *float64 { return &f }

var (
	moneyField  = &flowdef.Field{ID: "amount", Type: flowdef.FieldMoney, Currency: "CNY", Min: ptr(0.01), Max: ptr(100000)}
	usdField    = &flowdef.Field{ID: "usd", Type: flowdef.FieldMoney, Currency: "USD"}
	numField    = &flowdef.Field{ID: "qty", Type: flowdef.FieldNumber, Min: ptr(1), Max: ptr(10)}
	dateField   = &flowdef.Field{ID: "day", Type: flowdef.FieldDate}
	rangeField  = &flowdef.Field{ID: "period", Type: flowdef.FieldDateRange, Max: ptr(30)}
	selectField = &flowdef.Field{ID: "type", Type: flowdef.FieldSelect, Options: []flowdef.Option{
		{Value: "annual", Label: flowdef.Text{ZH: "年假", EN: "Annual leave"}},
		{Value: "sick", Label: flowdef.Text{ZH: "病假", EN: "Sick leave"}},
	}}
	multiField = &flowdef.Field{ID: "tags", Type: flowdef.FieldMultiSelect, Max: ptr(2), Options: []flowdef.Option{
		{Value: "red", Label: flowdef.Text{ZH: "红", EN: "Red"}},
		{Value: "green", Label: flowdef.Text{ZH: "绿", EN: "Green"}},
		{Value: "blue", Label: flowdef.Text{ZH: "蓝", EN: "Blue"}},
	}}
	boolField = &flowdef.Field{ID: "laptop", Type: flowdef.FieldBool}
	textField = &flowdef.Field{ID: "reason", Type: flowdef.FieldText, Max: ptr(5)}
	userField = &flowdef.Field{ID: "deputy", Type: flowdef.FieldUser}
)

func cny(c int64) flowdef.Money { return flowdef.Money{Cents: c, Currency: "CNY"} }

func TestParseInputGood(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    *flowdef.Field
		in   string
		want any
	}{
		{moneyField, "1234.5", cny(123450)},
		{moneyField, "¥1,234.50", cny(123450)},
		{moneyField, "￥1，234.50", cny(123450)},
		{moneyField, "1234.50 CNY", cny(123450)},
		{moneyField, "88元", cny(8800)},
		{moneyField, "0.01", cny(1)},
		{moneyField, "  300  ", cny(30000)},
		{usdField, "$12", flowdef.Money{Cents: 1200, Currency: "USD"}},
		{usdField, "12.3 USD", flowdef.Money{Cents: 1230, Currency: "USD"}},
		{numField, "3", 3.0},
		{numField, "2.5", 2.5},
		{&flowdef.Field{ID: "n", Type: flowdef.FieldNumber}, "1,000", 1000.0}, // numField allows at most 10
		{dateField, "2026-12-01", "2026-12-01"},
		{dateField, "2026/12/01", "2026-12-01"},
		{dateField, "2026.1.5", "2026-01-05"},
		{dateField, "2026年12月1日", "2026-12-01"},
		{dateField, "12-01", "2026-12-01"},
		{dateField, "12月3日", "2026-12-03"},
		{dateField, "today", "2026-11-26"},
		{dateField, "今天", "2026-11-26"},
		{dateField, "Tomorrow", "2026-11-27"},
		{dateField, "明天", "2026-11-27"},
		{rangeField, "2026-12-01 to 2026-12-03", flowdef.DateRange{From: "2026-12-01", To: "2026-12-03", Days: 3}},
		{rangeField, "2026-12-01~2026-12-03", flowdef.DateRange{From: "2026-12-01", To: "2026-12-03", Days: 3}},
		{rangeField, "2026-12-01 至 2026-12-03", flowdef.DateRange{From: "2026-12-01", To: "2026-12-03", Days: 3}},
		{rangeField, "12-30到2027-01-02", flowdef.DateRange{From: "2026-12-30", To: "2027-01-02", Days: 4}},
		{rangeField, "2026-12-01", flowdef.DateRange{From: "2026-12-01", To: "2026-12-01", Days: 1}},
		{rangeField, "明天", flowdef.DateRange{From: "2026-11-27", To: "2026-11-27", Days: 1}},
		{rangeField, "2028-02-28 to 2028-03-01", flowdef.DateRange{From: "2028-02-28", To: "2028-03-01", Days: 3}},
		{selectField, "annual", "annual"},
		{selectField, "病假", "sick"},
		{selectField, "annual leave", "annual"},
		{selectField, "2", "sick"},
		{multiField, "red, blue", []string{"red", "blue"}},
		{multiField, "红，绿", []string{"red", "green"}},
		{multiField, "红、蓝", []string{"red", "blue"}},
		{multiField, "1 3 1", []string{"red", "blue"}},
		{boolField, "yes", true},
		{boolField, "Y", true},
		{boolField, "是", true},
		{boolField, "1", true},
		{boolField, "no", false},
		{boolField, "否", false},
		{boolField, "false", false},
		{textField, "hi", "hi"},
		{userField, "@lilei", "lilei"},
		{userField, "@@lilei", "lilei"},
		{userField, " lilei ", "lilei"},
	}
	for _, tc := range tests {
		t.Run(string(tc.f.Type)+"/"+tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := flowdef.ParseInput(tc.f, tc.in, now)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseInputBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f      *flowdef.Field
		in     string
		wantEN string
		wantZH string
	}{
		{moneyField, "12.345", "at most 2 decimals", "最多两位小数"},
		{moneyField, "twelve", "not an amount", "不是金额"},
		{moneyField, "$12", "currency must be CNY", "币种应为 CNY"},
		{moneyField, "1.2.3", "not an amount", "不是金额"},
		{moneyField, "9999999999999999", "too large", "太大"},
		{usdField, "¥12", "currency must be USD", "币种应为 USD"},
		{numField, "three", "not a number", "不是数字"},
		{numField, "NaN", "not a finite number", "不是有效数字"},
		{dateField, "2026-02-30", "e.g. 2026-12-01", "例如 2026-12-01"},
		{dateField, "next week", "enter a date", "请输入日期"},
		{dateField, "12026-01-01", "enter a date", "请输入日期"},
		{rangeField, "2026-12-03 to 2026-12-01", "end date is before the start", "结束日期早于开始日期"},
		{rangeField, "soon", "not a date range", "日期范围格式不对"},
		{selectField, "maternity", "choose one", "请选择其中一项"},
		{selectField, "3", "choose one", "请选择其中一项"},
		{multiField, "red, pink", `no option "pink"`, "没有选项“pink”"},
		{boolField, "maybe", "answer yes or no", "请回答 是 或 否"},
		{userField, "two words", "enter a name or a user id", "请输入姓名或用户 ID"},
		{userField, "@@", "enter a name or a user id", "请输入姓名或用户 ID"},
		{userField, "@", "enter a name or a user id", "请输入姓名或用户 ID"},
		{userField, "李雷!", "enter a name or a user id", "请输入姓名或用户 ID"},
		{textField, "   ", "empty answer", "不能为空"},
	}
	for _, tc := range tests {
		t.Run(string(tc.f.Type)+"/"+tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := flowdef.ParseInput(tc.f, tc.in, now)
			require.Nil(t, got)
			var ve *flowdef.ValueError
			require.True(t, errors.As(err, &ve), "got %v", err)
			require.Equal(t, tc.f.ID, ve.Field)
			require.Contains(t, ve.Reason.EN, tc.wantEN)
			require.Contains(t, ve.Reason.ZH, tc.wantZH)
			require.Contains(t, err.Error(), tc.f.ID)
		})
	}
}

func TestNormalizeJSONForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    *flowdef.Field
		in   any
		want any
	}{
		{"money float", moneyField, 1234.5, cny(123450)},
		{"money float binary-unfriendly", moneyField, 0.29, cny(29)},
		{"money int", moneyField, 12, cny(1200)},
		{"money canonical", moneyField, cny(5), cny(5)},
		{"money json map", moneyField, map[string]any{"cents": 123450.0, "currency": "CNY"}, cny(123450)},
		{"number json.Number", numField, json.Number("4"), 4.0},
		{"range map", rangeField, map[string]any{"from": "2026-12-01", "to": "2026-12-02", "days": 9.0}, flowdef.DateRange{From: "2026-12-01", To: "2026-12-02", Days: 2}},
		{"range list", rangeField, []any{"2026-12-01", "2026-12-02"}, flowdef.DateRange{From: "2026-12-01", To: "2026-12-02", Days: 2}},
		{"multi any list", multiField, []any{"green", "红"}, []string{"green", "red"}},
		{"bool float", boolField, 1.0, true},
		{"select index float", selectField, 1.0, "annual"},
		{"date time", dateField, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), "2026-03-04"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := flowdef.Normalize(tc.f, tc.in, now)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	// The canonical form survives a JSON round trip.
	for _, v := range []struct {
		f *flowdef.Field
		v any
	}{{moneyField, cny(99)}, {rangeField, flowdef.DateRange{From: "2026-12-01", To: "2026-12-05", Days: 5}}, {multiField, []string{"blue"}}} {
		b, err := json.Marshal(v.v)
		require.NoError(t, err)
		var back any
		require.NoError(t, json.Unmarshal(b, &back))
		got, err := flowdef.Normalize(v.f, back, now)
		require.NoError(t, err)
		require.Equal(t, v.v, got)
	}
	_, err := flowdef.Normalize(moneyField, map[string]any{"cents": 1.5}, now)
	require.Error(t, err)
	_, err = flowdef.Normalize(boolField, 2.0, now)
	require.Error(t, err)
	_, err = flowdef.Normalize(numField, nil, now)
	require.Error(t, err)
}

func checkForm(t *testing.T) *flowdef.Definition {
	t.Helper()
	src := `id: x
fields:
  - {id: amount, type: money, required: true, min: 0.01, max: 100000}
  - {id: period, type: daterange, max: 5}
  - {id: type, type: select, required: true, options: [annual, sick], default: annual}
  - {id: tags, type: multiselect, options: [a, b, c], max: 2}
  - {id: reason, type: textarea, min: 2, max: 10}
  - {id: start, type: date, default: tomorrow}
  - {id: qty, type: number, min: 1, max: 9}
  - {id: ok, type: bool}
steps:
  - {id: s, approvers: [{role: hr}]}
`
	d, err := flowdef.Parse("x.yaml", []byte(src))
	require.NoError(t, err)
	return d
}

func TestCheckFormGood(t *testing.T) {
	t.Parallel()
	d := checkForm(t)
	vals, problems := d.CheckForm(map[string]any{
		"amount": "¥1,000",
		"period": "2026-12-01 至 2026-12-03",
		"tags":   []any{"a"},
		"reason": "家里有事",
		"qty":    3.0,
		"ok":     "是",
	}, now)
	require.Nil(t, problems)
	require.Equal(t, flowdef.Values{
		"amount": cny(100000),
		"period": flowdef.DateRange{From: "2026-12-01", To: "2026-12-03", Days: 3},
		"type":   "annual",
		"tags":   []string{"a"},
		"reason": "家里有事",
		"start":  "2026-11-27",
		"qty":    3.0,
		"ok":     true,
	}, vals)
}

func TestCheckFormProblems(t *testing.T) {
	t.Parallel()
	d := checkForm(t)
	tests := []struct {
		name   string
		in     map[string]any
		field  string
		en, zh string
	}{
		{"required missing", map[string]any{}, "amount", "required", "必填"},
		{"required blank", map[string]any{"amount": "  "}, "amount", "required", "必填"},
		{"unknown field", map[string]any{"amount": 1.0, "colour": "red"}, "colour", "no field colour", "没有字段 colour"},
		{"wrong type", map[string]any{"amount": true}, "amount", "not an amount", "不是金额"},
		{"below min", map[string]any{"amount": "0"}, "amount", "at least ¥0.01", "不能小于 ¥0.01"},
		{"above max", map[string]any{"amount": 100000.01}, "amount", "at most ¥100,000.00", "不能大于 ¥100,000.00"},
		{"option not allowed", map[string]any{"amount": 1.0, "type": "maternity"}, "type", "choose one", "请选择"},
		{"bad date", map[string]any{"amount": 1.0, "start": "2026-13-01"}, "start", "enter a date", "请输入日期"},
		{"range end before start", map[string]any{"amount": 1.0, "period": map[string]any{"from": "2026-12-03", "to": "2026-12-01"}}, "period", "before the start", "早于"},
		{"range too long", map[string]any{"amount": 1.0, "period": "2026-12-01 to 2026-12-09"}, "period", "at most 5 days", "不能多于 5 天"},
		{"too many choices", map[string]any{"amount": 1.0, "tags": "a,b,c"}, "tags", "at most 2 choices", "不能多于 2 项"},
		{"text too short", map[string]any{"amount": 1.0, "reason": "x"}, "reason", "at least 2 characters", "不能少于 2 个字"},
		{"text too long", map[string]any{"amount": 1.0, "reason": "一二三四五六七八九十一"}, "reason", "at most 10 characters", "不能多于 10 个字"},
		{"number too big", map[string]any{"amount": 1.0, "qty": "10"}, "qty", "at most 9", "不能多于 9"},
		{"bad bool", map[string]any{"amount": 1.0, "ok": "perhaps"}, "ok", "yes or no", "是 或 否"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vals, problems := d.CheckForm(tc.in, now)
			require.Contains(t, problems, tc.field, "got %v", problems)
			require.Contains(t, problems[tc.field].EN, tc.en)
			require.Contains(t, problems[tc.field].ZH, tc.zh)
			require.NotContains(t, vals, tc.field)
		})
	}
}

func TestFormatValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f      *flowdef.Field
		v      any
		locale string
		want   string
	}{
		{moneyField, cny(123450), "zh-CN", "¥1,234.50"},
		{moneyField, cny(100000000), "en", "¥1,000,000.00"},
		{moneyField, map[string]any{"cents": 5.0, "currency": "CNY"}, "en", "¥0.05"},
		{usdField, flowdef.Money{Cents: 1200, Currency: "USD"}, "en", "$12.00"},
		{rangeField, flowdef.DateRange{From: "2026-12-01", To: "2026-12-03", Days: 3}, "en", "2026-12-01 → 2026-12-03 (3 days)"},
		{rangeField, flowdef.DateRange{From: "2026-12-01", To: "2026-12-03", Days: 3}, "zh-CN", "2026-12-01 → 2026-12-03 (3天)"},
		{rangeField, flowdef.DateRange{From: "2026-12-01", To: "2026-12-01", Days: 1}, "en", "2026-12-01 (1 day)"},
		{selectField, "sick", "zh-CN", "病假"},
		{selectField, "sick", "en", "Sick leave"},
		{multiField, []string{"red", "blue"}, "zh-CN", "红、蓝"},
		{multiField, []any{"red", "blue"}, "en", "Red, Blue"},
		{boolField, true, "zh-CN", "是"},
		{boolField, false, "en", "No"},
		{numField, 2.5, "en", "2.5"},
		{dateField, "2026-12-01", "en", "2026-12-01"},
		{numField, "garbage", "en", "garbage"},
		{numField, nil, "en", ""},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, flowdef.FormatValue(tc.f, tc.v, tc.locale))
		})
	}
}

func TestEnvWorkdays(t *testing.T) {
	t.Parallel()
	d, err := flowdef.Parse("leave.yaml", []byte(`id: leave
fields:
  - {id: period, type: daterange}
steps:
  - id: hr
    when: period.workdays > 3
    approvers: [{role: hr}]
`))
	require.NoError(t, err)
	cal, err := workcal.Parse([]byte("holidays: [2026-10-01..2026-10-07]\nworkdays: [2026-10-10]\n"))
	require.NoError(t, err)
	var _ flowdef.WorkCalendar = cal
	hr, _ := d.Step("hr")
	tests := []struct {
		name      string
		period    string
		days      int
		workdays  int
		onCalDays int
	}{
		{"Fri to Mon", "2026-11-27 to 2026-11-30", 4, 2, 2},
		{"one week", "2026-11-23 to 2026-11-29", 7, 5, 5},
		{"national day and make-up Saturday", "2026-10-01 to 2026-10-10", 10, 7, 3},
		{"one day", "2026-11-28", 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, problems := d.CheckForm(map[string]any{"period": tc.period}, now)
			require.Nil(t, problems)
			env := d.Env(v, flowdef.Applicant{})
			r := env["period"].(flowdef.RangeEnv)
			require.Equal(t, tc.days, r.Days, "days are inclusive calendar days")
			require.Equal(t, tc.workdays, r.Workdays, "Env counts Monday to Friday")
			applies, err := hr.Applies(env)
			require.NoError(t, err)
			require.Equal(t, tc.workdays > 3, applies)

			env = d.EnvOn(v, flowdef.Applicant{}, cal)
			r = env["period"].(flowdef.RangeEnv)
			require.Equal(t, tc.onCalDays, r.Workdays, "EnvOn counts on the business calendar")
			applies, err = hr.Applies(env)
			require.NoError(t, err)
			require.Equal(t, tc.onCalDays > 3, applies)
		})
	}
}
