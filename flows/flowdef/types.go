package flowdef

import (
	"slices"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Text is a user-facing string in Chinese and English.
type Text struct {
	ZH string `yaml:"zh" json:"zh"`
	EN string `yaml:"en" json:"en"`
}

// In returns the text for locale ("zh..." or anything else = en), falling
// back to the other language when one is empty.
func (t Text) In(locale string) string {
	if len(locale) >= 2 && locale[:2] == "zh" {
		if t.ZH != "" {
			return t.ZH
		}
		return t.EN
	}
	if t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// FieldType is the type of a form field.
type FieldType string

const (
	FieldText        FieldType = "text"
	FieldTextarea    FieldType = "textarea"
	FieldNumber      FieldType = "number"
	FieldMoney       FieldType = "money"
	FieldDate        FieldType = "date"
	FieldDateRange   FieldType = "daterange"
	FieldSelect      FieldType = "select"
	FieldMultiSelect FieldType = "multiselect"
	FieldUser        FieldType = "user"
	FieldBool        FieldType = "bool"
	// FieldFile is an attachment: a file or image sent in the chat or
	// uploaded in the playground, kept in the blob store.
	FieldFile FieldType = "file"
)

// Option is one choice of a select or multiselect field.
type Option struct {
	Value string `yaml:"value" json:"value"`
	Label Text   `yaml:"label" json:"label"`
}

// How a daterange's length is counted (Field.Count).
const (
	CountWorkdays = "workdays"
	CountCalendar = "calendar"
)

// CountsWorkdays reports whether a daterange field's length is counted in
// working days.
func (f *Field) CountsWorkdays() bool { return f.Type == FieldDateRange && f.Count != CountCalendar }

// Field is one form field of a flow.
type Field struct {
	ID       string    `json:"id"`
	Type     FieldType `json:"type"`
	Label    Text      `json:"label"`
	Help     Text      `json:"help"`
	Required bool      `json:"required"`
	// Min and Max bound numbers and money (in major units), text length
	// (characters), date ranges (days) and multiselect counts. Nil = unbounded.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Currency of a money field: CNY (default) or USD.
	Currency string   `json:"currency,omitempty"`
	Options  []Option `json:"options,omitempty"`
	// Default is the canonical value used when the applicant gives none.
	Default any `json:"default,omitempty"`
	// Pattern is a regular expression (RE2) that a text or textarea
	// answer must match as a whole.
	Pattern string `json:"pattern,omitempty"`
	// NotPast refuses dates (date, and the first day of a date range)
	// before today.
	NotPast bool `json:"not_past,omitempty"`
	// Count says how a daterange's length is counted on cards and by the
	// chat: CountWorkdays (the default: working days of the business
	// calendar) or CountCalendar (every day). Conditions have both, as
	// .workdays and .days; min and max count calendar days.
	Count string `json:"count,omitempty"`
	// MaxSize bounds a file field's size in bytes (0: the server's limit).
	MaxSize int64 `json:"max_size,omitempty"`
	// Accept lists the content types a file field takes, as sniffed from
	// the content: "application/pdf", or a family "image/*" (empty: any
	// type but executables, which are always refused).
	Accept []string `json:"accept,omitempty"`
	Line   int      `json:"-"`
}

// Form values in their canonical form, as stored in an instance and as seen by
// `when` expressions:
//
//	text, textarea, select, user, date ("2006-01-02"): string
//	number: float64
//	money: Money
//	daterange: DateRange
//	multiselect: []string
//	bool: bool
type Values map[string]any

// Money is an amount in minor units (fen, cent): never a float.
type Money struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

// File is an attachment kept in the blob store: the key names it there,
// the rest describes it. Its content is never in a form value.
type File struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Type string `json:"type"` // sniffed content type
	Size int64  `json:"size"` // bytes
	// Unscanned: the virus scanner could not check the file and the
	// server is set to keep such files (cards say so).
	Unscanned bool `json:"unscanned,omitempty"`
}

// DateRange is an inclusive range of dates with its length in days.
type DateRange struct {
	From string `json:"from"` // 2006-01-02
	To   string `json:"to"`   // 2006-01-02
	Days int    `json:"days"` // inclusive calendar days
}

// StepKind is what a step does.
type StepKind string

const (
	StepApprove StepKind = "approve"
	StepNotify  StepKind = "notify"
	StepHTTP    StepKind = "http"
)

// Mode says how the approvers of one approve step decide.
type Mode string

const (
	ModeAny      Mode = "any"      // 或签: the first decision wins
	ModeAll      Mode = "all"      // 会签: every approver approves, one rejection rejects
	ModeSequence Mode = "sequence" // 依次: one after another
)

// SelectorKind names how approvers (or CC recipients, or escalation targets)
// are found.
type SelectorKind string

const (
	SelUser     SelectorKind = "user"      // Value = directory user id
	SelRole     SelectorKind = "role"      // Value = role name
	SelManager  SelectorKind = "manager"   // Level = 1 direct manager, 2 the manager's manager...
	SelDeptHead SelectorKind = "dept_head" // head of the applicant's department
	SelField    SelectorKind = "field"     // Value = id of a user field of the form
)

// Selector finds zero or more directory users. YAML forms:
//
//   - user: lilei
//   - role: hr
//   - manager: 1          # levels up from the applicant (or from the assignee for escalation)
//   - dept_head: true
//   - field: approver
type Selector struct {
	Kind  SelectorKind `json:"kind"`
	Value string       `json:"value,omitempty"`
	Level int          `json:"level,omitempty"`
	Line  int          `json:"-"`
}

// TimeoutAction is what happens when a task reaches its final timeout.
type TimeoutAction string

const (
	TimeoutNothing TimeoutAction = "none"    // keep waiting (default)
	TimeoutApprove TimeoutAction = "approve" // auto-approve, recorded as automatic
	TimeoutReject  TimeoutAction = "reject"  // auto-reject, recorded as automatic
)

// Deadline is the deadline policy of a step (or the flow-wide default).
// Zero durations mean "not set". Durations count calendar or working time
// according to Definition.Calendar.
type Deadline struct {
	RemindAfter   time.Duration `json:"remind_after,omitempty"`
	RemindEvery   time.Duration `json:"remind_every,omitempty"`
	EscalateAfter time.Duration `json:"escalate_after,omitempty"`
	// EscalationDecides lets the people a task was escalated to approve
	// or reject it on the assignee's behalf (they may always urge,
	// transfer and comment).
	EscalationDecides bool `json:"escalation_decides,omitempty"`
	// EscalateTo finds who gets the escalation. A manager selector counts
	// levels up from the assignee. Empty = the assignee's manager.
	EscalateTo   []Selector    `json:"escalate_to,omitempty"`
	TimeoutAfter time.Duration `json:"timeout_after,omitempty"`
	OnTimeout    TimeoutAction `json:"on_timeout,omitempty"`
}

// IsZero reports whether no part of the policy is set.
func (d Deadline) IsZero() bool {
	return d.RemindAfter == 0 && d.RemindEvery == 0 && d.EscalateAfter == 0 && d.TimeoutAfter == 0
}

// RejectAction is what a "no" from an approver does to the request. A
// step offers a set of them (on_reject); the first is what a plain reject
// does.
type RejectAction string

const (
	RejectEnd      RejectAction = "end"       // the request ends rejected (default)
	RejectReturn   RejectAction = "return"    // back to the applicant to amend and resubmit
	RejectSendBack RejectAction = "send_back" // back to an earlier step of the request, whose approvers decide again
)

// RejectActions lists every RejectAction, in the order cards offer them.
var RejectActions = []RejectAction{RejectEnd, RejectReturn, RejectSendBack}

// Rejects is the set of outcomes other than approval that the step
// offers, first = the default of a plain reject: OnReject, then OnRejectAlso.
func (s *Step) Rejects() []RejectAction {
	out := []RejectAction{s.OnReject}
	if s.OnReject == "" {
		out[0] = RejectEnd
	}
	return append(out, s.OnRejectAlso...)
}

// Offers reports whether the step lets its approvers choose a.
func (s *Step) Offers(a RejectAction) bool {
	return slices.Contains(s.Rejects(), a)
}

// EmptyAction is what happens when the approver selectors find nobody.
type EmptyAction string

const (
	EmptySkip     EmptyAction = "skip"     // skip the step (default)
	EmptyFallback EmptyAction = "fallback" // route to Step.Fallback
)

// HTTPCall is the external call of an http step.
type HTTPCall struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"` // may contain {{ }} templates
	Headers map[string]string `json:"headers,omitempty"`
	// Body is a text/template rendered with .Form (Values), .Instance
	// (number, id, flow, applicant) and .Applicant; the result must be JSON.
	Body      string        `json:"body,omitempty"`
	Timeout   time.Duration `json:"timeout"`    // default 10s
	Retries   int           `json:"retries"`    // extra attempts after the first, default 2
	OnFailure string        `json:"on_failure"` // "fail" (default: the instance fails) or "continue"
}

// MaxHTTPWorstCase bounds HTTPCall.WorstCase: an http step is performed
// while its outbox message is leased by the notifier (lease 1 minute, work
// finished within 45s); a longer call would be handed to a second worker
// and made twice.
const MaxHTTPWorstCase = 40 * time.Second

// HTTPRetryWait is the wait before retry n (1, 2, ...) of an http step:
// 200ms doubling, at most 2s (200ms, 400ms, 800ms, 2s, 2s...), as the
// engine waits.
func HTTPRetryWait(n int) time.Duration {
	switch {
	case n < 1:
		return 0
	case n >= 4:
		return 2 * time.Second
	}
	return 200 * time.Millisecond << (n - 1)
}

// WorstCase is the longest an http step can take: every attempt
// (1 + Retries) reaching Timeout, plus the waits between attempts. Retries
// outside 0..10 count as 10.
func (c *HTTPCall) WorstCase() time.Duration {
	if c.Retries < 0 || c.Retries > 10 {
		c2 := *c
		c2.Retries = 10
		return c2.WorstCase()
	}
	total := c.Timeout * time.Duration(c.Retries+1)
	for n := 1; n <= c.Retries; n++ {
		total += HTTPRetryWait(n)
	}
	return total
}

// Step is one step of a flow.
type Step struct {
	ID   string   `json:"id"`
	Name Text     `json:"name"`
	Kind StepKind `json:"kind"`
	// When is the source of the condition; empty = always. Compiled at load.
	When      string     `json:"when,omitempty"`
	Approvers []Selector `json:"approvers,omitempty"`
	Mode      Mode       `json:"mode,omitempty"`
	// Deadline overrides the flow default key by key (see DeadlineOf).
	Deadline *Deadline  `json:"deadline,omitempty"`
	CC       []Selector `json:"cc,omitempty"`
	// OnReject is what a plain reject does (the first outcome listed in
	// on_reject); OnRejectAlso the other outcomes the step offers.
	OnReject     RejectAction   `json:"on_reject,omitempty"`
	OnRejectAlso []RejectAction `json:"on_reject_also,omitempty"`
	OnEmpty      EmptyAction    `json:"on_empty,omitempty"`
	Fallback     []Selector     `json:"fallback,omitempty"`
	// Notify is the message of a notify step (CC Selectors get it).
	Notify Text      `json:"notify,omitempty"`
	HTTP   *HTTPCall `json:"http,omitempty"`
	Line   int       `json:"-"`

	when *vm.Program
}

// Starters says who may start a flow. Everyone, or anyone having one of the
// roles or belonging to one of the departments (or their sub-departments).
type Starters struct {
	Everyone    bool     `json:"everyone"`
	Roles       []string `json:"roles,omitempty"`
	Departments []string `json:"departments,omitempty"`
}

// CalendarKind says how deadline durations are counted.
type CalendarKind string

const (
	CalendarNatural CalendarKind = "calendar" // wall-clock time (default)
	CalendarWorking CalendarKind = "working"  // working time on the business calendar
)

// Definition is one version of a flow, parsed and checked.
type Definition struct {
	ID          string       `json:"id"`
	Name        Text         `json:"name"`
	Description Text         `json:"description"`
	Aliases     []string     `json:"aliases"`
	Starters    Starters     `json:"start"`
	Fields      []Field      `json:"fields"`
	Steps       []Step       `json:"steps"`
	Deadline    Deadline     `json:"deadline"`
	Calendar    CalendarKind `json:"calendar"`
	// Prefix of request numbers (LEAVE in LEAVE-20261126-0007); default the
	// upper-cased id.
	NumberPrefix string `json:"number_prefix"`
	// OnApproved is what an approved request sets beside its outcome.
	OnApproved OnApproved `json:"on_approved"`
	// Satisfaction: the applicant may rate a finished request 1-5.
	Satisfaction bool `json:"satisfaction"`
	// Balance ties the flow to leave balances (balance.go); nil = none.
	Balance *BalanceRule `json:"balance,omitempty"`
	// Cancel lets the applicant cancel an approved request through a
	// cancel flow (balance.go); nil = approved requests stay.
	Cancel *CancelRule `json:"cancel,omitempty"`
	// Owner is the user id of who answers for the flow: they get its
	// monthly process-health report ("" = nobody).
	Owner string `json:"owner,omitempty"`

	idLine int // line of the id key, for errors across files
}

// OnApproved is what an approved request sets: with DelegateField, a
// delegation of the applicant's approvals to the user of that field for
// the days of PeriodField (a daterange field; default the first one).
type OnApproved struct {
	DelegateField string `json:"delegate_field,omitempty"`
	PeriodField   string `json:"period_field,omitempty"`
	// CancelField (of a cancel flow): the text field holding the number of
	// the approved request that an approval of this request cancels.
	CancelField string `json:"cancel_field,omitempty"`
}

// Field returns the field with id, or nil.
func (d *Definition) Field(id string) *Field {
	for i := range d.Fields {
		if d.Fields[i].ID == id {
			return &d.Fields[i]
		}
	}
	return nil
}

// Step returns the step with id and its index, or nil and -1.
func (d *Definition) Step(id string) (*Step, int) {
	for i := range d.Steps {
		if d.Steps[i].ID == id {
			return &d.Steps[i], i
		}
	}
	return nil, -1
}

// DeadlineOf returns the effective deadline policy of a step: the flow
// default merged key by key with the step's deadline, each key the step
// sets (a non-zero duration, a non-empty escalate_to or on_timeout)
// replacing the flow's.
func (d *Definition) DeadlineOf(s *Step) Deadline {
	if s.Deadline == nil {
		return d.Deadline
	}
	return mergeDeadline(d.Deadline, *s.Deadline)
}

func mergeDeadline(base, over Deadline) Deadline {
	out := base
	if over.RemindAfter != 0 {
		out.RemindAfter = over.RemindAfter
	}
	if over.RemindEvery != 0 {
		out.RemindEvery = over.RemindEvery
	}
	if over.EscalateAfter != 0 {
		out.EscalateAfter = over.EscalateAfter
	}
	if len(over.EscalateTo) > 0 {
		out.EscalateTo = over.EscalateTo
	}
	if over.TimeoutAfter != 0 {
		out.TimeoutAfter = over.TimeoutAfter
	}
	if over.OnTimeout != "" {
		out.OnTimeout = over.OnTimeout
	}
	out.EscalationDecides = out.EscalationDecides || over.EscalationDecides
	return out
}

// Applicant is what `when` expressions see as `applicant`.
type Applicant struct {
	ID      string   `expr:"id"`
	Name    string   `expr:"name"`
	Dept    string   `expr:"dept"`
	Roles   []string `expr:"roles"`
	Manager string   `expr:"manager"`
}
