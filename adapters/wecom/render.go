package wecom

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/flowbot/flowbot/bots"
)

// WeCom's limits on a button_interaction card.
const (
	MaxFields    = 6
	MaxButtons   = 6
	MaxKeyBytes  = 1024
	MaxTextBytes = 2048
	// MaxCardBytes bounds a rendered send body (WeCom documents no card
	// size; 2,048 bytes of text is its message limit, and the card's
	// strings are bounded below).
	MaxCardBytes = 8192
	titleBytes   = 128
	descBytes    = 512
	fieldBytes   = 128
	labelBytes   = 32
)

// Reserved keys inside a button key: the action, and the names of the
// card's inputs (asked in the chat after the click; see followUps).
const (
	actionKey = "_a"
	inputsKey = "_i"
)

// TemplateCard is the template_card object of a send.
type TemplateCard struct {
	CardType    string       `json:"card_type"`
	MainTitle   MainTitle    `json:"main_title"`
	SubTitle    string       `json:"sub_title_text,omitempty"`
	Horizontal  []KeyValue   `json:"horizontal_content_list,omitempty"`
	TaskID      string       `json:"task_id"`
	JumpList    []Jump       `json:"jump_list,omitempty"`
	ButtonList  []CardButton `json:"button_list"`
	ReplaceText string       `json:"replace_text,omitempty"`
}

// MainTitle is a card's title and description.
type MainTitle struct {
	Title string `json:"title"`
	Desc  string `json:"desc,omitempty"`
}

// KeyValue is one horizontal_content_list line.
type KeyValue struct {
	KeyName string `json:"keyname"`
	Value   string `json:"value"`
}

// Jump is a jump_list entry: a named link (type 1 opens url).
type Jump struct {
	Type  int    `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// MaxJumps is how many links a template card's jump_list holds.
const MaxJumps = 3

// maxURLBytes bounds a link's URL; a longer one is not cut (it would
// not open) but left out of the card.
const maxURLBytes = 2048

// jumps renders attachment links as jump_list entries (WeCom opens
// absolute http(s) URLs only) and the lines of the sub-title for those
// that are not links or do not fit.
func jumps(ls []bots.Link) ([]Jump, []string) {
	var out []Jump
	var lines []string
	more := 0
	for _, l := range ls {
		abs := strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://")
		switch {
		case abs && len(l.URL) <= maxURLBytes && len(out) < MaxJumps:
			out = append(out, Jump{Type: 1, Title: "📎 " + cut(l.Label, titleBytes-5), URL: l.URL})
		case !abs:
			lines = append(lines, "📎 "+l.Label)
		default:
			more++
		}
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("📎 还有 %d 个附件，请在网页中查看 / %d more attachments, open the request on the web", more, more))
	}
	return out, lines
}

// CardButton is a button_list entry; Style 1 primary, 2 danger, 4 default.
type CardButton struct {
	Text  string `json:"text"`
	Style int    `json:"style"`
	Key   string `json:"key"`
}

// RenderCard renders c as a button_interaction template card with taskID.
// Fields past the sixth, the markdown and the note are folded into the
// sub-title; strings are cut to WeCom's lengths.
func RenderCard(c bots.Card, taskID string) (TemplateCard, error) {
	tc := TemplateCard{
		CardType:   "button_interaction",
		MainTitle:  MainTitle{Title: cut(c.Title, titleBytes), Desc: cut(colorWord(c.Color), descBytes)},
		TaskID:     taskID,
		ButtonList: []CardButton{},
	}
	fields := c.Fields
	var extra []string
	if len(fields) > MaxFields {
		for _, f := range fields[MaxFields-1:] {
			extra = append(extra, f.Label+": "+f.Value)
		}
		fields = fields[:MaxFields-1]
	}
	for _, f := range fields {
		tc.Horizontal = append(tc.Horizontal, KeyValue{KeyName: cut(f.Label, labelBytes), Value: cut(f.Value, fieldBytes)})
	}
	var sub []string
	if c.Markdown != "" {
		sub = append(sub, plain(c.Markdown))
	}
	sub = append(sub, extra...)
	var fileLines []string
	tc.JumpList, fileLines = jumps(append(imageJump(c.Image), c.Links...))
	sub = append(sub, fileLines...)
	for _, in := range c.Inputs {
		if in.Error != "" {
			sub = append(sub, in.Label+": "+in.Error)
		}
	}
	if c.Note != "" {
		sub = append(sub, c.Note)
	}
	tc.SubTitle = cut(strings.Join(sub, "\n"), 1024)
	if len(c.Buttons) > MaxButtons {
		return tc, fmt.Errorf("wecom: render card: %d buttons, at most %d", len(c.Buttons), MaxButtons)
	}
	var names []string
	for _, in := range c.Inputs {
		names = append(names, in.Name)
	}
	for _, b := range c.Buttons {
		key, err := encodeKey(b.Action, b.Value, names)
		if err != nil {
			return tc, err
		}
		tc.ButtonList = append(tc.ButtonList, CardButton{Text: cut(b.Label, 40), Style: buttonStyle(b.Style), Key: key})
	}
	return tc, nil
}

// RenderSend renders the body of message/send for msg to user.
func RenderSend(agentID int64, user string, msg bots.Message, taskID string) ([]byte, error) {
	body := map[string]any{"touser": user, "agentid": agentID}
	switch {
	case msg.Card != nil:
		if nc, ok := renderNews(*msg.Card, taskID); ok {
			body["msgtype"], body["template_card"] = "template_card", nc
			break
		}
		tc, err := RenderCard(*msg.Card, taskID)
		if err != nil {
			return nil, err
		}
		body["msgtype"], body["template_card"] = "template_card", tc
	case msg.Text != "":
		body["msgtype"], body["text"] = "text", map[string]string{"content": msg.Text}
	default:
		return nil, fmt.Errorf("wecom: render: %w", ErrEmptyMessage)
	}
	return json.Marshal(body)
}

func buttonStyle(s bots.ButtonStyle) int {
	switch s {
	case bots.StylePrimary:
		return 1
	case bots.StyleDanger:
		return 2
	default:
		return 4
	}
}

// colorWord is the card's state colour as a leading mark of the
// description (template cards have no colour).
func colorWord(c bots.Color) string {
	switch c {
	case bots.ColorGreen:
		return "🟢"
	case bots.ColorRed:
		return "🔴"
	case bots.ColorOrange:
		return "🟠"
	case bots.ColorGrey:
		return "⚪"
	case bots.ColorBlue:
		return "🔵"
	}
	return ""
}

// encodeKey puts a button's action and values into its key (a query
// string, at most MaxKeyBytes).
func encodeKey(action string, values map[string]string, inputs []string) (string, error) {
	v := url.Values{actionKey: {action}}
	if len(inputs) > 0 {
		v.Set(inputsKey, strings.Join(inputs, ","))
	}
	for k, x := range values {
		if k == actionKey || k == inputsKey {
			return "", fmt.Errorf("wecom: render button: reserved value key %q", k)
		}
		v.Set(k, x)
	}
	s := v.Encode() // sorted: deterministic
	if len(s) > MaxKeyBytes && len(inputs) > 0 {
		return encodeKey(action, values, nil)
	}
	if len(s) > MaxKeyBytes {
		return "", fmt.Errorf("wecom: render button %s: key of %d bytes, at most %d", action, len(s), MaxKeyBytes)
	}
	return s, nil
}

var errBadKey = errors.New("button key without action")

// decodeKey reads a key rendered by encodeKey.
func decodeKey(key string) (string, map[string]string, error) {
	if len(key) > MaxKeyBytes {
		return "", nil, errBadKey
	}
	v, err := url.ParseQuery(key)
	if err != nil {
		return "", nil, errBadKey
	}
	name := v.Get(actionKey)
	if name == "" || len(name) > 64 {
		return "", nil, errBadKey
	}
	values := map[string]string{}
	for k, xs := range v {
		if k == actionKey || k == inputsKey {
			continue
		}
		if len(xs) != 1 {
			return "", nil, errBadKey
		}
		values[k] = xs[0]
	}
	return name, values, nil
}

// plain turns the bot's markdown (bold, lists, breaks) into plain text.
func plain(md string) string { return strings.ReplaceAll(md, "**", "") }

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "…"
	s = s[:n-len(more)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + more
}

// splitText splits s into chunks of at most n bytes on rune boundaries,
// preferring line breaks.
func splitText(s string, n int) []string {
	var out []string
	for len(s) > n {
		i := n
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		if j := strings.LastIndexByte(s[:i], '\n'); j > n/2 {
			i = j + 1
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return append(out, s)
}

// followUps are the inputs a click must ask in the chat: the required
// ones and those the bot marked with an error.
func followUps(ins []bots.Input) []bots.Input {
	var out []bots.Input
	for _, in := range ins {
		if in.Required || in.Error != "" {
			out = append(out, in)
		}
	}
	return out
}

// question is the follow-up text for in: the bot's label, error and
// placeholder, and numbered options.
func question(in bots.Input) string {
	var b strings.Builder
	b.WriteString(in.Label)
	if in.Error != "" {
		b.WriteString("\n" + in.Error)
	}
	if in.Placeholder != "" {
		b.WriteString(" (" + in.Placeholder + ")")
	}
	for i, o := range in.Options {
		fmt.Fprintf(&b, "\n%d. %s", i+1, o.Label)
	}
	return b.String()
}

// answerValue turns a typed answer into the value format of in's kind.
func answerValue(in bots.Input, text string) string {
	text = strings.TrimSpace(text)
	pick := func(s string) string {
		s = strings.TrimSpace(s)
		for i, o := range in.Options {
			if s == fmt.Sprint(i+1) || s == o.Value || s == o.Label {
				return o.Value
			}
		}
		return s
	}
	switch in.Kind {
	case bots.InputSelect:
		return pick(text)
	case bots.InputMultiSelect:
		parts := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == '、' })
		for i, p := range parts {
			parts[i] = pick(p)
		}
		return strings.Join(parts, ",")
	case bots.InputBool:
		switch strings.ToLower(text) {
		case "true", "yes", "y", "1", "是", "对":
			return "true"
		case "false", "no", "n", "0", "否", "不":
			return "false"
		}
	}
	return text
}
