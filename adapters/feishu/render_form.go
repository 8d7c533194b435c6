package feishu

import (
	"strconv"
	"strings"
	"time"
)

// formInputs decodes Feishu's form_value into the string formats of
// bots.InputKind: a multi select's array joined by ",", a date picker's
// "2006-01-02 -0700" to "2006-01-02", the two pickers of a date range
// ("<name>__from", "<name>__to") joined by "~" under name.
func formInputs(form map[string]any) map[string]string {
	inputs := map[string]string{}
	ranges := map[string][2]string{}
	for k, v := range form {
		s := formValue(v)
		if base, ok := strings.CutSuffix(k, rangeFrom); ok && base != "" {
			r := ranges[base]
			r[0] = s
			ranges[base] = r
			continue
		}
		if base, ok := strings.CutSuffix(k, rangeTo); ok && base != "" {
			r := ranges[base]
			r[1] = s
			ranges[base] = r
			continue
		}
		inputs[k] = s
	}
	for base, r := range ranges {
		if r[0] != "" || r[1] != "" {
			inputs[base] = r[0] + "~" + r[1]
		} else {
			inputs[base] = ""
		}
	}
	return inputs
}

// formValue is one form value as a string.
func formValue(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			if s := formValue(p); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ",")
	case bool:
		return strconv.FormatBool(x)
	case string:
		return pickedDate(x)
	default:
		return stringify(v)
	}
}

// pickedDate turns a date picker's "2006-01-02 -0700" into "2006-01-02";
// any other text is returned as it is.
func pickedDate(s string) string {
	if len(s) == len("2006-01-02 -0700") {
		if _, err := time.Parse("2006-01-02 -0700", s); err == nil {
			return s[:len("2006-01-02")]
		}
	}
	return s
}
