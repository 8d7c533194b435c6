package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// Event types a subscription can ask for.
const (
	RequestSubmitted = "request.submitted"
	RequestApproved  = "request.approved"
	RequestRejected  = "request.rejected"
	RequestReturned  = "request.returned"
	RequestSentBack  = "request.sent_back"
	RequestWithdrawn = "request.withdrawn"
	RequestCancelled = "request.cancelled" // an approved request cancelled through its cancel flow
	TaskCreated      = "task.created"
	TaskDecided      = "task.decided"
	TaskOverdue      = "task.overdue"
	StepFailed       = "step.failed"
)

// AllTypes lists every event type, in the order of the docs.
var AllTypes = []string{
	RequestSubmitted, RequestApproved, RequestRejected, RequestReturned, RequestSentBack, RequestWithdrawn, RequestCancelled,
	TaskCreated, TaskDecided, TaskOverdue, StepFailed,
}

// TypeOf maps an entry of the engine's event log to a webhook event type,
// or "" when no webhook is sent for it (comments, reminders, step starts...).
func TypeOf(e *flows.Event) string {
	switch e.Type {
	case flows.EvSubmitted, flows.EvResubmitted:
		return RequestSubmitted
	case flows.EvReturned:
		return RequestReturned
	case flows.EvSentBack:
		return RequestSentBack
	case flows.EvWithdrawn:
		return RequestWithdrawn
	case flows.EvCancelled:
		return RequestCancelled
	case flows.EvTaskCreated:
		return TaskCreated
	case flows.EvApproved, flows.EvRejected:
		return TaskDecided
	case flows.EvEscalated, flows.EvTimedOut:
		return TaskOverdue
	case flows.EvCompleted:
		var d struct {
			Status flows.Status `json:"status"`
		}
		if json.Unmarshal(e.Data, &d) != nil {
			return ""
		}
		switch d.Status {
		case flows.StatusApproved:
			return RequestApproved
		case flows.StatusRejected:
			return RequestRejected
		case flows.StatusFailed:
			return StepFailed
		}
	}
	return ""
}

// Subscription is one receiver: the URL, the shared secret and which events
// of which flows it gets. Name identifies it (its cursor and deliveries).
type Subscription struct {
	Name   string   `yaml:"name" json:"name"`
	URL    string   `yaml:"url" json:"url"`
	Secret string   `yaml:"secret" json:"-"`
	Events []string `yaml:"events" json:"events"` // empty or "*": all
	Flows  []string `yaml:"flows" json:"flows"`   // empty: all flows
}

// Wants reports whether the subscription gets an event of type typ in flow.
func (s *Subscription) Wants(typ, flow string) bool {
	if typ == "" {
		return false
	}
	if len(s.Events) > 0 && !slices.Contains(s.Events, "*") && !slices.Contains(s.Events, typ) {
		return false
	}
	return len(s.Flows) == 0 || slices.Contains(s.Flows, flow)
}

// Status is the state of a delivery.
type Status string

const (
	StatusPending   Status = "pending"
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
)

// Delivery is one event to send to one subscription. Its ID is the
// X-Flowbot-Delivery header and the payload's id; it never changes, so a
// delivery sent again (after a crash or a retry) can be recognised.
type Delivery struct {
	ID           int64           `json:"id"`
	Subscription string          `json:"subscription"`
	EventID      int64           `json:"event_id"`
	InstanceID   int64           `json:"instance_id"`
	Type         string          `json:"type"`
	At           time.Time       `json:"at"`      // when the event happened
	Request      json.RawMessage `json:"request"` // snapshot when the delivery was made
	Task         json.RawMessage `json:"task,omitempty"`
	Status       Status          `json:"status"`
	Attempts     int             `json:"attempts"`
	NextAt       time.Time       `json:"next_at"`
	LastError    string          `json:"last_error,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	DeliveredAt  *time.Time      `json:"delivered_at,omitempty"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	DeliveryID int64         `json:"delivery_id"`
	At         time.Time     `json:"at"`
	StatusCode int           `json:"status_code"` // 0: no response
	Response   string        `json:"response"`    // excerpt, or the error
	Duration   time.Duration `json:"duration"`
}

// DeliveryFilter selects deliveries for listing. Zero fields do not filter.
type DeliveryFilter struct {
	Subscription string
	InstanceID   int64
	Status       Status
	Limit        int // 0 = 100
}

// ErrCursorMoved: AddDeliveries found the subscription's cursor elsewhere
// than expected (another dispatcher got there first); nothing was written.
var ErrCursorMoved = errors.New("webhook cursor moved")

// ErrNotFound: no such delivery.
var ErrNotFound = errors.New("webhook delivery not found")

// Store keeps subscriptions' cursors and leases, deliveries and attempts.
// Implemented by store/sqlite and store/postgres; webhookstest pins the
// behaviour. Times are kept at millisecond precision.
type Store interface {
	// Cursor returns the id of the last event sub has seen (0: none).
	Cursor(ctx context.Context, sub string) (int64, error)
	// AddDeliveries inserts ds (setting their ID, in order) and moves sub's
	// cursor from `from` to `to`, in one transaction. If the cursor is not
	// at `from`, it returns ErrCursorMoved and writes nothing.
	AddDeliveries(ctx context.Context, sub string, from, to int64, ds []*Delivery) error
	// DueDeliveries returns, by id, up to limit pending deliveries of sub
	// with NextAt <= now that are the oldest pending delivery of their
	// request (so that a failing delivery holds back its request only).
	DueDeliveries(ctx context.Context, sub string, now time.Time, limit int) ([]*Delivery, error)
	// RecordAttempt appends a and sets the delivery's status, attempts+1,
	// next try, last error (and delivered time when status is delivered).
	RecordAttempt(ctx context.Context, a *Attempt, status Status, next time.Time, lastError string) error
	// Delivery returns one delivery, or ErrNotFound.
	Delivery(ctx context.Context, id int64) (*Delivery, error)
	// Deliveries lists deliveries, newest first.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// Attempts lists the attempts of a delivery, oldest first.
	Attempts(ctx context.Context, id int64) ([]*Attempt, error)
	// Replay makes delivery id pending again, due at now (same id), or
	// returns ErrNotFound.
	Replay(ctx context.Context, id int64, now time.Time) error
	// AcquireLease gives sub's lease to owner until now+ttl if it is free,
	// expired or already owner's, and reports whether owner holds it.
	AcquireLease(ctx context.Context, sub, owner string, now time.Time, ttl time.Duration) (bool, error)
	// OldestPending returns the creation time of the oldest pending
	// delivery (ok=false: none), for the queue-lag metric.
	OldestPending(ctx context.Context) (at time.Time, ok bool, err error)
}

// EventSource is what the dispatcher reads from the flow store;
// flows.Store satisfies it.
type EventSource interface {
	Events(ctx context.Context, f flows.EventFilter) ([]*flows.Event, error)
	View(ctx context.Context, fn func(tx flows.Tx) error) error
}

// ErrExists: a subscription of that name exists already (stored, or in the
// configuration with deliveries of its own).
var ErrExists = errors.New("webhook subscription exists")

// ErrNoSubscription: no stored subscription of that name.
var ErrNoSubscription = errors.New("webhook subscription not found")

// SubscriptionStore keeps the subscriptions made at run time (API, CLI),
// beside those of the configuration. Implemented by store/sqlite and
// store/postgres; webhookstest.RunSubscriptions pins the behaviour. The
// secret is kept as it is: it signs every delivery.
type SubscriptionStore interface {
	// CreateSubscription keeps s. Its cursor starts at the current end of
	// the event log, or before the first event when fromStart. A name
	// already known (stored, or with a cursor) gives ErrExists.
	CreateSubscription(ctx context.Context, s Subscription, fromStart bool) error
	// Subscriptions lists the stored subscriptions by name.
	Subscriptions(ctx context.Context) ([]Subscription, error)
	// UpdateSubscription replaces the URL, events and flows of stored
	// subscription s.Name, and its secret when s.Secret is not empty; the
	// cursor stays. Unknown: ErrNoSubscription.
	UpdateSubscription(ctx context.Context, s Subscription) error
	// DeleteSubscription forgets a stored subscription: no new deliveries
	// are made for it; those made stay listed. Unknown: ErrNoSubscription.
	DeleteSubscription(ctx context.Context, name string) error
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidName reports whether name may name a subscription made at run
// time: 1 to 64 letters, digits, '_', '.' or '-'.
func ValidName(name string) bool { return nameRe.MatchString(name) }

// NewSecret returns a fresh signing secret for a subscription: shown once
// to whoever made it, kept to sign its deliveries.
func NewSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "whsec_" + hex.EncodeToString(b)
}

// PrivateTarget reports whether rawURL names a loopback, private or
// link-local address literally (or "localhost"): refused when a
// subscription is made unless private targets are allowed. Names that
// resolve to such addresses are refused later, when sending.
func PrivateTarget(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return true
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && Private(a)
}
