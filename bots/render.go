package bots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// ErrNotChat is returned by Render for outbox messages that are no chat
// message (http steps): the notifier runs those through the engine.
var ErrNotChat = errors.New("not a chat message")

// Render turns an outbox message into the chat message for its recipient
// to, in to's locale and time zone. Task-related kinds give the task card
// (with buttons only if to is the assignee and the task is pending); the
// applicant's kinds give the request card under a one-line headline.
func (b *Bot) Render(ctx context.Context, m *flows.OutboxMessage, to *flows.User) (Message, error) {
	loc := locale(to)
	var data map[string]any
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &data); err != nil {
			var s string
			if json.Unmarshal(m.Data, &s) == nil && m.Kind == flows.MsgText {
				return Message{Text: truncate(s, MaxTextBytes)}, nil
			}
			return Message{}, fmt.Errorf("render %s message %d: decode data: %w", m.Kind, m.ID, err)
		}
	}
	str := func(k string) string {
		if s, ok := data[k].(string); ok {
			return s
		}
		return ""
	}
	switch m.Kind {
	case flows.MsgHTTP:
		return Message{}, fmt.Errorf("render message %d: %w", m.ID, ErrNotChat)
	case flows.MsgText:
		if t, ok := textOf(data["text"]); ok {
			body := truncate(t.In(loc), MaxTextBytes)
			title, titled := textOf(data["title"])
			if !titled && !strings.Contains(body, "**") && data["image"] == nil {
				return Message{Text: body}, nil
			}
			// Digests and reports are markdown: shown as a card, which
			// every platform renders.
			c := &Card{Title: title.In(loc), Color: ColorBlue, Markdown: body, Image: b.textImage(data["image"], loc)}
			if !titled {
				c.Title = "flowbot"
				if first, rest, ok := strings.Cut(body, "\n"); ok && strings.HasPrefix(first, "**") {
					c.Title, c.Markdown = strings.Trim(first, "* "), strings.TrimLeft(rest, "\n")
				}
			}
			return Message{Card: c}, nil
		}
		return Message{}, fmt.Errorf("render text message %d: no text in data", m.ID)
	}
	if m.InstanceID == 0 {
		return Message{}, fmt.Errorf("render %s message %d: no request", m.Kind, m.ID)
	}
	b.directory(ctx)
	v, err := b.view(ctx, m.InstanceID)
	if err != nil {
		return Message{}, fmt.Errorf("render %s message %d: load request %d: %w", m.Kind, m.ID, m.InstanceID, err)
	}
	args := map[string]any{
		"flow": v.Def.Name.In(loc), "number": v.Instance.Number, "applicant": applicantName(v),
		"by": b.name(loc, str("by")), "comment": cmpStr(str("comment"), T(loc, "no_comment", nil)),
		"error": truncate(str("error"), 200), "text": truncate(str("text"), 500),
		"to": b.name(loc, str("to")), "from": b.name(loc, str("from")), "reason": truncate(str("reason"), 200),
	}
	task := findTask(v.Tasks, m.TaskID, nil)
	taskCard := func(headline string) (Message, error) {
		if task == nil {
			return Message{}, fmt.Errorf("render %s message %d: task %d not in request %d", m.Kind, m.ID, m.TaskID, m.InstanceID)
		}
		c := b.TaskCard(v, task, to)
		if headline != "" {
			c.Markdown = joinNonEmpty("\n\n", T(loc, headline, args), c.Markdown)
		}
		return Message{Card: c}, nil
	}
	requestCard := func(headline string) (Message, error) {
		c := b.RequestCard(v, to)
		c.Markdown = joinNonEmpty("\n\n", T(loc, headline, args), c.Markdown)
		return Message{Card: c}, nil
	}
	switch m.Kind {
	case flows.MsgTask:
		if str("from") != "" {
			return taskCard("") // the card itself says who transferred it
		}
		msg, err := taskCard("hd_task")
		if err == nil && to != nil && task.Assignee == to.ID {
			if note := b.breachNote(loc, b.zone(to), b.forecast(ctx, v), task); note != "" {
				msg.Card.Markdown = joinNonEmpty("\n\n", note, msg.Card.Markdown)
			}
		}
		return msg, err
	case flows.MsgCardUpdate:
		if m.TaskID == 0 { // the request card's copies
			return Message{Card: b.RequestCard(v, to)}, nil
		}
		return taskCard("")
	case flows.MsgSubmitted:
		msg, err := requestCard("hd_submitted")
		if err == nil && to != nil && to.ID == v.Instance.Applicant {
			b.addForecast(loc, b.zone(to), v, b.forecast(ctx, v), msg.Card)
		}
		return msg, err
	case flows.MsgApproved:
		return requestCard("hd_approved")
	case flows.MsgRejected:
		return requestCard("hd_rejected")
	case flows.MsgReturned:
		return requestCard("hd_returned")
	case flows.MsgSentBack:
		args["step"] = stepName(loc, v.Def, str("to"))
		return requestCard("hd_sent_back")
	case flows.MsgFailed:
		return requestCard("hd_failed")
	case flows.MsgProgress:
		args["step"] = str("step")
		if s, _ := v.Def.Step(str("step")); s != nil {
			args["step"] = s.Name.In(loc)
		}
		// A line, not another copy of the request card: the applicant's
		// cards are updated in place by the same decision.
		return Message{Text: T(loc, "hd_progress", args) + " · " + v.Instance.Number}, nil
	case flows.MsgReminder:
		if task != nil {
			since := task.CreatedAt
			if task.StartedAt != nil {
				since = *task.StartedAt
			}
			args["wait"] = duration(loc, b.now().Sub(since))
		}
		headline := "hd_reminder"
		if task != nil && task.Reminders > 0 && to != nil && to.ID == task.Assignee {
			headline = "" // the card itself shows it
		}
		msg, err := taskCard(headline)
		if err == nil && msg.Card.Color == ColorBlue {
			msg.Card.Color = ColorOrange // an alert, as the escalation
		}
		return msg, err
	case flows.MsgEscalation:
		args["assignee"] = b.name(loc, str("assignee"))
		headline := "hd_escalation"
		if task != nil {
			if _, at := escalation(v, task); at != nil {
				headline = "" // the card itself shows it (escalated_line)
			}
		}
		msg, err := taskCard(headline)
		if err == nil && msg.Card.Color == ColorBlue {
			msg.Card.Color = ColorOrange
		}
		return msg, err
	case flows.MsgCC:
		msg, err := requestCard("hd_cc")
		if t, ok := textOf(data["text"]); ok && err == nil {
			msg.Card.Markdown = joinNonEmpty("\n\n", truncate(t.In(loc), maxFieldText), msg.Card.Markdown)
		}
		return msg, err
	case flows.MsgUrge:
		if v.Instance.LastUrgeAt != nil {
			// The card itself shows the urge (urged_line), on every copy.
			return taskCard("")
		}
		return taskCard("hd_urge")
	case flows.MsgComment:
		return b.commentCard(loc, v, m, to, str("by"), str("reply_to"), args), nil
	case flows.MsgTransferred:
		return Message{Text: T(loc, "hd_transferred", args)}, nil
	case flows.MsgWithdrawn:
		return taskCard("hd_withdrawn")
	}
	return Message{}, fmt.Errorf("render message %d: unknown kind %q", m.ID, m.Kind)
}

// viewMemoKey keys the context value of WithViewMemo.
type viewMemoKey struct{}

// viewMemo holds the requests read by the renders under one context.
type viewMemo struct {
	mu    sync.Mutex
	views map[int64]*flows.View
}

// WithViewMemo returns a context under which Render reads each request
// once: the renders of one delivery (every copy of a card that a decision
// updates, for each copy's recipient) show the same state of the request,
// read once instead of once per recipient. Use it for one delivery only:
// a later render must read the request again.
func WithViewMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, viewMemoKey{}, &viewMemo{views: map[int64]*flows.View{}})
}

// view reads request id, or takes it from ctx's memo (WithViewMemo) or
// from a read shared under ctx (WithViewShare). Renders under one memo run
// one after the other (the copies of one card update): the card builders
// may fill in the view's route.
func (b *Bot) view(ctx context.Context, id int64) (v *flows.View, err error) {
	memo, _ := ctx.Value(viewMemoKey{}).(*viewMemo)
	if v := memo.get(id); v != nil {
		return v, nil
	}
	sh, _ := ctx.Value(viewShareKey{}).(viewShareCtx)
	shared, finish := sh.s.begin(ctx, id, sh.since)
	if shared != nil {
		memo.put(id, shared)
		return shared, nil
	}
	defer func() { finish(v) }() // nil when the read failed (or panicked)
	if v, err = b.eng.View(ctx, id); err != nil {
		return nil, err
	}
	memo.put(id, v)
	return v, nil
}

func (m *viewMemo) get(id int64) *flows.View {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.views[id]
}

func (m *viewMemo) put(id int64, v *flows.View) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.views[id] = v
	m.mu.Unlock()
}

// ViewShare lets the renders of different deliveries share one read of a
// request. A message may be shown from any read of its request that began
// after the message was committed: a read made at its delivery would show
// that state or a later one, and every later change of the request writes
// a message of its own (a decision's notice and its card update, written
// together, are thus shown from one read). The notifier takes a Mark when
// each claim of messages has returned, which proves them committed, and
// renders them under WithViewShare(ctx, share, mark). Safe for concurrent
// use; it keeps one read per request, for at most maxShared requests.
type ViewShare struct {
	mark  atomic.Int64
	mu    sync.Mutex
	views map[int64]*sharedRead
}

// sharedRead is a read of a request, begun after mark: v is set, nil
// when the read failed, once done is closed.
type sharedRead struct {
	mark int64
	done chan struct{}
	v    *flows.View
}

// maxShared bounds the requests a ViewShare keeps a read of; past it,
// every read is forgotten.
const maxShared = 512

// NewViewShare returns an empty ViewShare.
func NewViewShare() *ViewShare { return &ViewShare{views: map[int64]*sharedRead{}} }

// Mark records that every message claimed before this call was
// committed, and returns the mark to render those messages under.
func (s *ViewShare) Mark() int64 { return s.mark.Add(1) }

// begin returns a copy of a read of request id begun after mark since,
// waiting for it when it is under way; else it records that the caller
// reads the request now, and the caller must hand its read (nil if it
// failed) to finish.
func (s *ViewShare) begin(ctx context.Context, id, since int64) (*flows.View, func(*flows.View)) {
	none := func(*flows.View) {}
	if s == nil {
		return nil, none
	}
	s.mu.Lock()
	r := s.views[id]
	if r != nil && r.mark >= since {
		s.mu.Unlock()
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, none
		}
		if r.v == nil {
			return nil, none // that read failed: read alone
		}
		c := *r.v // the renders may set their copy's route
		return &c, nil
	}
	r = &sharedRead{mark: s.mark.Load(), done: make(chan struct{})}
	if len(s.views) >= maxShared {
		clear(s.views)
	}
	s.views[id] = r
	s.mu.Unlock()
	return nil, func(v *flows.View) {
		if v != nil {
			c := *v
			r.v = &c
		}
		close(r.done)
	}
}

// viewShareKey keys the context value of WithViewShare.
type viewShareKey struct{}

type viewShareCtx struct {
	s     *ViewShare
	since int64
}

// WithViewShare returns a context under which Render may show a request
// from a read of s that began after mark since (ViewShare), and keeps its
// own reads in s.
func WithViewShare(ctx context.Context, s *ViewShare, since int64) context.Context {
	return context.WithValue(ctx, viewShareKey{}, viewShareCtx{s: s, since: since})
}

// commentCard shows a comment (or a reply to one) to a participant, with
// a Reply box and button that answer its author.
func (b *Bot) commentCard(loc string, v *flows.View, m *flows.OutboxMessage, to *flows.User, by, replyTo string, args map[string]any) Message {
	key := "hd_comment"
	switch {
	case replyTo != "" && to != nil && to.ID == replyTo:
		key = "hd_reply"
	case replyTo != "":
		key = "hd_replied_other"
		args["to"] = b.name(loc, replyTo)
	}
	c := &Card{Title: cardTitle(loc, v), Color: ColorBlue, Markdown: T(loc, key, args)}
	if by != "" && (to == nil || to.ID != by) {
		c.Inputs = []Input{{Name: "comment", Label: T(loc, "in_reply", nil), Kind: InputTextarea}}
		c.Buttons = []Button{{Label: T(loc, "btn_reply", nil), Action: "reply", Style: StylePrimary,
			Value: map[string]string{"instance": strconv.FormatInt(v.Instance.ID, 10), "to": by}}}
	}
	return Message{Card: c}
}

// textOf reads a text given as {"zh": .., "en": ..} or as a plain string.
func textOf(v any) (flowdef.Text, bool) {
	switch x := v.(type) {
	case string:
		return flowdef.Text{ZH: x, EN: x}, x != ""
	case map[string]any:
		zh, _ := x["zh"].(string)
		en, _ := x["en"].(string)
		return flowdef.Text{ZH: zh, EN: en}, zh != "" || en != ""
	}
	return flowdef.Text{}, false
}
