package feishu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/flowbot/flowbot/bots"
)

// MaxCardBytes is Feishu's limit on the request body of a card message
// (30 KB). The card JSON travels as a JSON string inside that body, so its
// quotes, backslashes and <, >, & (escaped by Go as \u003c...) count
// double or more: RenderCard measures the escaped size plus the
// envelope and cuts the card down until the request fits.
const MaxCardBytes = 30 * 1024

// envelopeBytes bounds what a send request adds around the card content:
// {"receive_id":"<id>","msg_type":"interactive","content":...,"uuid":"<32>"}.
const envelopeBytes = 256

// maxButtons is the most buttons a card shows (bots.Card's contract).
const maxButtons = 6

// maxTextBytes is the limit on a text message (150 KB).
const maxTextBytes = 150 * 1024

// formName is the name of the form container that holds a card's inputs.
const formName = "form"

// Button values sent back by Feishu in action.value: {"a": action, "v": {...}}.
const (
	valueAction = "a"
	valueValues = "v"
)

// renderLimits bound the parts of a card.
type renderLimits struct {
	title, label, field, markdown, note int // in runes
	fields, buttons                     int // how many are shown
	bare                                bool
}

var defaultLimits = renderLimits{title: 200, label: 100, field: 1000, markdown: 12000, note: 500}

// ErrCardTooLarge says a card does not fit even cut down to its title and
// buttons (button values far beyond what a callback value may hold).
var ErrCardTooLarge = errors.New("card too large")

// RenderCard renders c as Feishu card JSON 2.0 whose send request stays
// within MaxCardBytes. When too large it cuts, in order: long texts (field
// values, markdown, note) to a quarter; fields from the end, with a
// "… 还有 N 项 / N more" line; buttons beyond 6; then every text harder;
// last, everything but the title and the buttons.
func RenderCard(c bots.Card) ([]byte, error) {
	lim := defaultLimits
	lim.fields, lim.buttons = len(c.Fields), len(c.Buttons)
	try := func(l renderLimits) ([]byte, bool, error) {
		b, err := encodeCard(renderCard(c, l))
		return b, err == nil && cardFits(b), err
	}
	for i := 0; ; i++ {
		b, ok, err := try(lim)
		if err != nil || ok {
			return b, err
		}
		if i == 2 {
			break
		}
		lim.field, lim.markdown, lim.note = lim.field/2, lim.markdown/2, lim.note/2
	}
	if lim.fields > 0 {
		// The most fields that fit, by bisection (size grows with fields).
		lo, hi := 0, lim.fields-1
		var best []byte
		for lo <= hi {
			mid := (lo + hi) / 2
			l := lim
			l.fields = mid
			b, ok, err := try(l)
			if err != nil {
				return nil, err
			}
			if ok {
				best, lo = b, mid+1
			} else {
				hi = mid - 1
			}
		}
		if best != nil {
			return best, nil
		}
		lim.fields = 0
	}
	if lim.buttons > maxButtons {
		lim.buttons = maxButtons
		if b, ok, err := try(lim); err != nil || ok {
			return b, err
		}
	}
	for lim.markdown > 16 || lim.field > 16 || lim.note > 16 || lim.label > 16 || lim.title > 40 {
		lim = renderLimits{
			title: max(lim.title/2, 40), label: max(lim.label/2, 16), field: max(lim.field/2, 16),
			markdown: lim.markdown / 2, note: lim.note / 2, fields: lim.fields, buttons: lim.buttons,
		}
		if b, ok, err := try(lim); err != nil || ok {
			return b, err
		}
	}
	lim.bare = true
	b, ok, err := try(lim)
	if err != nil || ok {
		return b, err
	}
	return nil, fmt.Errorf("feishu: render card %q: %w", truncate(c.Title, 40), ErrCardTooLarge)
}

func encodeCard(card map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(card); err != nil {
		return nil, fmt.Errorf("feishu: encode card: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// cardFits reports whether a send request carrying card stays within
// MaxCardBytes, measured as the SDK encodes it (encoding/json, HTML
// characters escaped).
func cardFits(card []byte) bool {
	return CardRequestBytes(card) <= MaxCardBytes
}

// CardRequestBytes is the size of a send request carrying the card JSON
// card: the card as a JSON string plus the request's envelope (its upper
// bound).
func CardRequestBytes(card []byte) int {
	s, err := json.Marshal(string(card))
	if err != nil {
		return len(card)*6 + envelopeBytes
	}
	return len(s) + envelopeBytes
}

func renderCard(c bots.Card, lim renderLimits) map[string]any {
	if lim.bare {
		c = bots.Card{Title: c.Title, Color: c.Color, Buttons: c.Buttons}
	}
	var elems []any
	if n := min(lim.fields, len(c.Fields)); n > 0 {
		elems = append(elems, renderFields(c.Fields[:n], lim)...)
	}
	if more := len(c.Fields) - min(lim.fields, len(c.Fields)); more > 0 {
		elems = append(elems, map[string]any{"tag": "markdown", "content": fmt.Sprintf("… 还有 %d 项 / %d more", more, more)})
	}
	if c.Markdown != "" && lim.markdown > 0 {
		elems = append(elems, map[string]any{"tag": "markdown", "content": truncate(c.Markdown, lim.markdown)})
	}
	buttons := renderButtons(c.Buttons[:min(lim.buttons, len(c.Buttons))], len(c.Inputs) > 0)
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
	if c.Note != "" && lim.note > 0 {
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
					"content": "**" + escapeMarkdown(truncate(f.Label, lim.label)) + "**\n" + escapeMarkdown(truncate(f.Value, lim.field)),
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
		el["label"] = map[string]any{"tag": "plain_text", "content": truncate(in.Label, lim.label)}
	}
	if in.Placeholder != "" {
		el["placeholder"] = map[string]any{"tag": "plain_text", "content": truncate(in.Placeholder, lim.label)}
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
