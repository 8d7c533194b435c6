package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowbot/flowbot/bots"
)

// chat is one user's conversation with the bot, bounded.
type chat struct {
	msgs []*message
	keys map[string]*message
}

// event is one server-sent event.
type event struct {
	name string // "message", "update", "clock"
	data []byte
}

// subscriber is one open api/events stream.
type subscriber struct {
	ch chan event
}

const subBuffer = 64

// Send appends msg to the chat of to.UserID (or to.ChatID) and pushes it
// to every open tab of that user. key dedupes: the same non-empty key again
// returns the first message's id and shows nothing new.
func (a *Adapter) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("web: send: %w", err)
	}
	if to.Platform != "" && to.Platform != Platform {
		return "", fmt.Errorf("web: send: recipient platform %q is not %q", to.Platform, Platform)
	}
	user := to.UserID
	if user == "" {
		user = to.ChatID
	}
	if user == "" {
		return "", fmt.Errorf("web: send: recipient has no user id")
	}
	if msg.Text == "" && msg.Card == nil {
		return "", fmt.Errorf("web: send to %s: empty message", user)
	}
	m, err := a.appendMessage(user, FromBot, msg, key)
	if err != nil {
		return "", fmt.Errorf("web: send to %s: %w", user, err)
	}
	return m.ID, nil
}

// Update replaces the content of message ref and pushes the change to every
// open tab of its user.
func (a *Adapter) Update(ctx context.Context, ref string, msg bots.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("web: update %s: %w", ref, err)
	}
	if msg.Text == "" && msg.Card == nil {
		return fmt.Errorf("web: update %s: empty message", ref)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.refs[ref]
	if !ok {
		return fmt.Errorf("web: update %s: %w", ref, ErrUnknownMessage)
	}
	m.Text = msg.Text
	m.Card = toWire(msg.Card)
	m.Rev++
	a.publishLocked(m.User, "update", m.clone())
	return nil
}

// replaceCard replaces the card of message id if it is in user's chat (a
// click's immediate answer); it reports whether it did.
func (a *Adapter) replaceCard(user, id string, c *bots.Card) (message, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.refs[id]
	if !ok || m.User != user || m.Card == nil {
		return message{}, false
	}
	m.Card = toWire(c)
	m.Rev++
	out := m.clone()
	a.publishLocked(user, "update", out)
	return out, true
}

// appendMessage adds a message to user's chat, dropping the oldest beyond
// the history bound, and publishes it.
func (a *Adapter) appendMessage(user, from string, msg bots.Message, key string) (message, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.chats[user]
	if c == nil {
		if len(a.chats) >= maxChats {
			return message{}, fmt.Errorf("too many chats (%d)", maxChats)
		}
		c = &chat{keys: make(map[string]*message)}
		a.chats[user] = c
	}
	if key != "" {
		if m, ok := c.keys[key]; ok {
			return m.clone(), nil
		}
	}
	a.seq++
	m := &message{
		ID:   a.boot + "-" + strconv.FormatUint(a.seq, 10),
		User: user,
		From: from,
		Text: msg.Text,
		Card: toWire(msg.Card),
		At:   a.now(),
		Rev:  1,
		key:  key,
	}
	c.msgs = append(c.msgs, m)
	a.refs[m.ID] = m
	if key != "" {
		c.keys[key] = m
	}
	for len(c.msgs) > a.cfg.History {
		old := c.msgs[0]
		c.msgs[0] = nil
		c.msgs = c.msgs[1:]
		delete(a.refs, old.ID)
		if old.key != "" {
			delete(c.keys, old.key)
		}
	}
	out := m.clone()
	a.publishLocked(user, "message", out)
	return out, nil
}

// history returns a copy of user's chat, oldest first.
func (a *Adapter) history(user string) []message {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.chats[user]
	if c == nil {
		return []message{}
	}
	out := make([]message, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = m.clone()
	}
	return out
}

// Close ends every open event stream (the pages reconnect) and refuses new
// ones, so that http.Server.Shutdown is not held up by them. Register it
// with http.Server.RegisterOnShutdown. Send and Update keep working.
func (a *Adapter) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for user, set := range a.subs {
		for s := range set {
			a.dropLocked(user, s)
		}
	}
	return nil
}

// subscribe opens a live stream of user's chat; nil after Close.
func (a *Adapter) subscribe(user string) *subscriber {
	s := &subscriber{ch: make(chan event, subBuffer)}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	set := a.subs[user]
	if set == nil {
		set = make(map[*subscriber]struct{})
		a.subs[user] = set
	}
	set[s] = struct{}{}
	return s
}

// unsubscribe closes s unless it was already dropped.
func (a *Adapter) unsubscribe(user string, s *subscriber) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dropLocked(user, s)
}

func (a *Adapter) dropLocked(user string, s *subscriber) {
	set := a.subs[user]
	if _, ok := set[s]; !ok {
		return
	}
	delete(set, s)
	close(s.ch)
	if len(set) == 0 {
		delete(a.subs, user)
	}
}

// publishLocked pushes v to every stream of user. A stream too slow to keep
// up is dropped: the page reconnects and reloads the history.
func (a *Adapter) publishLocked(user, name string, v any) {
	set := a.subs[user]
	if len(set) == 0 {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		a.log.Error("encode event", "err", err)
		return
	}
	for s := range set {
		select {
		case s.ch <- event{name: name, data: data}:
		default:
			a.log.Warn("drop slow event stream", "user", user)
			a.dropLocked(user, s)
		}
	}
}

// broadcast pushes v to every open stream of every user.
func (a *Adapter) broadcast(name string, v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for user := range a.subs {
		a.publishLocked(user, name, v)
	}
}

// validUser reports whether id is acceptable as a chat id.
func validUser(id string) bool {
	return id != "" && len(id) <= 128 && !strings.ContainsAny(id, "\x00\r\n")
}
