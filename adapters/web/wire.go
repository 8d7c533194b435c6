package web

import (
	"maps"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// The JSON the page reads. bots.Card has no JSON tags and is shared by every
// adapter, so the playground keeps its own wire form (copied, so that a
// caller changing its card later does not change the history).

// Sides of a message.
const (
	FromMe  = "me"  // typed by the user
	FromBot = "bot" // sent by the bot
)

type message struct {
	ID   string    `json:"id"`
	User string    `json:"user"`
	From string    `json:"from"`
	Text string    `json:"text,omitempty"`
	Card *wireCard `json:"card,omitempty"`
	At   time.Time `json:"at"`
	// Rev counts updates (1 = as sent).
	Rev int `json:"rev"`

	key string // idempotency key, "" if none
}

type wireCard struct {
	Title    string       `json:"title"`
	Color    string       `json:"color,omitempty"`
	Fields   []wireField  `json:"fields,omitempty"`
	Markdown string       `json:"markdown,omitempty"`
	Inputs   []wireInput  `json:"inputs,omitempty"`
	Buttons  []wireButton `json:"buttons,omitempty"`
	Note     string       `json:"note,omitempty"`
	Links    []wireLink   `json:"links,omitempty"`
	Image    *wireImage   `json:"image,omitempty"`
}

type wireLink struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

type wireField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

type wireInput struct {
	Name        string `json:"name"`
	Label       string `json:"label,omitempty"`
	Placeholder string `json:"placeholder,omitempty"`
	// Kind is a bots.InputKind ("" = one line of text); the page draws
	// the native control and sends the value in the kind's format.
	Kind     string       `json:"kind,omitempty"`
	Options  []wireOption `json:"options,omitempty"`
	Value    string       `json:"value,omitempty"`
	Required bool         `json:"required,omitempty"`
	Error    string       `json:"error,omitempty"` // what is wrong or missing
}

type wireOption struct {
	Value string `json:"value"`
	Label string `json:"label,omitempty"`
	Note  string `json:"note,omitempty"` // shown under the picker while chosen
}

type wireButton struct {
	Label  string            `json:"label"`
	Action string            `json:"action"`
	Value  map[string]string `json:"value,omitempty"`
	Style  string            `json:"style,omitempty"`
}

func toWire(c *bots.Card) *wireCard {
	if c == nil {
		return nil
	}
	w := &wireCard{
		Title:    c.Title,
		Color:    string(c.Color),
		Markdown: c.Markdown,
		Note:     c.Note,
	}
	for _, f := range c.Fields {
		w.Fields = append(w.Fields, wireField{Label: f.Label, Value: f.Value})
	}
	for _, l := range c.Links {
		w.Links = append(w.Links, wireLink{Label: l.Label, URL: l.URL})
	}
	w.Image = toWireImage(c.Image)
	for _, in := range c.Inputs {
		wi := wireInput{
			Name: in.Name, Label: in.Label, Placeholder: in.Placeholder, Error: in.Error,
			Kind: string(in.Kind), Value: in.Value, Required: in.Required,
		}
		for _, o := range in.Options {
			wi.Options = append(wi.Options, wireOption{Value: o.Value, Label: o.Label, Note: o.Note})
		}
		w.Inputs = append(w.Inputs, wi)
	}
	for _, b := range c.Buttons {
		w.Buttons = append(w.Buttons, wireButton{
			Label:  b.Label,
			Action: b.Action,
			Value:  maps.Clone(b.Value),
			Style:  string(b.Style),
		})
	}
	return w
}

// clone returns a copy of m safe to hand out of the lock (cards are never
// mutated in place, only replaced, so sharing them is fine).
func (m *message) clone() message {
	c := *m
	c.key = ""
	return c
}
