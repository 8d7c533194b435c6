package bots

import (
	"context"
	"errors"
	"io"
	"time"
)

// Event is one inbound event from any platform, after the adapter verified
// and decoded it: a message or a card action.
type Event struct {
	Platform string // "feishu", "wecom", "dingtalk", "teams", "web"
	// App names the platform app (tenant) the event came through, for
	// platforms where several apps can be configured (Feishu app id).
	App string
	// ID is the platform's event id, the dedupe key (empty: no dedupe).
	ID string
	// UserID is the sender's id on the platform (Feishu open_id...).
	UserID string
	// UnionID and Email are fallback identities when UserID is unknown.
	UnionID  string
	Email    string
	ChatID   string
	ChatType string // "p2p" or "group"
	// Text of a message (bot mention already stripped).
	Text string
	// File is set for a message that sends a file or an image.
	File *InFile
	// Action is set for a card click.
	Action *Action
	At     time.Time
}

// InFile is a file or image a user sent: its name and how to read it
// from the platform (Feishu's message-resource API, the playground's
// upload).
type InFile struct {
	Name string
	// Open reads the file's content; the bot reads it once, within the
	// event's deadline. It is not encoded: an event with a file cannot be
	// kept in the inbox (Keep refuses it).
	Open func(ctx context.Context) (io.ReadCloser, error) `json:"-"`
}

// Action is a click on a card button (with the card's inputs).
type Action struct {
	// Name is the button's action: "approve", "reject", "transfer",
	// "add_signer", "comment", "withdraw", "urge", "submit", "cancel", ...
	Name string
	// Value is the button's value as the bot set it (task id, instance id).
	Value map[string]string
	// Inputs are the values of the card's inputs (e.g. "reason").
	Inputs map[string]string
	// MessageRef is the platform message the click came from, when known.
	MessageRef string
}

// Reply is the bot's answer to one event.
//
// The reply rule: every message the bot decides to send is durable before
// the event is acknowledged. Handle writes Messages to the outbox (kind
// flows.MsgReply, addressed to the chat the event came from) before it
// returns, and the notifier sends them through the platform's Messenger
// with Message.Key as the idempotency key. Adapters therefore never send
// Messages themselves. An adapter whose callback answer can carry messages
// (the web playground) may show them at once as a fast path; it must then
// treat a later Messenger.Send with the same Key as already done. A
// click's Toast and Card are the callback answer's fast path on every
// platform; the card update they show is durable in the outbox too.
type Reply struct {
	// Messages go into the chat the event came from, in order (see the
	// reply rule above: the notifier sends them).
	Messages []Message
	// Toast is a short text shown at once for a card click.
	Toast string
	// ToastKind says how the toast looks: "" or ToastInfo for a success,
	// ToastWarning for a refusal or a mistake of the user, ToastError for
	// an internal failure.
	ToastKind ToastKind
	// Card replaces the clicked card (a click's immediate answer); nil
	// leaves the card as it is.
	Card *Card
	// Sent, when set, is called by an adapter that showed Messages itself
	// (the fast path), for each of them, with the message's index and the
	// platform's reference (what Messenger.Update accepts), so that the bot
	// can update that copy when the request changes.
	Sent func(ctx context.Context, index int, ref string)
	// Outcome says how the event was taken, for metrics: "" (handled),
	// OutcomeDuplicate or OutcomeRefused.
	Outcome Outcome
}

// Outcome classifies an event that was not simply handled.
type Outcome string

const (
	// OutcomeDuplicate: a redelivery of an event already handled or being
	// handled; nothing was done.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeRefused: the sender is unknown to the directory, or a click
	// was refused (no rights, stale card); nothing changed.
	OutcomeRefused Outcome = "refused"
)

// ToastKind classifies a toast.
type ToastKind string

const (
	ToastInfo    ToastKind = "info"
	ToastWarning ToastKind = "warning"
	ToastError   ToastKind = "error"
)

// Message is a text or a card.
type Message struct {
	Text string
	Card *Card
	// Key is the idempotency key the notifier sends this message with
	// ("outbox-<id>"), set once the message is durable in the outbox.
	Key string `json:"key,omitempty"`
}

// Color is a card's status colour.
type Color string

const (
	ColorBlue   Color = "blue"   // pending / information
	ColorGreen  Color = "green"  // approved
	ColorRed    Color = "red"    // rejected / failed
	ColorOrange Color = "orange" // reminder / escalation / returned
	ColorGrey   Color = "grey"   // withdrawn / cancelled / done elsewhere
)

// Card is a platform-neutral interactive card; each adapter renders it.
type Card struct {
	Title    string
	Color    Color
	Fields   []Field  // key/value lines
	Markdown string   // body text; **bold**, lists and line breaks only
	Inputs   []Input  // optional inputs, sent back with any button click
	Buttons  []Button // at most 6
	Note     string   // small footer text ("Approved by 李雷 at 10:32")
	// Links are named links (attachments), each opened in the browser.
	Links []Link `json:"Links,omitempty"`
	// Image, when set, is a picture shown under the body (the monthly
	// report's chart). A platform that cannot show it shows a link to
	// its URL instead.
	Image *Image `json:"Image,omitempty"`
	// About names the request (and task) the card shows, so that every
	// copy of it can be updated later. Set by the bot; adapters ignore it.
	About *About `json:"-"`
}

// About names the request and task (0: the request card) of a card.
type About struct {
	InstanceID int64
	TaskID     int64
}

// Link is a named link of a card, e.g. an attachment: its URL is signed
// for the card's viewer and expires.
type Link struct {
	Label string // "发票.pdf (1.2 KB)"
	URL   string
}

// Image is a card's picture: a PNG kept in the blob store (Key), reached
// through a signed, expiring https URL, or read for an upload.
type Image struct {
	// URL is a signed, expiring link to the PNG (for platforms that fetch
	// a picture by URL, and the fallback link where none can be shown).
	URL string
	// Key names the PNG in the blob store; an adapter that uploads it
	// keeps the platform's id for it by Key.
	Key string
	// Alt describes the picture in the viewer's language (shown as the
	// fallback link's label and to screen readers).
	Alt string
	// Open reads the PNG for platforms that take an upload (Feishu);
	// nil: those show the link.
	Open func(ctx context.Context) (io.ReadCloser, error) `json:"-"`
	// PlatformKey is set by an adapter on its own copy of the card once
	// it uploaded the picture (Feishu's image_key); the bot leaves it
	// empty.
	PlatformKey string `json:"-"`
}

// Field is one key/value line of a card.
type Field struct {
	Label string
	Value string
}

// ButtonStyle hints how a button looks.
type ButtonStyle string

const (
	StyleDefault ButtonStyle = "default"
	StylePrimary ButtonStyle = "primary"
	StyleDanger  ButtonStyle = "danger"
)

// Button is a card button. Value stays small (a few ids): platforms limit
// the size of a callback value.
type Button struct {
	Label  string
	Action string
	Value  map[string]string
	Style  ButtonStyle
}

// InputKind says which widget an input needs. Every kind's value comes
// back in Action.Inputs as one string, in the format named below.
type InputKind string

const (
	InputText        InputKind = ""             // one line of text
	InputTextarea    InputKind = "textarea"     // several lines
	InputNumber      InputKind = "number"       // a decimal number: "3", "2.5"
	InputMoney       InputKind = "money"        // an amount: "1280.50" (no currency sign)
	InputDate        InputKind = "date"         // "2026-12-01"
	InputDateRange   InputKind = "date_range"   // "2026-12-01~2026-12-03"
	InputSelect      InputKind = "select"       // one Option.Value
	InputMultiSelect InputKind = "multi_select" // Option.Values joined by ","
	InputUser        InputKind = "user"         // the chosen person's id on the platform the click came from (or a directory id, a name)
	InputFile        InputKind = "file"         // a file reference the adapter got from the platform
	InputBool        InputKind = "bool"         // "true" or "false"
)

// Option is one choice of a select input.
type Option struct {
	Value string
	Label string
	// Note is a line about this choice (the leave balance of a leave
	// type) that a platform shows while it is chosen, where its picker
	// allows: the playground under the picker, updated on change.
	Note string `json:"Note,omitempty"`
}

// Input is an input of a card (rejection reason, transfer target, a form
// field...). An adapter renders each Kind with the platform's native
// widget where it has one (select, date picker, person picker...) and
// falls back to a text input (with the options or the format as its
// placeholder) where it has none.
type Input struct {
	Name        string
	Label       string
	Placeholder string
	Kind        InputKind `json:"Kind,omitempty"`
	// Options are the choices of a select or multi_select input.
	Options []Option `json:"Options,omitempty"`
	// Value pre-fills the input (same format as the value sent back).
	Value string `json:"Value,omitempty"`
	// Required inputs must be filled before the form's submit button works
	// where the platform can enforce it; the bot checks again regardless.
	Required bool `json:"Required,omitempty"`
	// Error, when set, is shown by the input (highlighted) to say what is
	// wrong or missing, e.g. after a rejection without a reason.
	Error string
}

// Recipient is where an outbound message goes.
type Recipient struct {
	Platform string
	App      string // platform app (tenant), if the platform has several
	UserID   string // the user's id on the platform
	ChatID   string // a chat instead of a user, if set
}

// Messenger sends and updates messages on one platform. Each adapter
// implements it; the notifier uses it.
type Messenger interface {
	// Send delivers msg and returns a reference that Update accepts.
	// key is an idempotency key: sending the same key twice must not show
	// the message twice where the platform supports it.
	Send(ctx context.Context, to Recipient, msg Message, key string) (ref string, err error)
	// Update replaces the content of a sent message. When the message
	// cannot be updated any more (deleted on the platform, or held by
	// another process), the error wraps ErrMessageGone: the notifier then
	// skips that copy instead of retrying.
	Update(ctx context.Context, ref string, msg Message) error
}

// ErrMessageGone says a sent message can no longer be updated.
var ErrMessageGone = errors.New("message gone")

// StateStore keeps conversation state with a TTL.
type StateStore interface {
	// Get returns the value of key; ok is false when absent or expired.
	Get(ctx context.Context, key string) (val []byte, ok bool, err error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// Swap stores val under key for ttl only if key still holds old (old
	// nil: only if key is absent or expired), in one step; swapped is
	// false, and nothing changed, when it holds something else. A
	// handler that read a conversation thus never overwrites what another
	// handler of the same chat wrote meanwhile.
	Swap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (swapped bool, err error)
	Delete(ctx context.Context, key string) error
}

// Deduper remembers event ids.
type Deduper interface {
	// FirstSeen records key for ttl and reports whether this is the first
	// time it is seen (false: a duplicate).
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Locker gives named leases so that one replica runs a scheduled job.
type Locker interface {
	// TryLock takes lock name for owner for ttl and reports whether owner
	// holds it now. Calling it again as the holder renews the lease. A
	// lease not renewed before ttl ends can be taken by another owner.
	TryLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// Unlock releases the lock if owner holds it.
	Unlock(ctx context.Context, name, owner string) error
}
