package teams

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/flowbot/flowbot/bots"
)

// MaxCardBytes bounds a rendered card's JSON: Teams refuses messages over
// about 100 KB (413 MessageSizeTooBig); the adapter keeps 20% headroom
// for the activity around the card.
const MaxCardBytes = 80 << 10

// CardVersion is the Adaptive Card version sent (Action.Execute needs 1.4;
// current Teams docs say 1.5).
const CardVersion = "1.5"

// Suffixes of the two date inputs of a date range.
const (
	rangeFrom = "__from"
	rangeTo   = "__to"
)

// RenderCard renders c as Adaptive Card JSON.
func RenderCard(c bots.Card) ([]byte, error) {
	m, err := renderCardMap(c)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// renderCardMap renders c, shortening texts until the card fits
// MaxCardBytes.
func renderCardMap(c bots.Card) (map[string]any, error) {
	const maxFields = 50
	if len(c.Fields) > maxFields {
		more := len(c.Fields) - maxFields + 1
		c.Fields = append(append([]bots.Field(nil), c.Fields[:maxFields-1]...), bots.Field{Label: "…", Value: fmt.Sprintf("+%d", more)})
	}
	budget := 1 << 20
	for range 20 {
		m := build(c, budget)
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("teams: rendering card: %w", err)
		}
		if len(b) <= MaxCardBytes {
			return m, nil
		}
		budget = min(budget, longest(c)) * 2 / 3
	}
	return nil, fmt.Errorf("teams: rendering card: does not fit %d bytes", MaxCardBytes)
}

func longest(c bots.Card) int {
	n := utf8.RuneCountInString(c.Markdown)
	for _, s := range []string{c.Title, c.Note} {
		n = max(n, utf8.RuneCountInString(s))
	}
	for _, f := range c.Fields {
		n = max(n, utf8.RuneCountInString(f.Value), utf8.RuneCountInString(f.Label))
	}
	return n
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(n-1, 0)]) + "…"
}

var colors = map[bots.Color][2]string{ // container style, text colour
	bots.ColorBlue:   {"accent", "Accent"},
	bots.ColorGreen:  {"good", "Good"},
	bots.ColorRed:    {"attention", "Attention"},
	bots.ColorOrange: {"warning", "Warning"},
	bots.ColorGrey:   {"emphasis", "Default"},
}

func build(c bots.Card, budget int) map[string]any {
	col, ok := colors[c.Color]
	if !ok {
		col = colors[bots.ColorBlue]
	}
	var body []any
	body = append(body, map[string]any{
		"type": "Container", "style": col[0], "bleed": true,
		"items": []any{map[string]any{"type": "TextBlock", "text": cut(c.Title, min(budget, 500)), "weight": "Bolder", "size": "Medium", "wrap": true, "color": col[1]}},
	})
	if len(c.Fields) > 0 {
		var facts []any
		for _, f := range c.Fields {
			facts = append(facts, map[string]any{"title": cut(f.Label, min(budget, 200)), "value": cut(f.Value, budget)})
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	if c.Markdown != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": cut(c.Markdown, budget), "wrap": true})
	}
	body = append(body, renderImage(c.Image)...)
	body = append(body, renderLinks(c.Links)...)
	for _, in := range c.Inputs {
		body = append(body, renderInput(in)...)
	}
	if c.Note != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": cut(c.Note, min(budget, 1000)), "wrap": true, "size": "Small", "isSubtle": true})
	}
	card := map[string]any{
		"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": CardVersion, "body": body,
		"msteams": map[string]any{"width": "Full"},
	}
	if len(c.Buttons) > 0 {
		var acts []any
		for _, b := range c.Buttons {
			acts = append(acts, renderButton(b))
		}
		card["actions"] = acts
	}
	return card
}

// maxLinks bounds the attachment links of a card.
const maxLinks = 10

// linkEscaper keeps a label's brackets from closing the link markup.
var linkEscaper = strings.NewReplacer("[", "(", "]", ")", "\n", " ", "\r", " ")

// renderLinks renders attachment links, a TextBlock each with a markdown
// link (Teams opens absolute http(s) links; a relative one is shown as
// its name). URLs are never cut.
func renderLinks(ls []bots.Link) []any {
	var out []any
	for i, l := range ls {
		if i == maxLinks {
			more := len(ls) - maxLinks
			out = append(out, map[string]any{"type": "TextBlock", "wrap": true, "isSubtle": true,
				"text": fmt.Sprintf("📎 还有 %d 个附件，请在网页中查看 / %d more attachments, open the request on the web", more, more)})
			break
		}
		label := cut(linkEscaper.Replace(l.Label), 300)
		text := "📎 " + label
		if strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://") {
			text = "📎 [" + label + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(l.URL) + ")"
		}
		out = append(out, map[string]any{"type": "TextBlock", "text": text, "wrap": true})
	}
	return out
}

// renderButton is an Action.Execute whose fallback (clients before 1.4)
// is an Action.Submit with the same data.
func renderButton(b bots.Button) map[string]any {
	value := map[string]string{}
	for k, v := range b.Value {
		value[k] = v
	}
	data := map[string]any{dataAction: b.Action, dataValue: value}
	act := map[string]any{"type": "Action.Execute", "title": b.Label, "verb": b.Action, "data": data,
		"fallback": map[string]any{"type": "Action.Submit", "title": b.Label, "data": data}}
	switch b.Style {
	case bots.StylePrimary:
		act["style"] = "positive"
	case bots.StyleDanger:
		act["style"] = "destructive"
	}
	if b.Action != "cancel" && b.Action != "withdraw" {
		act["associatedInputs"] = "auto"
	} else {
		act["associatedInputs"] = "none"
	}
	return act
}

func renderInput(in bots.Input) []any {
	label := in.Label
	if label == "" {
		label = in.Name
	}
	base := func(typ string) map[string]any {
		m := map[string]any{"type": typ, "id": in.Name, "label": label, "isRequired": in.Required}
		if in.Placeholder != "" {
			m["placeholder"] = in.Placeholder
		}
		if in.Value != "" {
			m["value"] = in.Value
		}
		if in.Error != "" {
			m["errorMessage"] = in.Error
		}
		return m
	}
	var out []any
	switch in.Kind {
	case bots.InputTextarea:
		m := base("Input.Text")
		m["isMultiline"] = true
		out = append(out, m)
	case bots.InputNumber:
		m := base("Input.Number")
		out = append(out, m)
	case bots.InputMoney:
		m := base("Input.Text")
		m["regex"] = `^\d+(\.\d{1,2})?$`
		if in.Placeholder == "" {
			m["placeholder"] = "0.00"
		}
		out = append(out, m)
	case bots.InputDate:
		out = append(out, base("Input.Date"))
	case bots.InputDateRange:
		from, to, _ := strings.Cut(in.Value, "~")
		f := base("Input.Date")
		f["id"], f["label"] = in.Name+rangeFrom, label+" (from)"
		delete(f, "value")
		if from != "" {
			f["value"] = from
		}
		t := base("Input.Date")
		t["id"], t["label"] = in.Name+rangeTo, label+" (to)"
		delete(t, "value")
		delete(t, "errorMessage")
		if to != "" {
			t["value"] = to
		}
		out = append(out, f, t)
	case bots.InputSelect, bots.InputMultiSelect:
		m := base("Input.ChoiceSet")
		var choices []any
		for _, o := range in.Options {
			choices = append(choices, map[string]any{"title": o.Label, "value": o.Value})
		}
		m["choices"] = choices
		m["style"] = "compact"
		if in.Kind == bots.InputMultiSelect {
			m["isMultiSelect"] = true // Teams sends the values joined by ","
		}
		out = append(out, m)
	case bots.InputUser:
		// The Teams people picker: the value is the person's AAD object id.
		m := base("Input.ChoiceSet")
		m["choices"] = []any{}
		m["choices.data"] = map[string]any{"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
		out = append(out, m)
	case bots.InputBool:
		m := base("Input.Toggle")
		m["title"] = label
		m["valueOn"], m["valueOff"] = "true", "false"
		if in.Value == "" {
			m["value"] = "false"
		}
		out = append(out, m)
	case bots.InputFile:
		// Adaptive Cards have no file input: a link to the file.
		m := base("Input.Text")
		if in.Placeholder == "" {
			m["placeholder"] = "https://… (file link)"
		}
		m["style"] = "Url"
		out = append(out, m)
	default:
		out = append(out, base("Input.Text"))
	}
	return out
}
