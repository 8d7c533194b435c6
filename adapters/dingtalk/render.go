package dingtalk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowbot/flowbot/bots"
)

// Template limits: the template in template/ has this many input and
// button slots.
const (
	MaxInputs  = 12
	MaxButtons = 6
	// MaxValueBytes caps each cardParamMap value (DingTalk's per-value
	// limit is UNVERIFIED; 1 KB is safe for short values, long texts get
	// more).
	MaxValueBytes = 1024
	// MaxTextValueBytes caps the long texts (fields, markdown).
	MaxTextValueBytes = 6000
	// MaxCardBytes caps a whole createAndDeliver body.
	MaxCardBytes = 30000
)

// RenderCard returns the cardData of a card as createAndDeliver sends it,
// with the buttons signed by secret.
func RenderCard(c bots.Card, secret string) ([]byte, error) {
	b, err := json.Marshal(map[string]any{"cardParamMap": cardParams(c, secret)})
	if err != nil {
		return nil, fmt.Errorf("dingtalk: render card: %w", err)
	}
	return b, nil
}

// cardParams are the template's variables for c (all strings), with the
// buttons' tokens signed by secret.
func cardParams(c bots.Card, secret string) map[string]string {
	m := map[string]string{
		"title":    cut(c.Title, 400),
		"color":    string(c.Color),
		"fields":   cut(fieldsMarkdown(c.Fields), MaxTextValueBytes),
		"markdown": cut(c.Markdown, MaxTextValueBytes),
		"note":     cut(c.Note, MaxValueBytes),
		"files":    imageMarkdown(c.Image) + linksMarkdown(c.Links),
	}
	if m["color"] == "" {
		m["color"] = string(bots.ColorBlue)
	}
	inputs := c.Inputs
	if len(inputs) > MaxInputs {
		inputs = inputs[:MaxInputs]
	}
	names := make([]string, 0, len(inputs))
	for j := range MaxInputs {
		k := "in" + strconv.Itoa(j)
		if j >= len(inputs) {
			m[k+"_show"] = "false"
			continue
		}
		in := inputs[j]
		names = append(names, in.Name)
		kind := string(in.Kind)
		if kind == "" {
			kind = "text"
		}
		opts, _ := json.Marshal(optionList(in.Options))
		m[k+"_show"] = "true"
		m[k+"_name"] = cut(in.Name, 64)
		m[k+"_kind"] = kind
		m[k+"_label"] = cut(in.Label, 200)
		m[k+"_placeholder"] = cut(placeholder(in), 400)
		m[k+"_options"] = cut(string(opts), MaxValueBytes)
		m[k+"_value"] = cut(in.Value, MaxValueBytes)
		m[k+"_required"] = strconv.FormatBool(in.Required)
		m[k+"_error"] = cut(in.Error, 400)
	}
	buttons := c.Buttons
	if len(buttons) > MaxButtons {
		buttons = buttons[:MaxButtons]
	}
	for i := range MaxButtons {
		k := "btn" + strconv.Itoa(i)
		if i >= len(buttons) {
			m[k+"_show"] = "false"
			continue
		}
		b := buttons[i]
		m[k+"_show"] = "true"
		m[k+"_label"] = cut(b.Label, 100)
		m[k+"_style"] = string(b.Style)
		if secret != "" {
			m[k] = sealButton(button{Action: b.Action, Value: b.Value, Inputs: names}, secret)
		}
	}
	return m
}

type option struct {
	Value string `json:"value"`
	Text  string `json:"text"`
}

func optionList(opts []bots.Option) []option {
	out := make([]option, 0, len(opts))
	for _, o := range opts {
		out = append(out, option{Value: o.Value, Text: o.Label})
	}
	return out
}

// placeholder names the format of kinds the template shows as text.
func placeholder(in bots.Input) string {
	if in.Placeholder != "" {
		return in.Placeholder
	}
	switch in.Kind {
	case bots.InputDate:
		return "YYYY-MM-DD"
	case bots.InputDateRange:
		return "YYYY-MM-DD~YYYY-MM-DD"
	case bots.InputMoney:
		return "0.00"
	case bots.InputNumber:
		return "0"
	case bots.InputBool:
		return "true / false"
	}
	return ""
}

func fieldsMarkdown(fs []bots.Field) string {
	var sb strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&sb, "**%s**: %s  \n", f.Label, f.Value)
	}
	return sb.String()
}

// maxLinks bounds the attachment links of a card.
const maxLinks = 10

// linkEscaper keeps a label's brackets from closing the link markup.
var linkEscaper = strings.NewReplacer("[", "【", "]", "】", "\n", " ", "\r", " ")

// urlEscaper keeps a URL's parentheses and spaces from ending the link.
var urlEscaper = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20")

// linksMarkdown renders attachment links as markdown lines, each a named
// link (DingTalk opens only absolute http(s) links: a relative one is
// shown as its name). The URL is never cut: a link that does not fit is
// left out and counted.
func linksMarkdown(ls []bots.Link) string {
	var sb strings.Builder
	more := 0
	for i, l := range ls {
		label := cut(linkEscaper.Replace(l.Label), 300)
		line := "📎 " + label
		if strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://") {
			line = "📎 [" + label + "](" + urlEscaper.Replace(l.URL) + ")"
		}
		if i >= maxLinks || sb.Len()+len(line)+3 > MaxTextValueBytes-100 {
			more++
			continue
		}
		sb.WriteString(line + "  \n")
	}
	if more > 0 {
		fmt.Fprintf(&sb, "… 还有 %d 个附件，请在网页中查看 / %d more attachments, open the request on the web  \n", more, more)
	}
	return sb.String()
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-3]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// RenderText renders a card as markdown for text-only mode: its buttons
// become commands (/approve N, /reject N reason...).
func RenderText(c bots.Card) string {
	var sb strings.Builder
	if c.Title != "" {
		fmt.Fprintf(&sb, "### %s\n\n", c.Title)
	}
	sb.WriteString(fieldsMarkdown(c.Fields))
	if c.Markdown != "" {
		sb.WriteString("\n" + c.Markdown + "\n")
	}
	if c.Links != nil {
		sb.WriteString("\n" + linksMarkdown(c.Links))
	}
	for _, b := range c.Buttons {
		if b.Action == "send_back" {
			// One command per step it can go back to (the card's select).
			for _, in := range c.Inputs {
				if in.Name != "to_step" {
					continue
				}
				for _, o := range in.Options {
					fmt.Fprintf(&sb, "\n- %s (%s): `/send_back %s %s <reason>`", b.Label, o.Label, b.Value["task"], o.Value)
				}
			}
			continue
		}
		if cmd := command(b); cmd != "" {
			fmt.Fprintf(&sb, "\n- %s: `%s`", b.Label, cmd)
		}
	}
	if c.Note != "" {
		fmt.Fprintf(&sb, "\n\n> %s", c.Note)
	}
	return sb.String()
}

// command is the text-only command of a button ("" when it has none).
func command(b bots.Button) string {
	switch b.Action {
	case "approve", "comment":
		return "/" + b.Action + " " + b.Value["task"]
	case "reject", "return":
		return "/" + b.Action + " " + b.Value["task"] + " <reason>"
	case "transfer":
		return "/transfer " + b.Value["task"] + " <user>"
	case "withdraw", "urge":
		return "/" + b.Action + " " + b.Value["instance"]
	}
	return ""
}

// split cuts text into chunks of at most n runes, at line ends where it
// can.
func split(text string, n int) []string {
	var out []string
	for utf8.RuneCountInString(text) > n {
		r := []rune(text)
		chunk := string(r[:n])
		if i := strings.LastIndex(chunk, "\n"); i > len(chunk)/2 {
			chunk = chunk[:i+1]
		}
		out = append(out, chunk)
		text = text[len(chunk):]
	}
	return append(out, text)
}
