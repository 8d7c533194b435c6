package flows

import (
	"cmp"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/workcal"
)

// Clock tells the time. Tests inject a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// System is the actor of automatic actions in events and tasks.
const System = "system"

// Config configures an Engine.
type Config struct {
	Store Store
	Clock Clock // default SystemClock
	// Calendar is the business calendar of flows that count working time.
	// Default: workcal.Default() (09:00-18:00 Mon-Fri, Asia/Shanghai).
	Calendar *workcal.Calendar
	// UrgeInterval is how often an applicant may urge one request (default 1h).
	UrgeInterval time.Duration
	// HTTPClient runs http steps (default: a client with no global timeout;
	// each step has its own).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Engine runs flows: every call is one store transaction that checks the
// actor's right, writes the change, its events and its outbox messages.
type Engine struct {
	store   Store
	clock   Clock
	cal     *workcal.Calendar
	urgeGap time.Duration
	http    *http.Client
	log     *slog.Logger
	defs    *defCache
	zones   *zoneCache
	// latest is the latest version of each flow by id or alias, and
	// delegs the delegations of each approver, both for at most Recheck
	// (defcache.go).
	latest *timedCache[FlowInfo]
	delegs *timedCache[cachedDelegations]
	// recent is the state of the instances its operations wrote last,
	// where decisions start (recent.go).
	recent *recent
	// recentViews says the store's write transactions are AfterCommitters:
	// the recent states are recorded as they commit and serve views.
	recentViews atomic.Bool
}

// zoneCache keeps the time zones loaded by name: time.LoadLocation reads
// and parses a zoneinfo file on every call.
type zoneCache struct{ m sync.Map } // name -> *time.Location

func (c *zoneCache) load(name string) (*time.Location, error) {
	if l, ok := c.m.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	c.m.Store(name, l)
	return l, nil
}

// New returns an engine over cfg.Store.
func New(cfg Config) *Engine {
	e := &Engine{
		store:   cfg.Store,
		clock:   cmp.Or[Clock](cfg.Clock, SystemClock{}),
		cal:     cfg.Calendar,
		urgeGap: cmp.Or(cfg.UrgeInterval, time.Hour),
		http:    cfg.HTTPClient,
		log:     cmp.Or(cfg.Logger, slog.Default()),
		defs:    newDefCache(),
		zones:   &zoneCache{},
		latest:  newTimedCache[FlowInfo](Recheck),
		delegs:  newTimedCache[cachedDelegations](Recheck),
		recent:  newRecent(recentInstances),
	}
	if e.cal == nil {
		e.cal = workcal.Default()
	}
	if e.http == nil {
		e.http = &http.Client{}
	}
	return e
}

// ForgetRecent forgets what the engine kept of the requests its
// operations wrote (recent.go). Call it when a writer other than this
// engine changed requests in its store: with SQLite, another process
// (sqlite.DB.OnForeignWrite).
func (e *Engine) ForgetRecent() { e.recent.clear() }

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// Now returns the engine clock's time.
func (e *Engine) Now() time.Time { return e.clock.Now() }

// WorkCalendar is the business calendar that counts working days.
func (e *Engine) WorkCalendar() flowdef.WorkCalendar { return e.cal }

// LocalNow is Now in the business calendar's time zone: the clock that
// says which day today is for "not in the past" rules.
func (e *Engine) LocalNow() time.Time { return e.clock.Now().In(e.cal.Location) }

// Outcome is what an engine call changed: enough for the chat layer to
// answer a click at once (toast + updated card) without another round trip.
type Outcome struct {
	Instance *Instance
	Def      *flowdef.Definition
	// Task is the task acted on (Decide, Transfer, AddSigner), after the change.
	Task *Task
	// Form is the instance's form, canonical; Applicant the applicant.
	Form      flowdef.Values
	Applicant *User
	// Tasks are all tasks of the instance after the change.
	Tasks  []*Task
	Events []*Event
	Outbox []*OutboxMessage
}

// SubmitRequest files a new request.
type SubmitRequest struct {
	Actor  string // directory user id of the applicant
	FlowID string // flow id or alias
	// Values maps field ids to values: canonical flowdef values, or the
	// JSON-decoded forms flowdef.Normalize accepts (strings, numbers...).
	Values map[string]any
	// Key makes the submission idempotent: a second Submit by the same
	// actor with the same key (a double click on Submit, a redelivered
	// event) files nothing and answers CodeConflict "already_submitted".
	Key string
	// Told says the applicant sees the filed request already (the chat
	// answered with its card): no separate "submitted" message is sent.
	Told bool
	// ReplyTo, when set, sends the "submitted" message into the chat it
	// names (an address the chat layer encodes; the engine stores it as
	// Data["reply_to"]), written in the same transaction as the request:
	// the confirmation of a request filed in chat is never lost.
	ReplyTo json.RawMessage
}

// DecideRequest approves or rejects a task.
type DecideRequest struct {
	Actor   string
	TaskID  int64
	Approve bool
	Comment string
	// Outcome says what a "no" does, among the outcomes the step offers
	// (flowdef.Step.Rejects): end the request (reject), return it to the
	// applicant, or send it back to an earlier step. Empty: the step's
	// first outcome. Set only with Approve false.
	Outcome flowdef.RejectAction
	// ToStep is the earlier step a send-back goes to: an approve step this
	// request already passed on its current route (SendBackTargets).
	ToStep string
}

// SignerPosition says where AddSigner puts the new signer.
type SignerPosition string

const (
	SignBefore    SignerPosition = "before"    // the signer decides first, then me again
	SignAfter     SignerPosition = "after"     // the signer decides after I approve
	SignAlongside SignerPosition = "alongside" // the signer decides together with me (all must approve)
)

// View is everything needed to show one request.
type View struct {
	Instance  *Instance
	Def       *flowdef.Definition
	Form      flowdef.Values
	Applicant *User
	Tasks     []*Task
	Events    []*Event
	// Route is the ordered list of steps still to come with their resolved
	// approvers (computed from the current form), for "who will approve".
	Route []RouteStep
}

// RouteStep is one step of a request's route.
type RouteStep struct {
	StepID    string
	Name      flowdef.Text
	Kind      flowdef.StepKind
	Mode      flowdef.Mode
	Approvers []string // user ids
	Status    string   // "done", "current", "upcoming", "skipped"
}

// TickResult counts what one Tick did.
type TickResult struct {
	Reminded  int
	Escalated int
	TimedOut  int
}
