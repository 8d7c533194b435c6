package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Account is a Bot Framework channel account.
type Account struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	Role        string `json:"role,omitempty"`
}

// Conversation is a Bot Framework conversation account.
type Conversation struct {
	ID               string `json:"id"`
	ConversationType string `json:"conversationType,omitempty"` // personal, groupChat, channel
	TenantID         string `json:"tenantId,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
}

// Attachment is an activity attachment (an Adaptive Card).
type Attachment struct {
	ContentType string          `json:"contentType"`
	Content     json.RawMessage `json:"content,omitempty"`
}

// Entity is an activity entity (a mention).
type Entity struct {
	Type      string   `json:"type"`
	Mentioned *Account `json:"mentioned,omitempty"`
	Text      string   `json:"text,omitempty"`
}

// Activity is the part of a Bot Framework activity the adapter reads and
// writes.
type Activity struct {
	Type         string          `json:"type"`
	ID           string          `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Timestamp    string          `json:"timestamp,omitempty"`
	ServiceURL   string          `json:"serviceUrl,omitempty"`
	ChannelID    string          `json:"channelId,omitempty"`
	From         *Account        `json:"from,omitempty"`
	Recipient    *Account        `json:"recipient,omitempty"`
	Conversation *Conversation   `json:"conversation,omitempty"`
	Text         string          `json:"text,omitempty"`
	TextFormat   string          `json:"textFormat,omitempty"`
	ReplyToID    string          `json:"replyToId,omitempty"`
	Value        json.RawMessage `json:"value,omitempty"`
	Attachments  []Attachment    `json:"attachments,omitempty"`
	Entities     []Entity        `json:"entities,omitempty"`
	ChannelData  json.RawMessage `json:"channelData,omitempty"`
}

// invokeValue is the value of an adaptiveCard/action invoke.
type invokeValue struct {
	Action struct {
		Type string          `json:"type"`
		ID   string          `json:"id"`
		Verb string          `json:"verb"`
		Data json.RawMessage `json:"data"`
	} `json:"action"`
	Trigger string `json:"trigger"`
}

// DecodeActivity parses an activity body and checks the fields every
// activity must carry. It never panics.
func DecodeActivity(body []byte) (*Activity, error) {
	var act Activity
	if err := json.Unmarshal(body, &act); err != nil {
		return nil, fmt.Errorf("teams: decoding activity: %w", err)
	}
	switch {
	case act.Type == "":
		return nil, errors.New("teams: decoding activity: no type")
	case act.ServiceURL == "":
		return nil, errors.New("teams: decoding activity: no serviceUrl")
	case act.Conversation == nil || act.Conversation.ID == "":
		return nil, errors.New("teams: decoding activity: no conversation id")
	case act.From == nil || act.From.ID == "":
		return nil, errors.New("teams: decoding activity: no sender")
	}
	return &act, nil
}

// actionData is what the adapter puts in an Action.Execute's data (and
// the Action.Submit fallback's): the action name and the button's value.
// Inputs are merged into the same object by Teams.
const (
	dataAction = "flowbot_a"
	dataValue  = "flowbot_v"
)

// DecodeAction turns an Action.Execute/Action.Submit data object (the
// button's data merged with the card's inputs) into a bots.Action. It
// never panics.
func DecodeAction(data []byte) (*action, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("teams: decoding card action: %w", err)
	}
	name, _ := m[dataAction].(string)
	if name == "" {
		return nil, errors.New("teams: decoding card action: no action")
	}
	out := &action{name: name, value: map[string]string{}, inputs: map[string]string{}}
	if v, ok := m[dataValue].(map[string]any); ok {
		for k, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("teams: decoding card action: value %q is not a string", k)
			}
			out.value[k] = s
		}
	}
	ranges := map[string][2]string{}
	for k, x := range m {
		if k == dataAction || k == dataValue || k == "msteams" {
			continue
		}
		var s string
		switch v := x.(type) {
		case string:
			s = v
		case float64, bool:
			s = fmt.Sprint(v)
		default:
			continue
		}
		if base, ok := strings.CutSuffix(k, rangeFrom); ok {
			r := ranges[base]
			r[0] = s
			ranges[base] = r
			continue
		}
		if base, ok := strings.CutSuffix(k, rangeTo); ok {
			r := ranges[base]
			r[1] = s
			ranges[base] = r
			continue
		}
		out.inputs[k] = s
	}
	for base, r := range ranges {
		if _, set := out.inputs[base]; set || (r[0] == "" && r[1] == "") {
			continue
		}
		out.inputs[base] = r[0] + "~" + r[1]
	}
	return out, nil
}

type action struct {
	name   string
	value  map[string]string
	inputs map[string]string
}

var atTag = regexp.MustCompile(`(?is)<at\b[^>]*>.*?</at>`)

// stripMentions removes the bot's mention from a message text.
func stripMentions(act *Activity) string {
	text := act.Text
	for _, e := range act.Entities {
		if e.Type == "mention" && e.Mentioned != nil && act.Recipient != nil && e.Mentioned.ID == act.Recipient.ID && e.Text != "" {
			text = strings.ReplaceAll(text, e.Text, "")
		}
	}
	text = atTag.ReplaceAllString(text, "")
	return strings.TrimSpace(strings.ReplaceAll(text, "&nbsp;", " "))
}
