package feishu_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

// component is one tagged element of a rendered card, with where it sits.
type component struct {
	el     map[string]any
	inForm bool
}

// components lists every tagged object of a card body (what Feishu counts
// against its 200-component limit, plain_text included).
func components(card map[string]any) []component {
	var out []component
	var walk func(v any, inForm bool)
	walk = func(v any, inForm bool) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["tag"].(string); ok {
				out = append(out, component{el: x, inForm: inForm})
			}
			in := inForm || x["tag"] == "form"
			for k, c := range x {
				if k == "tag" {
					continue
				}
				walk(c, in)
			}
		case []any:
			for _, c := range x {
				walk(c, inForm)
			}
		}
	}
	walk(card["body"], false)
	return out
}

func mustRender(t *testing.T, c bots.Card) (map[string]any, string) {
	t.Helper()
	b, err := feishu.RenderCard(c)
	require.NoError(t, err)
	var card map[string]any
	require.NoError(t, json.Unmarshal(b, &card))
	return card, string(b)
}

func byName(t *testing.T, card map[string]any, name string) map[string]any {
	t.Helper()
	for _, c := range components(card) {
		if c.el["name"] == name {
			return c.el
		}
	}
	require.Failf(t, "no component", "no component named %q", name)
	return nil
}

func TestRenderInputKindsNative(t *testing.T) {
	t.Parallel()
	card, _ := mustRender(t, adaptertest.InputKindsCard())
	tests := []struct {
		name, tag string
		check     func(t *testing.T, el map[string]any)
	}{
		{"k_text", "input", func(t *testing.T, el map[string]any) { require.Equal(t, true, el["required"]) }},
		{"k_area", "input", func(t *testing.T, el map[string]any) {
			require.Equal(t, "multiline_text", el["input_type"])
			require.Equal(t, "line one\nline two", el["default_value"])
		}},
		{"k_num", "input", func(t *testing.T, el map[string]any) { require.Equal(t, "3", el["default_value"]) }},
		{"k_money", "input", nil},
		{"k_date", "date_picker", func(t *testing.T, el map[string]any) { require.Equal(t, "2026-12-01", el["initial_date"]) }},
		{"k_range__from", "date_picker", nil},
		{"k_range__to", "date_picker", nil},
		{"k_select", "select_static", func(t *testing.T, el map[string]any) {
			require.Equal(t, "sick", el["initial_option"])
			require.Len(t, el["options"], 3)
		}},
		{"k_multi", "multi_select_static", func(t *testing.T, el map[string]any) { require.Len(t, el["options"], 3) }},
		{"k_user", "select_person", nil},
		{"k_file", "input", nil},
		{"k_bool", "select_static", func(t *testing.T, el map[string]any) { require.Len(t, el["options"], 2) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			el := byName(t, card, tt.name)
			require.Equal(t, tt.tag, el["tag"], "input %s: got tag %v, want %s", tt.name, el["tag"], tt.tag)
			if tt.check != nil {
				tt.check(t, el)
			}
		})
	}
}

// TestRenderFormRules: inside a form every interactive component has a
// unique, non-empty name and the form has a submit button; Cancel sits
// outside the form so that it submits nothing and no required input
// blocks it.
func TestRenderFormRules(t *testing.T) {
	t.Parallel()
	dup := adaptertest.InputKindsCard()
	dup.Inputs = append(dup.Inputs, bots.Input{Name: "k_text", Label: "again"}, bots.Input{Label: "no name"})
	noSubmit := bots.Card{Title: "reason only", Inputs: []bots.Input{{Name: "reason", Label: "Reason"}},
		Buttons: []bots.Button{{Label: "Cancel", Action: "cancel"}}}
	for name, c := range map[string]bots.Card{"kinds": adaptertest.InputKindsCard(), "duplicates": dup, "form": samples()["form"], "task": samples()["task"], "no submit": noSubmit} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			card, _ := mustRender(t, c)
			seen := map[string]bool{}
			submit, forms := 0, 0
			for _, comp := range components(card) {
				tag := comp.el["tag"].(string)
				if tag == "form" {
					forms++
				}
				if tag == "button" && comp.inForm && comp.el["form_action_type"] == "submit" {
					submit++
				}
				if tag == "button" && comp.el["behaviors"] != nil {
					v := comp.el["behaviors"].([]any)[0].(map[string]any)["value"].(map[string]any)
					if v["a"] == "cancel" {
						require.False(t, comp.inForm, "Cancel must be outside the form")
					}
				}
				if !comp.inForm || tag == "markdown" || tag == "plain_text" || tag == "column_set" || tag == "column" {
					continue
				}
				n, _ := comp.el["name"].(string)
				require.NotEmpty(t, n, "a %s in a form needs a name", tag)
				require.False(t, seen[n], "name %q repeated", n)
				seen[n] = true
			}
			if forms > 0 {
				require.Positive(t, submit, "the form needs a submit button")
			}
			if name != "no submit" {
				require.Equal(t, 1, forms, "a card with inputs and a submit button has a form")
			}
		})
	}
}

func TestRenderAtMost200Components(t *testing.T) {
	t.Parallel()
	short := bots.Card{Title: "500 short fields", Buttons: samples()["task"].Buttons, Inputs: adaptertest.InputKindsCard().Inputs}
	for i := range 500 {
		short.Fields = append(short.Fields, bots.Field{Label: fmt.Sprint("f", i), Value: "v"})
	}
	for name, c := range map[string]bots.Card{"items_300": samples()["items_300"], "short": short} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			card, raw := mustRender(t, c)
			n := len(components(card))
			require.LessOrEqual(t, n, feishu.MaxCardComponents, "got %d components, limit %d", n, feishu.MaxCardComponents)
			require.Len(t, buttonsOf(card), len(c.Buttons), "the buttons stay")
			// Fields beyond the component limit are folded into one
			// markdown component; only the byte limit cuts any off, and
			// then a line says how many.
			last := c.Fields[len(c.Fields)-1].Label
			if !strings.Contains(raw, "**"+last+"**") {
				require.Regexp(t, `… 还有 \d+ 项 / \d+ more`, raw, "what does not fit is counted")
			}
			require.Contains(t, raw, "**"+c.Fields[len(c.Fields)/3].Label+"**：", "a field past the columns is folded, not lost")
		})
	}
}

func buttonsOf(card map[string]any) []map[string]any {
	var out []map[string]any
	for _, c := range components(card) {
		if c.el["tag"] == "button" {
			out = append(out, c.el)
		}
	}
	return out
}

func TestRenderEscapesMarkdownOfUserText(t *testing.T) {
	t.Parallel()
	c := bots.Card{Title: "t", Fields: []bots.Field{
		{Label: `"f0"\`, Value: "# heading"},
		{Label: "- item", Value: "1. first ~~gone~~ _x_"},
	}}
	_, raw := mustRender(t, c)
	var card map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &card))
	var texts []string
	for _, comp := range components(card) {
		if comp.el["tag"] == "markdown" {
			texts = append(texts, comp.el["content"].(string))
		}
	}
	all := strings.Join(texts, "\n")
	for _, live := range []string{`\`, "# heading", "- item", "1. first", "~~"} {
		require.NotContains(t, all, live, "user text %q must be escaped", live)
	}
	require.Contains(t, all, "&#92;", "a backslash becomes an entity")
}
