package feishu

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzFormInputs feeds arbitrary form_value JSON to the decoder: it never
// panics, and every range it builds has exactly one "~".
func FuzzFormInputs(f *testing.F) {
	f.Add(`{"d":"2026-12-01 +0800","m":["a","b"],"r__from":"2026-12-01 +0800","r__to":"2026-12-03 +0800","b":true,"n":3}`)
	f.Add(`{"__from":"x","__to":null}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var form map[string]any
		if json.Unmarshal([]byte(raw), &form) != nil {
			return
		}
		inputs := formInputs(form)
		for k := range form {
			if base, ok := strings.CutSuffix(k, rangeFrom); ok && base != "" {
				if v := inputs[base]; v != "" && !strings.Contains(v, "~") {
					t.Fatalf("range %q: got %q, want a value with ~", base, v)
				}
			}
		}
	})
}
