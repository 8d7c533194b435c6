package feishu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// MaxCardComponents is the most components a card JSON 2.0 may hold
// (Feishu refuses more with error 300305); every tagged object counts,
// plain_text included.
const MaxCardComponents = 200

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
	// columns is how many of the shown fields are laid out in columns
	// (-1: all); the others are folded into one markdown component.
	columns int
	bare    bool
}

var defaultLimits = renderLimits{title: 200, label: 100, field: 1000, markdown: 12000, note: 500, columns: -1}

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
	lim.fields, lim.buttons, lim.columns = len(c.Fields), len(c.Buttons), -1
	first := renderCard(c, lim) // the card as it is, usually the one sent
	if countComponents(first) > MaxCardComponents {
		first = nil
		// The most fields laid out in columns within the component limit,
		// by bisection (the count grows with them, whatever their
		// length); the others are folded into one markdown component.
		lo, hi, best := 0, lim.fields-1, 0
		for lo <= hi {
			mid := (lo + hi) / 2
			l := lim
			l.columns = mid
			if countComponents(renderCard(c, l)) <= MaxCardComponents {
				best, lo = mid, mid+1
			} else {
				hi = mid - 1
			}
		}
		lim.columns = best
	}
	lim0 := lim
	try := func(l renderLimits) ([]byte, bool, error) {
		card := first
		if card == nil || l != lim0 {
			card = renderCard(c, l)
		}
		first = nil
		b, err := encodeCard(card)
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
			markdown: lim.markdown / 2, note: lim.note / 2, fields: lim.fields, buttons: lim.buttons, columns: lim.columns,
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

// encodeCard writes card as encoding/json would with HTML escaping off
// (keys sorted, the same escapes), byte for byte, without its reflection:
// every card sent or answered is encoded at least once.
func encodeCard(card map[string]any) ([]byte, error) {
	b, err := appendJSON(make([]byte, 0, 2048), card)
	if err != nil {
		return nil, fmt.Errorf("feishu: encode card: %w", err)
	}
	return b, nil
}

// appendJSON appends v's JSON to b: the types renderCard builds directly,
// anything else through encoding/json.
func appendJSON(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x)
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case map[string]any:
		return appendObject(b, x, appendJSON)
	case map[string]string:
		return appendObject(b, x, appendJSONString)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return appendEncoded(b, v)
}

// appendObject appends m as a JSON object with its keys sorted (nil:
// null), each value encoded by val.
func appendObject[V any](b []byte, m map[string]V, val func([]byte, V) ([]byte, error)) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendJSONString(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = val(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string: as it is when nothing in it
// needs escaping (the common case), else as encoding/json escapes it.
func appendJSONString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			if c >= utf8.RuneSelf && utf8.ValidString(s) && !strings.ContainsAny(s, "\u2028\u2029") && plainFrom(s, i) {
				break
			}
			return appendEncoded(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// plainFrom reports whether s from i on holds no byte that JSON escapes
// (s is valid UTF-8 without U+2028 and U+2029).
func plainFrom(s string, i int) bool {
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendEncoded appends v as encoding/json encodes it, HTML escaping off.
func appendEncoded(b []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

// cardFits reports whether a send request carrying card stays within
// MaxCardBytes, measured as the SDK encodes it (encoding/json, HTML
// characters escaped).
func cardFits(card []byte) bool {
	if len(card)*6+2+envelopeBytes <= MaxCardBytes {
		return true // even were every byte escaped as \u00XX
	}
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
	nf := min(lim.fields, len(c.Fields))
	cols := nf
	if lim.columns >= 0 {
		cols = min(cols, lim.columns)
	}
	if cols > 0 {
		elems = append(elems, renderFields(c.Fields[:cols], lim)...)
	}
	if folded := c.Fields[cols:nf]; len(folded) > 0 {
		// Fields beyond the component limit: one markdown component
		// holds them all, a line each.
		lines := make([]string, 0, len(folded))
		for _, f := range folded {
			lines = append(lines, "**"+escapeMarkdown(truncate(f.Label, lim.label))+"**："+escapeMarkdown(truncate(f.Value, lim.field)))
		}
		elems = append(elems, map[string]any{"tag": "markdown", "content": strings.Join(lines, "\n")})
	}
	if more := len(c.Fields) - nf; more > 0 {
		elems = append(elems, map[string]any{"tag": "markdown", "content": fmt.Sprintf("… 还有 %d 项 / %d more", more, more)})
	}
	if c.Markdown != "" && lim.markdown > 0 {
		elems = append(elems, map[string]any{"tag": "markdown", "content": escapeBotMarkdown(truncate(c.Markdown, lim.markdown))})
	}
	elems = append(elems, renderImage(c.Image, lim)...)
	// Attachments: a named link each (Feishu opens only absolute http(s)
	// links; a relative one is shown as its name).
	for _, l := range c.Links[:min(len(c.Links), maxLinks)] {
		label := escapeMarkdown(strings.Join(strings.Fields(truncate(l.Label, lim.label)), " "))
		content := "📎 " + label
		if strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://") {
			content = "📎 [" + label + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(l.URL) + ")"
		}
		elems = append(elems, map[string]any{"tag": "markdown", "content": content})
	}
	shown := c.Buttons[:min(lim.buttons, len(c.Buttons))]
	// A form needs a submit button: Cancel (and any button when none
	// submits) stays outside the form, so that it submits no input and no
	// required input blocks it.
	var submits, outside []bots.Button
	for _, b := range shown {
		if b.Action == actionCancel {
			outside = append(outside, b)
		} else {
			submits = append(submits, b)
		}
	}
	if len(c.Inputs) > 0 && len(submits) > 0 {
		names := map[string]bool{formName: true}
		var form []any
		for i, in := range c.Inputs {
			form = append(form, renderInput(in, i, names, lim)...)
		}
		form = append(form, renderButtons(submits, 0, names, true)...)
		elems = append(elems, map[string]any{"tag": "form", "name": formName, "elements": form})
		elems = append(elems, renderButtons(outside, len(submits), names, false)...)
	} else {
		names := map[string]bool{}
		for i, in := range c.Inputs {
			elems = append(elems, renderInput(in, i, names, lim)...)
		}
		elems = append(elems, renderButtons(shown, 0, names, false)...)
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

// actionCancel is the action of a Cancel button, kept outside forms.
const actionCancel = "cancel"

// Name suffixes of the two pickers of a date range; clickEvent joins
// their values with "~" under the input's own name.
const (
	rangeFrom = "__from"
	rangeTo   = "__to"
)

// uniqueName returns name, or a generated one when it is empty or taken
// (Feishu refuses a form whose interactive components share a name).
func uniqueName(name, fallback string, names map[string]bool) string {
	if name == "" {
		name = fallback
	}
	n := name
	for i := 2; names[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	names[n] = true
	return n
}

func plainText(s string) map[string]any { return map[string]any{"tag": "plain_text", "content": s} }

// renderInput renders one input with Feishu's native widget for its kind.
// Feishu has no number or file widget: those are text inputs whose
// placeholder says the format.
func renderInput(in bots.Input, i int, names map[string]bool, lim renderLimits) []any {
	name := uniqueName(in.Name, fmt.Sprintf("input_%d", i), names)
	label := truncate(in.Label, lim.label)
	placeholder := truncate(in.Placeholder, lim.label)
	var out []any
	// Only the text input has a label of its own; other widgets get a
	// markdown line above them.
	caption := func() {
		if label != "" {
			text := "**" + escapeMarkdown(label) + "**"
			if in.Required {
				text += " <font color='red'>*</font>"
			}
			out = append(out, map[string]any{"tag": "markdown", "content": text})
		}
	}
	picker := func(tag, name, placeholder string) map[string]any {
		el := map[string]any{"tag": tag, "name": name, "width": "fill"}
		if in.Required {
			el["required"] = true
		}
		if placeholder != "" {
			el["placeholder"] = plainText(placeholder)
		}
		return el
	}
	switch in.Kind {
	case bots.InputSelect, bots.InputMultiSelect, bots.InputBool:
		caption()
		opts := in.Options
		if in.Kind == bots.InputBool {
			opts = []bots.Option{{Value: "true", Label: "是 Yes"}, {Value: "false", Label: "否 No"}}
		}
		var options []any
		for _, o := range opts {
			options = append(options, map[string]any{"text": plainText(truncate(cmpOr(o.Label, o.Value), lim.label)), "value": o.Value})
		}
		if options == nil {
			options = []any{}
		}
		tag := "select_static"
		if in.Kind == bots.InputMultiSelect {
			tag = "multi_select_static"
		}
		el := picker(tag, name, placeholder)
		el["options"] = options
		if in.Value != "" {
			if in.Kind == bots.InputMultiSelect {
				var initial []any
				for _, v := range strings.Split(in.Value, ",") {
					initial = append(initial, v)
				}
				el["initial_options"] = initial
			} else {
				el["initial_option"] = in.Value
			}
		}
		out = append(out, el)
	case bots.InputDate:
		caption()
		el := picker("date_picker", name, placeholder)
		if in.Value != "" {
			el["initial_date"] = in.Value
		}
		out = append(out, el)
	case bots.InputDateRange:
		caption()
		from, to, _ := strings.Cut(in.Value, "~")
		for _, p := range []struct{ suffix, label, value string }{{rangeFrom, "开始 From", from}, {rangeTo, "结束 To", to}} {
			el := picker("date_picker", uniqueName(name+p.suffix, "", names), p.label)
			if p.value != "" {
				el["initial_date"] = strings.TrimSpace(p.value)
			}
			out = append(out, el)
		}
	case bots.InputUser:
		caption()
		el := picker("select_person", name, placeholder)
		if in.Value != "" {
			el["initial_option"] = in.Value
		}
		out = append(out, el)
	default: // text, textarea, number, money, file
		el := map[string]any{"tag": "input", "name": name, "width": "fill"}
		if label != "" {
			el["label"] = plainText(label)
		}
		if placeholder != "" {
			el["placeholder"] = plainText(placeholder)
		}
		if in.Required {
			el["required"] = true
		}
		if in.Kind == bots.InputTextarea {
			el["input_type"] = "multiline_text"
			el["rows"] = 3
		}
		if in.Value != "" {
			el["default_value"] = truncate(in.Value, lim.field)
		}
		out = append(out, el)
	}
	if in.Error != "" {
		out = append(out, map[string]any{
			"tag":     "markdown",
			"content": "<font color='red'>" + escapeMarkdown(truncate(in.Error, lim.note)) + "</font>",
		})
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// renderButtons puts the buttons side by side; inside a form they submit it.
func renderButtons(buttons []bots.Button, first int, names map[string]bool, inForm bool) []any {
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
			"name":      uniqueName(fmt.Sprintf("btn_%d", first+i), "", names),
			"text":      plainText(truncate(b.Label, 40)),
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

// countComponents counts the components of a rendered card body: every
// tagged object, as Feishu counts them.
func countComponents(card map[string]any) int {
	var walk func(v any) int
	walk = func(v any) int {
		n := 0
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["tag"].(string); ok {
				n++
			}
			for _, c := range x {
				n += walk(c)
			}
		case []any:
			for _, c := range x {
				n += walk(c)
			}
		}
		return n
	}
	return walk(card["body"])
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
// <at id=all>, no links, no emphasis or strike-through, no headings or
// lists. Feishu's card markdown takes HTML character entities, which the
// card documentation recommends for these characters.
var markdownEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "\\", "&#92;",
	"*", "&#42;", "`", "&#96;", "[", "&#91;", "]", "&#93;", "~", "&#126;",
)

// maxLinks bounds the attachment links of a card (each is a component).
const maxLinks = 10

// botMarkdownEscaper escapes, in the bot's own markdown (bots.Card.Markdown:
// bold, lists and line breaks only), every character that would make
// user text quoted in it (a comment, a reason, a name) a mention, a link,
// HTML, code or strike-through. The entities show as the characters.
var botMarkdownEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "\\", "&#92;",
	"`", "&#96;", "[", "&#91;", "]", "&#93;", "~", "&#126;",
)

// escapeBotMarkdown keeps the bot's bold and list markup of a card's
// markdown and neutralises the rest (see botMarkdownEscaper).
func escapeBotMarkdown(s string) string { return botMarkdownEscaper.Replace(s) }

func escapeMarkdown(s string) string {
	lines := strings.Split(markdownEscaper.Replace(s), "\n")
	for i, l := range lines {
		body := strings.TrimLeft(l, " \t")
		indent := l[:len(l)-len(body)]
		switch {
		case strings.HasPrefix(body, "#"):
			lines[i] = indent + "&#35;" + body[1:]
		case strings.HasPrefix(body, "- "), strings.HasPrefix(body, "+ "):
			lines[i] = indent + fmt.Sprintf("&#%d;", body[0]) + body[1:]
		default:
			// "1. " starts an ordered list.
			d := 0
			for d < len(body) && body[d] >= '0' && body[d] <= '9' {
				d++
			}
			if d > 0 && strings.HasPrefix(body[d:], ". ") {
				lines[i] = indent + body[:d] + "&#46;" + body[d+1:]
			}
		}
	}
	return strings.Join(lines, "\n")
}

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
