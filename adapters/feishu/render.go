package feishu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/flowbot/flowbot/bots"
)

// MaxCardBytes is Feishu's limit on a card message body (30 KB). Rendered
// cards are cut down to stay below it.
const MaxCardBytes = 30 * 1024

// maxTextBytes is the limit on a text message (150 KB).
const maxTextBytes = 150 * 1024

// formName is the name of the form container that holds a card's inputs.
const formName = "form"

// Button values sent back by Feishu in action.value: {"a": action, "v": {...}}.
const (
	valueAction = "a"
	valueValues = "v"
)

// renderLimits bound the parts of a card; halved until the card fits.
type renderLimits struct {
	title, field, markdown, note int // in runes
}

var defaultLimits = renderLimits{title: 200, field: 1000, markdown: 12000, note: 500}

// RenderCard renders c as Feishu card JSON 2.0, within MaxCardBytes.
func RenderCard(c bots.Card) ([]byte, error) {
	lim := defaultLimits
	for {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(renderCard(c, lim)); err != nil {
			return nil, fmt.Errorf("feishu: encode card: %w", err)
		}
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if len(b) <= MaxCardBytes || lim.markdown < 16 {
			return b, nil
		}
		lim = renderLimits{title: lim.title, field: lim.field / 2, markdown: lim.markdown / 2, note: lim.note / 2}
	}
}

func renderCard(c bots.Card, lim renderLimits) map[string]any {
	var elems []any
	if len(c.Fields) > 0 {
		elems = append(elems, renderFields(c.Fields, lim)...)
	}
	if c.Markdown != "" {
		elems = append(elems, map[string]any{"tag": "markdown", "content": truncate(c.Markdown, lim.markdown)})
	}
	buttons := renderButtons(c.Buttons, len(c.Inputs) > 0)
	if len(c.Inputs) > 0 {
		var form []any
		for _, in := range c.Inputs {
			form = append(form, renderInput(in, lim)...)
		}
		form = append(form, buttons...)
		elems = append(elems, map[string]any{"tag": "form", "name": formName, "elements": form})
	} else {
		elems = append(elems, buttons...)
	}
	if c.Note != "" {
		elems = append(elems, map[string]any{
			"tag":       "markdown",
			"text_size": "notation",
			"content":   "<font color='grey'>" + escapeMarkdown(truncate(c.Note, lim.note)) + "</font>",
		})
	}
	if elems == nil {
		elems = []any{}
	}
	return map[string]any{
		"schema": "2.0",
		"config": map[string]any{"update_multi": true, "width_mode": "fill"},
		"header": map[string]any{
			"title":    map[string]any{"tag": "plain_text", "content": truncate(c.Title, lim.title)},
			"template": template(c.Color),
		},
		"body": map[string]any{"elements": elems},
	}
}

// renderFields lays fields out two per row.
func renderFields(fields []bots.Field, lim renderLimits) []any {
	var rows []any
	for i := 0; i < len(fields); i += 2 {
		var cols []any
		for _, f := range fields[i:min(i+2, len(fields))] {
			cols = append(cols, map[string]any{
				"tag":    "column",
				"width":  "weighted",
				"weight": 1,
				"elements": []any{map[string]any{
					"tag":     "markdown",
					"content": "**" + escapeMarkdown(truncate(f.Label, 100)) + "**\n" + escapeMarkdown(truncate(f.Value, lim.field)),
				}},
			})
		}
		rows = append(rows, map[string]any{"tag": "column_set", "flex_mode": "bisect", "columns": cols})
	}
	return rows
}

func renderInput(in bots.Input, lim renderLimits) []any {
	el := map[string]any{
		"tag":  "input",
		"name": in.Name,
	}
	if in.Label != "" {
		el["label"] = map[string]any{"tag": "plain_text", "content": truncate(in.Label, 100)}
	}
	if in.Placeholder != "" {
		el["placeholder"] = map[string]any{"tag": "plain_text", "content": truncate(in.Placeholder, 100)}
	}
	out := []any{el}
	if in.Error != "" {
		out = append(out, map[string]any{
			"tag":     "markdown",
			"content": "<font color='red'>" + escapeMarkdown(truncate(in.Error, lim.note)) + "</font>",
		})
	}
	return out
}

// renderButtons puts the buttons side by side; inside a form they submit it.
func renderButtons(buttons []bots.Button, inForm bool) []any {
	if len(buttons) == 0 {
		return nil
	}
	var cols []any
	for i, b := range buttons {
		value := map[string]any{valueAction: b.Action}
		if len(b.Value) > 0 {
			value[valueValues] = b.Value
		}
		btn := map[string]any{
			"tag":       "button",
			"name":      fmt.Sprintf("btn_%d", i),
			"text":      map[string]any{"tag": "plain_text", "content": truncate(b.Label, 40)},
			"type":      buttonType(b.Style),
			"behaviors": []any{map[string]any{"type": "callback", "value": value}},
		}
		if inForm {
			btn["form_action_type"] = "submit"
		}
		cols = append(cols, map[string]any{"tag": "column", "width": "auto", "elements": []any{btn}})
	}
	return []any{map[string]any{"tag": "column_set", "flex_mode": "flow", "columns": cols}}
}

func buttonType(s bots.ButtonStyle) string {
	switch s {
	case bots.StylePrimary:
		return "primary_filled"
	case bots.StyleDanger:
		return "danger"
	default:
		return "default"
	}
}

func template(c bots.Color) string {
	switch c {
	case bots.ColorBlue, bots.ColorGreen, bots.ColorRed, bots.ColorOrange, bots.ColorGrey:
		return string(c)
	default:
		return "default"
	}
}

// escapeMarkdown keeps user-provided text from becoming markup: no
// <at id=all>, no links, no emphasis.
// Feishu's card markdown takes HTML character entities.
var markdownEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	"*", "&#42;", "`", "&#96;", "[", "&#91;", "]", "&#93;",
)

func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// truncate cuts s to n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(n-1, 0)]) + "…"
}

// renderMessage turns a bots.Message into Feishu's msg_type and content.
func renderMessage(m bots.Message) (msgType, content string, err error) {
	if m.Card != nil {
		b, err := RenderCard(*m.Card)
		if err != nil {
			return "", "", err
		}
		return "interactive", string(b), nil
	}
	if m.Text == "" {
		return "", "", fmt.Errorf("feishu: render message: %w", ErrEmptyMessage)
	}
	text := m.Text
	for len(text) > maxTextBytes-64 {
		text = truncate(text, utf8.RuneCountInString(text)*3/4)
	}
	b, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return "", "", fmt.Errorf("feishu: encode text: %w", err)
	}
	return "text", string(b), nil
}
