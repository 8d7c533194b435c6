package flowdef

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const dateLayout = "2006-01-02"

// maxCents bounds money so that cents never overflow (10^15 major units).
const maxCents = int64(1e17)

func asValueError(err error, target **ValueError) bool { return errors.As(err, target) }

func bad(f *Field, zh, en string) *ValueError {
	return &ValueError{Field: f.ID, Reason: Text{ZH: zh, EN: en}}
}

// ParseInput parses one chat answer for field f into its canonical value
// and checks it against the field's rules (min and max), so that a wrong
// answer is refused when it is given, not only at submit.
// The error is a *ValueError saying what is expected, with an example.
func ParseInput(f *Field, text string, now time.Time) (any, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, bad(f, "不能为空，"+example(f).ZH, "empty answer; "+example(f).EN)
	}
	v, err := Normalize(f, text, now)
	if err != nil {
		return nil, err
	}
	if err := checkBounds(f, v); err != nil {
		return nil, err
	}
	if err := checkRules(f, v, now); err != nil {
		return nil, err
	}
	return v, nil
}

// checkRules checks a canonical value against the field's pattern and its
// not_past rule (today is now's date).
func checkRules(f *Field, v any, now time.Time) error {
	if s, ok := v.(string); ok && f.Pattern != "" && (f.Type == FieldText || f.Type == FieldTextarea) {
		re, err := regexp.Compile(`^(?:` + f.Pattern + `)$`)
		if err == nil && !re.MatchString(s) {
			if h := f.Help; h != (Text{}) {
				return bad(f, "格式不符合要求："+h.In("zh"), "not in the expected form: "+h.In("en"))
			}
			return bad(f, "格式不符合要求（"+f.Pattern+"）", "not in the expected form ("+f.Pattern+")")
		}
	}
	if !f.NotPast {
		return nil
	}
	var first string
	switch x := v.(type) {
	case string:
		if f.Type == FieldDate {
			first = x
		}
	case DateRange:
		first = x.From
	}
	if today := now.Format(dateLayout); first != "" && first < today {
		return bad(f, "日期 "+first+" 已过去，不能早于今天（"+today+"）", "the date "+first+" is in the past; it cannot be before today ("+today+")")
	}
	return nil
}

// example says what a field expects, with an example, in both languages.
func example(f *Field) Text {
	switch f.Type {
	case FieldNumber:
		return Text{ZH: "请输入数字，例如 3 或 2.5", EN: "enter a number, e.g. 3 or 2.5"}
	case FieldMoney:
		sym := "¥"
		if f.Currency == "USD" {
			sym = "$"
		}
		return Text{ZH: "请输入金额，最多两位小数，例如 " + sym + "1,234.50", EN: "enter an amount with at most 2 decimals, e.g. " + sym + "1,234.50"}
	case FieldDate:
		return Text{ZH: "请输入日期，例如 2026-12-01、12-01、今天、明天", EN: "enter a date, e.g. 2026-12-01, 12-01, today or tomorrow"}
	case FieldDateRange:
		return Text{ZH: "请输入日期范围，例如 2026-12-01 至 2026-12-03（单个日期表示一天）", EN: "enter a date range, e.g. 2026-12-01 to 2026-12-03 (one date = one day)"}
	case FieldSelect, FieldMultiSelect:
		var zh, en []string
		for i, o := range f.Options {
			zh = append(zh, fmt.Sprintf("%d. %s", i+1, o.Label.In("zh")))
			en = append(en, fmt.Sprintf("%d. %s", i+1, o.Label.In("en")))
		}
		if f.Type == FieldMultiSelect {
			return Text{ZH: "请选择一项或多项（用逗号分隔）：" + strings.Join(zh, "；"), EN: "choose one or more, separated by commas: " + strings.Join(en, "; ")}
		}
		return Text{ZH: "请选择其中一项（可输入序号）：" + strings.Join(zh, "；"), EN: "choose one (the number is enough): " + strings.Join(en, "; ")}
	case FieldBool:
		return Text{ZH: "请回答 是 或 否", EN: "answer yes or no"}
	case FieldFile:
		return Text{ZH: "请发送文件或图片", EN: "send a file or an image"}
	case FieldUser:
		return Text{ZH: "请输入姓名或用户 ID，例如 李雷 或 lilei", EN: "enter a name or a user id, e.g. 李雷 or lilei"}
	}
	return Text{ZH: "请输入文字", EN: "enter some text"}
}

// Normalize turns one value of any accepted form (canonical, JSON-decoded or
// a human string) into the canonical value of field f. It does not check
// required, min or max: CheckForm does.
func Normalize(f *Field, v any, now time.Time) (any, error) {
	if v == nil {
		return nil, bad(f, "缺少值，"+example(f).ZH, "missing value; "+example(f).EN)
	}
	if n, ok := v.(json.Number); ok {
		v = string(n)
	}
	switch f.Type {
	case FieldText, FieldTextarea:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64, int, int64, bool:
			return fmt.Sprint(x), nil
		}
	case FieldUser:
		if s, ok := v.(string); ok {
			// "@lilei" and "@@lilei" (a chat mention typed twice) are lilei.
			s = strings.TrimLeft(strings.TrimSpace(s), "@")
			if userIDRe.MatchString(s) {
				return s, nil
			}
		}
	case FieldNumber:
		return normNumber(f, v)
	case FieldMoney:
		return normMoney(f, v)
	case FieldDate:
		switch x := v.(type) {
		case string:
			d, ok := parseDate(x, now)
			if ok {
				return d, nil
			}
		case time.Time:
			return x.Format(dateLayout), nil
		}
	case FieldDateRange:
		return normRange(f, v, now)
	case FieldSelect:
		if s, ok := scalarString(v); ok {
			if o := findOption(f, s, true); o != nil {
				return o.Value, nil
			}
		}
	case FieldMultiSelect:
		return normMulti(f, v)
	case FieldFile:
		return normFile(f, v)
	case FieldBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case float64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		case string:
			if b, ok := parseBool(x); ok {
				return b, nil
			}
		}
	default:
		return nil, bad(f, "未知的字段类型 "+string(f.Type), "unknown field type "+string(f.Type))
	}
	return nil, bad(f, "格式不对，"+example(f).ZH, "not understood; "+example(f).EN)
}

// fileKeyRe matches a blob key.
var fileKeyRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// normFile takes a File, or its JSON-decoded map; text is no file.
func normFile(f *Field, v any) (any, error) {
	var x File
	switch y := v.(type) {
	case File:
		x = y
	case *File:
		if y != nil {
			x = *y
		}
	case map[string]any:
		x.Key, _ = y["key"].(string)
		x.Name, _ = y["name"].(string)
		x.Type, _ = y["type"].(string)
		x.Unscanned, _ = y["unscanned"].(bool)
		switch n := y["size"].(type) {
		case float64:
			x.Size = int64(n)
		case json.Number:
			x.Size, _ = n.Int64()
		case int64:
			x.Size = n
		case int:
			x.Size = int64(n)
		}
	default:
		return nil, bad(f, "这里需要一个文件，"+example(f).ZH, "a file is needed here; "+example(f).EN)
	}
	if !fileKeyRe.MatchString(x.Key) || strings.TrimSpace(x.Name) == "" || x.Size < 0 {
		return nil, bad(f, "文件引用无效，"+example(f).ZH, "not a valid file reference; "+example(f).EN)
	}
	if f.MaxSize > 0 && x.Size > f.MaxSize {
		return nil, bad(f, "文件太大（上限 "+FormatSize(f.MaxSize)+"）", "the file is too large (limit "+FormatSize(f.MaxSize)+")")
	}
	return x, nil
}

// FormatSize renders a size in bytes: 512 B, 12.5 KB, 3.0 MB.
func FormatSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	}
	return "", false
}

func normNumber(f *Field, v any) (any, error) {
	var x float64
	switch n := v.(type) {
	case float64:
		x = n
	case float32:
		x = float64(n)
	case int:
		x = float64(n)
	case int64:
		x = float64(n)
	case string:
		s := strings.NewReplacer(",", "", "，", "", " ", "").Replace(strings.TrimSpace(n))
		p, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, bad(f, "不是数字，"+example(f).ZH, "not a number; "+example(f).EN)
		}
		x = p
	default:
		return nil, bad(f, "不是数字，"+example(f).ZH, "not a number; "+example(f).EN)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil, bad(f, "不是有效数字，"+example(f).ZH, "not a finite number; "+example(f).EN)
	}
	return x, nil
}

// userIDRe is the shape of a directory user id (as orgfile accepts it).
var userIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]*$`)

var moneyRe = regexp.MustCompile(`^(-?)(\d+)(?:\.(\d*))?$`)

func normMoney(f *Field, v any) (any, error) {
	cur := f.Currency
	if cur == "" {
		cur = "CNY"
	}
	switch x := v.(type) {
	case Money:
		if x.Currency != "" && x.Currency != cur {
			return nil, bad(f, "币种应为 "+cur, "currency must be "+cur)
		}
		if x.Cents > maxCents || x.Cents < -maxCents {
			return nil, bad(f, "金额太大", "amount too large")
		}
		return Money{Cents: x.Cents, Currency: cur}, nil
	case map[string]any:
		c, ok := x["cents"].(float64)
		if !ok || c != math.Trunc(c) || math.Abs(c) > float64(maxCents) {
			break
		}
		m := Money{Cents: int64(c)}
		if s, ok := x["currency"].(string); ok {
			m.Currency = s
		}
		return normMoney(f, m)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			break
		}
		return parseMoney(f, strconv.FormatFloat(x, 'f', -1, 64), cur)
	case int:
		return parseMoney(f, strconv.Itoa(x), cur)
	case int64:
		return parseMoney(f, strconv.FormatInt(x, 10), cur)
	case string:
		return parseMoney(f, x, cur)
	}
	return nil, bad(f, "不是金额，"+example(f).ZH, "not an amount; "+example(f).EN)
}

// parseMoney reads "1234.5", "¥1,234.50", "1234.50 CNY", "$12" into cents
// without float arithmetic.
func parseMoney(f *Field, s, cur string) (any, error) {
	s = strings.TrimSpace(s)
	given := ""
	upper := strings.ToUpper(s)
	for _, p := range []struct{ tok, cur string }{
		{"US$", "USD"}, {"USD", "USD"}, {"$", "USD"}, {"美元", "USD"},
		{"CNY", "CNY"}, {"RMB", "CNY"}, {"¥", "CNY"}, {"￥", "CNY"}, {"元", "CNY"}, {"块", "CNY"},
	} {
		if strings.HasPrefix(upper, p.tok) {
			upper, given = strings.TrimSpace(upper[len(p.tok):]), p.cur
			break
		}
		if strings.HasSuffix(upper, p.tok) {
			upper, given = strings.TrimSpace(upper[:len(upper)-len(p.tok)]), p.cur
			break
		}
	}
	if given != "" && given != cur {
		return nil, bad(f, "币种应为 "+cur+"，"+example(f).ZH, "currency must be "+cur+"; "+example(f).EN)
	}
	upper = strings.NewReplacer(",", "", "，", "", " ", "").Replace(upper)
	m := moneyRe.FindStringSubmatch(upper)
	if m == nil {
		return nil, bad(f, "不是金额，"+example(f).ZH, "not an amount; "+example(f).EN)
	}
	if len(m[3]) > 2 {
		return nil, bad(f, "金额最多两位小数，"+example(f).ZH, "at most 2 decimals; "+example(f).EN)
	}
	intPart := strings.TrimLeft(m[2], "0")
	if len(intPart) > 15 {
		return nil, bad(f, "金额太大", "amount too large")
	}
	major, _ := strconv.ParseInt("0"+intPart, 10, 64)
	frac := (m[3] + "00")[:2]
	minor, _ := strconv.ParseInt(frac, 10, 64)
	cents := major*100 + minor
	if m[1] == "-" {
		cents = -cents
	}
	return Money{Cents: cents, Currency: cur}, nil
}

var relativeDays = map[string]int{
	"today": 0, "今天": 0, "今日": 0,
	"tomorrow": 1, "明天": 1, "明日": 1,
	"后天": 2, "day after tomorrow": 2,
	"yesterday": -1, "昨天": -1,
}

func isRelativeDate(s string) bool {
	for w := range relativeDays {
		if strings.Contains(strings.ToLower(s), w) {
			return true
		}
	}
	return false
}

// parseDate reads 2026-12-01, 2026/12/01, 2026.12.01, 2026年12月1日, 12-01,
// 12月1日 (this year), today/今天, tomorrow/明天 into "2006-01-02".
func parseDate(s string, now time.Time) (string, bool) {
	s = strings.TrimSpace(s)
	if n, ok := relativeDays[strings.ToLower(s)]; ok {
		y, m, d := now.Date()
		return time.Date(y, m, d+n, 0, 0, 0, 0, time.UTC).Format(dateLayout), true
	}
	s = strings.NewReplacer("/", "-", ".", "-", "年", "-", "月", "-", "日", "", "号", "").Replace(s)
	parts := strings.Split(s, "-")
	var y, m, d int
	var err1, err2, err3 error
	switch len(parts) {
	case 3:
		if len(parts[0]) != 4 {
			return "", false
		}
		y, err1 = strconv.Atoi(parts[0])
		m, err2 = strconv.Atoi(parts[1])
		d, err3 = strconv.Atoi(parts[2])
	case 2:
		y = now.Year()
		m, err2 = strconv.Atoi(parts[0])
		d, err3 = strconv.Atoi(parts[1])
	default:
		return "", false
	}
	if err1 != nil || err2 != nil || err3 != nil || y < 1900 || y > 2999 || len(parts[len(parts)-1]) > 2 || len(parts[len(parts)-2]) > 2 {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", false
	}
	return t.Format(dateLayout), true
}

var rangeSeps = []string{"~", "～", "至", "到", "→", "—", " to ", " TO ", " To ", " - "}

func normRange(f *Field, v any, now time.Time) (any, error) {
	var from, to string
	switch x := v.(type) {
	case DateRange:
		from, to = x.From, x.To
	case map[string]any:
		from, _ = x["from"].(string)
		to, _ = x["to"].(string)
	case []any:
		if len(x) == 2 {
			from, _ = x[0].(string)
			to, _ = x[1].(string)
		}
	case []string:
		if len(x) == 2 {
			from, to = x[0], x[1]
		}
	case string:
		from, to = x, x
		for _, sep := range rangeSeps {
			if a, b, ok := strings.Cut(x, sep); ok {
				from, to = a, b
				break
			}
		}
	}
	fd, ok1 := parseDate(from, now)
	td, ok2 := parseDate(to, now)
	if !ok1 || !ok2 {
		return nil, bad(f, "日期范围格式不对，"+example(f).ZH, "not a date range; "+example(f).EN)
	}
	ft, _ := time.Parse(dateLayout, fd)
	tt, _ := time.Parse(dateLayout, td)
	if tt.Before(ft) {
		return nil, bad(f, "结束日期早于开始日期", "the end date is before the start date")
	}
	days := int(tt.Sub(ft).Hours()/24) + 1
	return DateRange{From: fd, To: td, Days: days}, nil
}

// findOption finds an option by value, label (zh or en) or, when byIndex,
// by 1-based number.
func findOption(f *Field, s string, byIndex bool) *Option {
	s = strings.TrimSpace(s)
	for i := range f.Options {
		if f.Options[i].Value == s {
			return &f.Options[i]
		}
	}
	for i := range f.Options {
		o := &f.Options[i]
		if strings.EqualFold(o.Value, s) || strings.EqualFold(o.Label.ZH, s) || strings.EqualFold(o.Label.EN, s) {
			return o
		}
	}
	if byIndex {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(f.Options) {
			return &f.Options[n-1]
		}
	}
	return nil
}

var multiSepRe = regexp.MustCompile(`[,，、;；\s]+`)

func normMulti(f *Field, v any) (any, error) {
	var items []string
	switch x := v.(type) {
	case []string:
		items = x
	case []any:
		for _, it := range x {
			s, ok := scalarString(it)
			if !ok {
				return nil, bad(f, "选项格式不对，"+example(f).ZH, "bad choice; "+example(f).EN)
			}
			items = append(items, s)
		}
	case string:
		if o := findOption(f, x, false); o != nil {
			return []string{o.Value}, nil
		}
		for _, it := range multiSepRe.Split(strings.TrimSpace(x), -1) {
			if it != "" {
				items = append(items, it)
			}
		}
	default:
		return nil, bad(f, "选项格式不对，"+example(f).ZH, "bad choice; "+example(f).EN)
	}
	out := []string{}
	seen := map[string]bool{}
	for _, it := range items {
		o := findOption(f, it, true)
		if o == nil {
			return nil, bad(f, "没有选项“"+it+"”，"+example(f).ZH, "no option "+strconv.Quote(it)+"; "+example(f).EN)
		}
		if !seen[o.Value] {
			seen[o.Value] = true
			out = append(out, o.Value)
		}
	}
	return out, nil
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "true", "1", "是", "是的", "对", "要", "需要", "有", "on", "ok":
		return true, true
	case "no", "n", "false", "0", "否", "不", "不是", "不要", "不需要", "没有", "无", "off":
		return false, true
	}
	return false, false
}

func fmtBound(f *Field, b float64) string {
	if f.Type == FieldMoney {
		return formatMoney(Money{Cents: int64(math.Round(b * 100)), Currency: f.Currency})
	}
	return strconv.FormatFloat(b, 'f', -1, 64)
}

// checkBounds checks min and max of a canonical value.
func checkBounds(f *Field, v any) error {
	var x float64
	var unitZH, unitEN string
	switch val := v.(type) {
	case float64:
		x = val
	case Money:
		x = float64(val.Cents) / 100
		if f.Min != nil && val.Cents < int64(math.Round(*f.Min*100)) {
			return bad(f, "金额不能小于 "+fmtBound(f, *f.Min), "the amount must be at least "+fmtBound(f, *f.Min))
		}
		if f.Max != nil && val.Cents > int64(math.Round(*f.Max*100)) {
			return bad(f, "金额不能大于 "+fmtBound(f, *f.Max), "the amount must be at most "+fmtBound(f, *f.Max))
		}
		return nil
	case string:
		if f.Type != FieldText && f.Type != FieldTextarea {
			return nil
		}
		x, unitZH, unitEN = float64(utf8.RuneCountInString(val)), " 个字", " characters"
	case DateRange:
		x, unitZH, unitEN = float64(val.Days), " 天", " days"
	case []string:
		x, unitZH, unitEN = float64(len(val)), " 项", " choices"
	default:
		return nil
	}
	if f.Min != nil && x < *f.Min {
		return bad(f, "不能少于 "+fmtBound(f, *f.Min)+unitZH, "must be at least "+fmtBound(f, *f.Min)+unitEN)
	}
	if f.Max != nil && x > *f.Max {
		return bad(f, "不能多于 "+fmtBound(f, *f.Max)+unitZH, "must be at most "+fmtBound(f, *f.Max)+unitEN)
	}
	return nil
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []string:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// CheckForm normalizes and validates a whole form. It returns the canonical
// values (defaults filled) and, per field id, what is wrong (nil when
// nothing is). Unknown field ids are problems too.
func (d *Definition) CheckForm(in map[string]any, now time.Time) (Values, map[string]Text) {
	vals := Values{}
	problems := map[string]Text{}
	for k := range in {
		if d.Field(k) == nil {
			problems[k] = Text{ZH: "表单中没有字段 " + k, EN: "the form has no field " + k}
		}
	}
	for i := range d.Fields {
		f := &d.Fields[i]
		raw, given := in[f.ID]
		if !given || isEmpty(raw) {
			if f.Default != nil {
				raw = f.Default
			} else {
				if f.Required {
					problems[f.ID] = Text{ZH: "必填，" + example(f).ZH, EN: "required; " + example(f).EN}
				}
				continue
			}
		}
		v, err := Normalize(f, raw, now)
		if err == nil {
			if f.Required && isEmpty(v) {
				problems[f.ID] = Text{ZH: "必填，" + example(f).ZH, EN: "required; " + example(f).EN}
				continue
			}
			if err = checkBounds(f, v); err == nil {
				err = checkRules(f, v, now)
			}
		}
		if err != nil {
			var ve *ValueError
			if errors.As(err, &ve) {
				problems[f.ID] = ve.Reason
			} else {
				problems[f.ID] = Text{ZH: err.Error(), EN: err.Error()}
			}
			continue
		}
		vals[f.ID] = v
	}
	if len(problems) == 0 {
		return vals, nil
	}
	return vals, problems
}

// formatMoney renders ¥1,234.50 or $1,234.50.
func formatMoney(m Money) string {
	sym := "¥"
	if m.Currency == "USD" {
		sym = "$"
	}
	c := m.Cents
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	major := strconv.FormatInt(c/100, 10)
	var b strings.Builder
	for i, r := range major {
		if i > 0 && (len(major)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s%s%s.%02d", sign, sym, b.String(), c%100)
}

// FormatValue renders a value of field f for people reading locale
// ("zh..." or en): ¥1,234.50, "2026-12-01 → 2026-12-03 (3 days)", option
// labels. A value that does not fit the field is shown as it is.
func FormatValue(f *Field, v any, locale string) string {
	if v == nil {
		return ""
	}
	zh := strings.HasPrefix(locale, "zh")
	nv, err := Normalize(f, v, time.Now())
	if err != nil {
		return fmt.Sprint(v)
	}
	switch x := nv.(type) {
	case File:
		return x.Name + " (" + FormatSize(x.Size) + ")"
	case Money:
		return formatMoney(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case DateRange:
		unit := fmt.Sprintf("%d days", x.Days)
		if x.Days == 1 {
			unit = "1 day"
		}
		if zh {
			unit = fmt.Sprintf("%d天", x.Days)
		}
		if x.From == x.To {
			return fmt.Sprintf("%s (%s)", x.From, unit)
		}
		return fmt.Sprintf("%s → %s (%s)", x.From, x.To, unit)
	case bool:
		switch {
		case zh && x:
			return "是"
		case zh:
			return "否"
		case x:
			return "Yes"
		}
		return "No"
	case []string:
		labels := make([]string, len(x))
		for i, s := range x {
			labels[i] = s
			if o := findOption(f, s, false); o != nil {
				labels[i] = o.Label.In(locale)
			}
		}
		if zh {
			return strings.Join(labels, "、")
		}
		return strings.Join(labels, ", ")
	case string:
		if f.Type == FieldSelect {
			if o := findOption(f, x, false); o != nil {
				return o.Label.In(locale)
			}
		}
		return x
	}
	return fmt.Sprint(nv)
}
