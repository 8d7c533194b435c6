package adaptertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// Recorder stands in for the bot: it records every event and answers with
// ReplyFunc (default: a toast and a card naming the action).
type Recorder struct {
	// ReplyFunc builds the answer; nil uses DefaultReply.
	ReplyFunc func(ev bots.Event) (bots.Reply, error)

	mu     sync.Mutex
	events []bots.Event
	signal chan struct{}
}

// Handle records ev and answers it.
func (r *Recorder) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	if r.signal == nil {
		r.signal = make(chan struct{}, 1)
	}
	sig := r.signal
	r.mu.Unlock()
	select {
	case sig <- struct{}{}:
	default:
	}
	if r.ReplyFunc != nil {
		return r.ReplyFunc(ev)
	}
	return DefaultReply(ev), nil
}

// Events returns the events recorded so far.
func (r *Recorder) Events() []bots.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bots.Event(nil), r.events...)
}

// WaitEvents waits until at least n events were recorded, or fails t.
func (r *Recorder) WaitEvents(t testing.TB, n int, timeout time.Duration) []bots.Event {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			out := append([]bots.Event(nil), r.events...)
			r.mu.Unlock()
			return out
		}
		if r.signal == nil {
			r.signal = make(chan struct{}, 1)
		}
		sig := r.signal
		got := len(r.events)
		r.mu.Unlock()
		select {
		case <-sig:
		case <-deadline.C:
			t.Fatalf("waited %s for %d events, got %d", timeout, n, got)
		}
	}
}

// DefaultReply answers a click with a toast and a grey card naming the
// action, and a message with one text echoing it.
func DefaultReply(ev bots.Event) bots.Reply {
	if ev.Action != nil {
		return bots.Reply{
			Toast: "done: " + ev.Action.Name,
			Card:  &bots.Card{Title: "Done", Color: bots.ColorGrey, Note: ev.Action.Name + " by " + ev.UserID},
		}
	}
	return bots.Reply{Messages: []bots.Message{{Text: "echo: " + ev.Text}}}
}

// Attack is how a delivered click is altered.
type Attack int

const (
	// Genuine is an unaltered click, signed as the platform signs it.
	Genuine Attack = iota
	// ForgedSignature carries a signature made without the app's secret.
	ForgedSignature
	// Replayed is a correctly signed click whose timestamp is older than
	// the replay window.
	Replayed
	// Tampered is a correctly signed click whose body was changed after
	// signing (e.g. the button value).
	Tampered
)

func (a Attack) String() string {
	return [...]string{"genuine", "forged signature", "replayed", "tampered"}[a]
}

// ClickSpec is a click on a button the adapter rendered.
type ClickSpec struct {
	UserID string
	Action string
	Value  map[string]string
	Inputs map[string]string
}

// Target is one adapter wired to its fake and a Recorder.
type Target interface {
	// Click delivers the click, altered by attack, and reports whether the
	// adapter accepted it (the platform would show success).
	Click(t *testing.T, c ClickSpec, attack Attack) (accepted bool)
}

// Harness is what an adapter's test provides.
type Harness interface {
	// NewTarget wires a fresh adapter (with rec as its bot) to a fresh fake.
	NewTarget(t *testing.T, rec *Recorder) Target
	// RenderCard renders a card as the adapter sends it.
	RenderCard(c bots.Card) ([]byte, error)
	// MaxCardBytes is the platform's limit on a rendered card.
	MaxCardBytes() int
}

// Delivery is what a Target offers for the reply rule and the round trip
// of inputs (see bots.Reply): every adapter's Target implements it.
type Delivery interface {
	// Message delivers a genuine, signed text message from userID in a 1:1
	// chat and reports whether the adapter accepted (acknowledged) it.
	Message(t *testing.T, userID, text string) (accepted bool)
	// Messenger is the adapter under test, talking to the fake.
	Messenger() bots.Messenger
	// ReplyTo is where the bot answers a 1:1 message from userID: the
	// Recipient the bot writes into its outbox reply.
	ReplyTo(userID string) bots.Recipient
	// Shown counts the messages the fake shows in the chat of to (sends,
	// not updates).
	Shown(t *testing.T, to bots.Recipient) int
}

// Restarter is what a Target offers for a crash between the ack and the
// send: every adapter's Target implements it.
type Restarter interface {
	// Restart builds the next process's adapter on the same fake and app
	// (the one under test is closed first by the suite, as a kill would
	// end it).
	Restart(t *testing.T) bots.Messenger
}

// NoSendKey is implemented by a Target whose platform has no
// idempotency field for a sent card (the key cannot outlive the process
// that sent it); NoSendKey says why. SentThenKilledCardResentOnce is
// skipped for it, loudly.
type NoSendKey interface {
	NoSendKey() string
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("KilledBetweenAckAndSend", func(t *testing.T) {
		t.Parallel()
		rec := &Recorder{}
		target := h.NewTarget(t, rec)
		d, ok := target.(Delivery)
		require.True(t, ok, "the target must implement adaptertest.Delivery")
		r, ok := target.(Restarter)
		require.True(t, ok, "the target must implement adaptertest.Restarter")
		require.True(t, d.Message(t, "u-killed", "/help"), "a genuine message must be accepted")
		rec.WaitEvents(t, 1, 5*time.Second)
		to := d.ReplyTo("u-killed")
		// The process dies right after the ack: its adapter ends before
		// anything was sent, and held nothing worth sending (the reply is
		// in the outbox).
		if c, ok := d.Messenger().(io.Closer); ok {
			require.NoError(t, c.Close())
		}
		require.Zero(t, d.Shown(t, to), "the adapter sent a reply itself: replies go through the outbox")
		// The next process's notifier sends the outbox copy, and again with
		// the same key after a failed record: shown exactly once.
		next := r.Restart(t)
		msg := bots.Message{Text: "echo: /help", Key: "outbox-killed-1"}
		ctx := context.Background()
		_, err := next.Send(ctx, to, msg, msg.Key)
		require.NoError(t, err)
		_, err = next.Send(ctx, to, msg, msg.Key)
		require.NoError(t, err)
		require.Equal(t, 1, d.Shown(t, to), "got %d, want the reply shown exactly once after the restart", d.Shown(t, to))
	})
	t.Run("SentThenKilledCardResentOnce", func(t *testing.T) {
		t.Parallel()
		// The notifier sent a card, and the process died before it
		// recorded the send: the next process sends it again with the
		// same key (the outbox row's). The key must reach the platform
		// (an idempotency field derived from it), not live in the dead
		// process's memory: shown once.
		rec := &Recorder{}
		target := h.NewTarget(t, rec)
		if n, ok := target.(NoSendKey); ok {
			t.Skip("no platform idempotency for sends: " + n.NoSendKey())
		}
		d, ok := target.(Delivery)
		require.True(t, ok, "the target must implement adaptertest.Delivery")
		r, ok := target.(Restarter)
		require.True(t, ok, "the target must implement adaptertest.Restarter")
		require.True(t, d.Message(t, "u-resent", "/help"), "a genuine message must be accepted")
		rec.WaitEvents(t, 1, 5*time.Second)
		to := d.ReplyTo("u-resent")
		msg := bots.Message{Card: &bots.Card{Title: "Submitted", Fields: []bots.Field{{Label: "Number", Value: "EXP-1"}}}, Key: "outbox-sent-1"}
		ctx := context.Background()
		_, err := d.Messenger().Send(ctx, to, msg, msg.Key)
		require.NoError(t, err)
		if c, ok := d.Messenger().(io.Closer); ok {
			require.NoError(t, c.Close())
		}
		next := r.Restart(t)
		_, err = next.Send(ctx, to, msg, msg.Key)
		require.NoError(t, err)
		require.Equal(t, 1, d.Shown(t, to), "got %d, want the card shown once when the next process sends it again", d.Shown(t, to))
	})
	t.Run("ReplyThroughOutbox", func(t *testing.T) {
		t.Parallel()
		rec := &Recorder{}
		target := h.NewTarget(t, rec)
		d, ok := target.(Delivery)
		require.True(t, ok, "the target must implement adaptertest.Delivery")
		require.True(t, d.Message(t, "u-applicant", "/help"), "a genuine message must be accepted")
		evs := rec.WaitEvents(t, 1, 5*time.Second)
		require.Len(t, evs, 1)
		require.Equal(t, "/help", evs[0].Text)
		require.NotEmpty(t, evs[0].ID, "the event id is the dedupe key")
		to := d.ReplyTo("u-applicant")
		// The bot's reply (DefaultReply echoes) is durable in the outbox
		// before the ack; the adapter must not send it from memory.
		require.Zero(t, d.Shown(t, to), "the adapter sent a reply itself: replies go through the outbox")
		// The notifier sends it; a crash between the send and its record
		// makes the notifier send again with the same key: shown once.
		msg := bots.Message{Text: "echo: /help", Key: "outbox-7"}
		ctx := context.Background()
		ref, err := d.Messenger().Send(ctx, to, msg, msg.Key)
		require.NoError(t, err)
		again, err := d.Messenger().Send(ctx, to, msg, msg.Key)
		require.NoError(t, err)
		require.Equal(t, 1, d.Shown(t, to), "a send retried with the same key must show once")
		if ref != "" {
			require.Equal(t, ref, again, "a retried send returns the first send's reference")
		}
	})
	t.Run("InputKinds", func(t *testing.T) {
		t.Parallel()
		// Every input kind renders within the limits and its value comes
		// back in the click, in the format bots.InputKind names.
		c := InputKindsCard()
		b, err := h.RenderCard(c)
		require.NoError(t, err)
		for _, in := range c.Inputs {
			require.Contains(t, string(b), in.Name, "input %q must be rendered", in.Name)
		}
		rec := &Recorder{}
		target := h.NewTarget(t, rec)
		spec := ClickSpec{UserID: "u-approver", Action: "submit", Value: map[string]string{"flow": "kinds"}, Inputs: InputKindValues()}
		require.True(t, target.Click(t, spec, Genuine))
		evs := rec.WaitEvents(t, 1, 5*time.Second)
		for k, v := range spec.Inputs {
			require.Equal(t, v, evs[0].Action.Inputs[k], "input %q: got %q, want %q", k, evs[0].Action.Inputs[k], v)
		}
	})
	t.Run("FileLinks", func(t *testing.T) {
		t.Parallel()
		// A card of a request with file fields shows each file as a named
		// link, the participant-only signed URL that bots made.
		b, err := h.RenderCard(AttachmentsCard())
		require.NoError(t, err)
		checkLinks(t, b)
	})
	t.Run("Rating", func(t *testing.T) {
		t.Parallel()
		// The applicant's card of a finished request: five score buttons
		// and a comment; a click gives the score and the comment back.
		c := SampleCards()["rating"]
		b, err := h.RenderCard(c)
		require.NoError(t, err)
		for _, x := range c.Buttons {
			require.Contains(t, string(b), x.Label, "score button %q must be rendered", x.Label)
		}
		rec := &Recorder{}
		target := h.NewTarget(t, rec)
		spec := ClickSpec{UserID: "u-applicant", Action: "rate", Value: map[string]string{"instance": "7", "score": "4"}, Inputs: map[string]string{"comment": "很快 quick"}}
		require.True(t, target.Click(t, spec, Genuine))
		evs := rec.WaitEvents(t, 1, 5*time.Second)
		require.Len(t, evs, 1)
		require.Equal(t, "rate", evs[0].Action.Name)
		require.Equal(t, spec.Value, evs[0].Action.Value)
		require.Equal(t, "很快 quick", evs[0].Action.Inputs["comment"])
	})
	t.Run("Clicks", func(t *testing.T) {
		t.Parallel()
		spec := ClickSpec{
			UserID: "u-approver",
			Action: "approve",
			Value:  map[string]string{"task": "42", "v": "3"},
			Inputs: map[string]string{"reason": "同意 ok"},
		}
		tests := []struct {
			attack   Attack
			accepted bool
		}{
			{Genuine, true},
			{ForgedSignature, false},
			{Replayed, false},
			{Tampered, false},
		}
		for _, tt := range tests {
			t.Run(tt.attack.String(), func(t *testing.T) {
				t.Parallel()
				rec := &Recorder{}
				target := h.NewTarget(t, rec)
				got := target.Click(t, spec, tt.attack)
				require.Equal(t, tt.accepted, got, "accepted: got %v, want %v", got, tt.accepted)
				if !tt.accepted {
					require.Empty(t, rec.Events(), "a refused click must reach no handler")
					return
				}
				evs := rec.WaitEvents(t, 1, 5*time.Second)
				require.Len(t, evs, 1, "a genuine click gives exactly one event")
				ev := evs[0]
				require.NotNil(t, ev.Action)
				require.NotEmpty(t, ev.Platform)
				require.NotEmpty(t, ev.ID, "the event id is the dedupe key")
				require.Equal(t, spec.UserID, ev.UserID)
				require.Equal(t, spec.Action, ev.Action.Name)
				require.Equal(t, spec.Value, ev.Action.Value)
				for k, v := range spec.Inputs {
					require.Equal(t, v, ev.Action.Inputs[k], "input %q", k)
				}
			})
		}
	})
	t.Run("CardLimits", func(t *testing.T) {
		t.Parallel()
		limit := h.MaxCardBytes()
		for name, c := range SampleCards() {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				b, err := h.RenderCard(c)
				require.NoError(t, err)
				require.NotEmpty(t, b)
				require.LessOrEqual(t, len(b), limit, "card %s: got %d bytes, limit %d", name, len(b), limit)
				again, err := h.RenderCard(c)
				require.NoError(t, err)
				require.True(t, bytes.Equal(b, again), "rendering must be deterministic")
				if c.Title != "" && len(c.Title) < 100 {
					require.Contains(t, string(b), c.Title, "the title must be shown")
				}
			})
		}
	})
}

// InputKindsCard is a form card with one input of every kind.
func InputKindsCard() bots.Card {
	opts := []bots.Option{{Value: "annual", Label: "年假 Annual"}, {Value: "sick", Label: "病假 Sick"}, {Value: "personal", Label: "事假 Personal"}}
	return bots.Card{
		Title: "Every input kind", Color: bots.ColorBlue,
		Inputs: []bots.Input{
			{Name: "k_text", Label: "Text", Placeholder: "one line", Required: true},
			{Name: "k_area", Label: "Textarea", Kind: bots.InputTextarea, Value: "line one\nline two"},
			{Name: "k_num", Label: "Number", Kind: bots.InputNumber, Value: "3"},
			{Name: "k_money", Label: "Money", Kind: bots.InputMoney, Placeholder: "0.00"},
			{Name: "k_date", Label: "Date", Kind: bots.InputDate, Value: "2026-12-01"},
			{Name: "k_range", Label: "Date range", Kind: bots.InputDateRange},
			{Name: "k_select", Label: "Select", Kind: bots.InputSelect, Options: opts, Value: "sick"},
			{Name: "k_multi", Label: "Multi select", Kind: bots.InputMultiSelect, Options: opts},
			{Name: "k_user", Label: "User", Kind: bots.InputUser},
			{Name: "k_file", Label: "File", Kind: bots.InputFile},
			{Name: "k_bool", Label: "Bool", Kind: bots.InputBool},
		},
		Buttons: []bots.Button{
			{Label: "Submit", Action: "submit", Value: map[string]string{"flow": "kinds"}, Style: bots.StylePrimary},
			{Label: "Cancel", Action: "cancel", Value: map[string]string{"flow": "kinds"}},
		},
	}
}

// InputKindValues are values of every input of InputKindsCard, in the
// formats bots.InputKind names, as a click sends them back.
func InputKindValues() map[string]string {
	return map[string]string{
		"k_text": "家里有事 family", "k_area": "line one\nline two", "k_num": "2.5", "k_money": "1280.50",
		"k_date": "2026-12-01", "k_range": "2026-12-01~2026-12-03", "k_select": "annual",
		"k_multi": "annual,sick", "k_user": "u-manager", "k_file": "file-ref-1", "k_bool": "true",
	}
}

// SampleCards are the cards every adapter must render within its limits:
// each kind the bot sends, plus stress cases.
func SampleCards() map[string]bots.Card {
	task := bots.Card{
		Title: "请假审批 LEAVE-20261126-0007",
		Color: bots.ColorBlue,
		Fields: []bots.Field{
			{Label: "申请人", Value: "韩梅梅"}, {Label: "类型", Value: "年假"},
			{Label: "天数", Value: "3"}, {Label: "日期", Value: "2026-12-01 ~ 2026-12-03"},
		},
		Markdown: "**事由**：家里有事\n- 交接：李雷",
		Inputs:   []bots.Input{{Name: "comment", Label: "意见", Placeholder: "可选"}},
		Buttons: []bots.Button{
			{Label: "同意", Action: "approve", Value: map[string]string{"task": "42", "v": "3"}, Style: bots.StylePrimary},
			{Label: "拒绝", Action: "reject", Value: map[string]string{"task": "42", "v": "3"}, Style: bots.StyleDanger},
		},
		Note: "截止 2026-11-28 18:00",
	}
	approved := bots.Card{
		Title: "Expense approval EXP-20261126-0001", Color: bots.ColorGreen,
		Fields: []bots.Field{{Label: "Requester", Value: "Alice"}, {Label: "Amount", Value: "1,200.00 CNY"}},
		Note:   "Approved by Li Lei at 10:32",
	}
	rejected := approved
	rejected.Color, rejected.Note = bots.ColorRed, "Rejected by Li Lei at 10:32: budget exhausted"
	reminder := bots.Card{
		Title: "Reminder: 2 requests are waiting for you", Color: bots.ColorOrange,
		Markdown: "- LEAVE-0007 (overdue 3h)\n- EXP-0001",
		Buttons:  []bots.Button{{Label: "Open my todo", Action: "todo", Style: bots.StylePrimary}},
	}
	withdrawn := bots.Card{Title: "Request withdrawn", Color: bots.ColorGrey, Note: "Withdrawn by the applicant"}
	rejectInput := task
	rejectInput.Inputs = []bots.Input{{Name: "reason", Label: "Reason", Placeholder: "Why?", Error: "请填写拒绝理由 / A reason is required"}}
	form := bots.Card{
		Title: "New leave request", Color: bots.ColorBlue,
		Inputs: []bots.Input{
			{Name: "days", Label: "Days", Placeholder: "1-30"},
			{Name: "type", Label: "Type", Placeholder: "annual / sick"},
			{Name: "reason", Label: "Reason"},
		},
		Buttons: []bots.Button{
			{Label: "Submit", Action: "submit", Value: map[string]string{"flow": "leave"}, Style: bots.StylePrimary},
			{Label: "Cancel", Action: "cancel", Value: map[string]string{"flow": "leave"}},
		},
	}
	many := bots.Card{Title: "Fifteen fields", Color: bots.ColorBlue}
	for i := range 15 {
		many.Fields = append(many.Fields, bots.Field{Label: "字段 field " + string(rune('A'+i)), Value: strings.Repeat("值 value ", 20)})
	}
	six := bots.Card{Title: "Six buttons", Color: bots.ColorBlue}
	for i, a := range []string{"approve", "reject", "transfer", "add_signer", "comment", "urge"} {
		six.Buttons = append(six.Buttons, bots.Button{Label: a, Action: a, Value: map[string]string{"task": "42", "i": string(rune('0' + i))}})
	}
	long := bots.Card{
		Title:    strings.Repeat("很长的标题 long title ", 40),
		Color:    bots.ColorOrange,
		Markdown: strings.Repeat("**粗体** 正文 body text with some words.\n", 2000),
		Note:     strings.Repeat("备注 ", 500),
	}
	huge := many
	huge.Title = "Everything at once"
	huge.Fields = append([]bots.Field(nil), many.Fields...)
	for i := range huge.Fields {
		huge.Fields[i].Value = strings.Repeat("长值 long value ", 300)
	}
	huge.Markdown = long.Markdown
	huge.Buttons = six.Buttons
	huge.Inputs = form.Inputs
	// A claim with 300 line items: more fields than any card can hold.
	items := bots.Card{Title: "报销明细 300 items", Color: bots.ColorBlue, Buttons: task.Buttons}
	for i := range 300 {
		items.Fields = append(items.Fields, bots.Field{Label: fmt.Sprintf("第 %d 项 item %d", i+1, i+1), Value: fmt.Sprintf("差旅 travel %d.00 CNY — 出租车 taxi", 100+i)})
	}
	// Characters that JSON escapes, twice where a platform sends the card
	// as a string inside a JSON body: each costs 2 to 4 bytes, not 1.
	quotes := bots.Card{
		Title:    "Quotes and backslashes",
		Color:    bots.ColorOrange,
		Markdown: strings.Repeat(`"\"`, 8000),
		Note:     strings.Repeat(`\"`, 300),
		Buttons:  six.Buttons,
	}
	for i := range 10 {
		quotes.Fields = append(quotes.Fields, bots.Field{Label: fmt.Sprintf(`"f%d"\`, i), Value: strings.Repeat(`"\`, 1000)})
	}
	rating := approved
	rating.Markdown = "How satisfied are you? Rate 1–5 (5 is best); you may write a comment first."
	rating.Inputs = []bots.Input{{Name: "comment", Label: "Comment (optional)", Placeholder: "Anything to tell us?"}}
	for i := 1; i <= 5; i++ {
		rating.Buttons = append(rating.Buttons, bots.Button{Label: fmt.Sprintf("%d★", i), Action: "rate", Value: map[string]string{"instance": "7", "score": fmt.Sprint(i)}})
	}
	rating.Buttons = append(rating.Buttons, bots.Button{Label: "Copy and file again", Action: "copy", Value: map[string]string{"instance": "7"}})
	return map[string]bots.Card{
		"rating":       rating,
		"items_300":    items,
		"quotes":       quotes,
		"task":         task,
		"approved":     approved,
		"rejected":     rejected,
		"reminder":     reminder,
		"withdrawn":    withdrawn,
		"reject_input": rejectInput,
		"form":         form,
		"many_fields":  many,
		"six_buttons":  six,
		"long":         long,
		"huge":         huge,
		"title_only":   {Title: "仅标题 title only"},
		"input_kinds":  InputKindsCard(),
		"attachments":  withLinks(task),
	}
}
