package flows

import (
	"encoding/json"
	"time"
)

// User is a person of the directory.
type User struct {
	ID    string `json:"id" yaml:"id"`
	Name  string `json:"name" yaml:"name"`
	Email string `json:"email,omitempty" yaml:"email"`
	// Mobile is a phone number from a synced platform directory; it is
	// only used to recognise one person across platforms.
	Mobile  string   `json:"mobile,omitempty" yaml:"mobile"`
	Dept    string   `json:"dept,omitempty" yaml:"dept"`
	Manager string   `json:"manager,omitempty" yaml:"manager"`
	Roles   []string `json:"roles,omitempty" yaml:"roles"`
	Locale  string   `json:"locale,omitempty" yaml:"locale"` // "zh-CN" or "en"
	TZ      string   `json:"tz,omitempty" yaml:"tz"`         // IANA name, e.g. Asia/Shanghai
	// Platforms maps a platform ("feishu", "wecom", "dingtalk", "teams",
	// "web") to the user's id there. Feishu ids may be qualified by app:
	// "feishu:cli_a1" -> open_id.
	Platforms map[string]string `json:"platforms,omitempty" yaml:"platforms"`
	// Departed marks a user who left: kept so that the audit trail still
	// names them, never given new tasks.
	Departed bool `json:"departed,omitempty" yaml:"departed"`
}

// HasRole reports whether the user has role r.
func (u *User) HasRole(r string) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Department is a unit of the organisation.
type Department struct {
	ID     string `json:"id" yaml:"id"`
	Name   string `json:"name" yaml:"name"`
	NameEN string `json:"name_en,omitempty" yaml:"name_en"`
	Head   string `json:"head,omitempty" yaml:"head"`
	Parent string `json:"parent,omitempty" yaml:"parent"`
}

// Status of an instance.
type Status string

const (
	StatusPending   Status = "pending"
	StatusReturned  Status = "returned" // back with the applicant to amend
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusWithdrawn Status = "withdrawn"
	StatusFailed    Status = "failed"
)

// Open reports whether the instance can still change.
func (s Status) Open() bool { return s == StatusPending || s == StatusReturned }

// Instance is one request: a flow run pinned to a definition version.
type Instance struct {
	ID          int64           `json:"id"`
	Number      string          `json:"number"` // LEAVE-20261126-0007
	FlowID      string          `json:"flow_id"`
	FlowVersion int             `json:"flow_version"`
	Applicant   string          `json:"applicant"`
	Status      Status          `json:"status"`
	Form        json.RawMessage `json:"form"`       // canonical flowdef.Values as JSON
	StepIndex   int             `json:"step_index"` // index into the definition's steps; -1 before start
	StepID      string          `json:"step_id"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	ClosedAt    *time.Time      `json:"closed_at,omitempty"`
	LastUrgeAt  *time.Time      `json:"last_urge_at,omitempty"`
	// Rev is the optimistic lock: every change to the instance or its tasks
	// bumps it, and UpdateInstance fails with ErrConflict when it moved.
	Rev int64 `json:"rev"`
}

// TaskStatus is the state of one approver's share of a step.
type TaskStatus string

const (
	TaskQueued      TaskStatus = "queued" // waits its turn (sequence mode, add-signer after)
	TaskPending     TaskStatus = "pending"
	TaskApproved    TaskStatus = "approved"
	TaskRejected    TaskStatus = "rejected"
	TaskTransferred TaskStatus = "transferred"
	TaskCancelled   TaskStatus = "cancelled" // another approver decided (any), or the request ended
	TaskExpired     TaskStatus = "expired"   // final timeout with on_timeout none never expires; approve/reject do
	TaskReturned    TaskStatus = "returned"  // the approver returned the request to the applicant
	TaskSentBack    TaskStatus = "sent_back" // the approver sent the request back to an earlier step
)

// Task is one approver's share of an approve step.
type Task struct {
	ID         int64      `json:"id"`
	InstanceID int64      `json:"instance_id"`
	StepID     string     `json:"step_id"`
	Seq        int        `json:"seq"` // order inside the step (sequence mode, add signer)
	Assignee   string     `json:"assignee"`
	Status     TaskStatus `json:"status"`
	Comment    string     `json:"comment,omitempty"`
	// DecidedBy is who closed the task: the assignee, or "system" for an
	// automatic action, or the approver whose decision cancelled it.
	DecidedBy string     `json:"decided_by,omitempty"`
	Auto      bool       `json:"auto,omitempty"` // decided by a timeout policy
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at,omitempty"` // became pending
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	// Deadlines, absolute. DueAt is the earliest of the ones still ahead and
	// is what Tick looks up through an index; nil = nothing due.
	RemindAt   *time.Time `json:"remind_at,omitempty"`
	EscalateAt *time.Time `json:"escalate_at,omitempty"`
	TimeoutAt  *time.Time `json:"timeout_at,omitempty"`
	DueAt      *time.Time `json:"due_at,omitempty"`
	Reminders  int        `json:"reminders"`
	Escalated  bool       `json:"escalated"`
	From       string     `json:"from,omitempty"` // transferred from / added by
	Note       string     `json:"note,omitempty"` // transfer reason, add-signer note
	// OnBehalfOf is the approver the task was meant for when a delegation
	// gave it to Assignee instead ("" = not delegated).
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
}

// Open reports whether the task still waits for a decision.
func (t *Task) Open() bool { return t.Status == TaskPending || t.Status == TaskQueued }

// EventType names an entry of the event log.
type EventType string

const (
	EvSubmitted   EventType = "submitted"
	EvResubmitted EventType = "resubmitted"
	EvStepStarted EventType = "step_started"
	EvStepSkipped EventType = "step_skipped"
	EvStepDone    EventType = "step_done"
	EvTaskCreated EventType = "task_created"
	EvApproved    EventType = "approved"
	EvRejected    EventType = "rejected"
	EvReturned    EventType = "returned"
	EvSentBack    EventType = "sent_back" // back to an earlier step (Data: by, comment, step, to)
	EvTransferred EventType = "transferred"
	EvSignerAdded EventType = "signer_added"
	EvCommented   EventType = "commented"
	EvUrged       EventType = "urged"
	EvReminded    EventType = "reminded"
	EvEscalated   EventType = "escalated"
	EvTimedOut    EventType = "timed_out"
	EvWithdrawn   EventType = "withdrawn"
	EvCC          EventType = "cc"
	EvHTTPCalled  EventType = "http_called"
	EvCompleted   EventType = "completed" // Data["status"] = approved | rejected | failed
	EvDelegated   EventType = "delegated" // a pending task handed to a delegate (Data: to, for)
)

// Event is one appended, never-edited entry of the event log.
type Event struct {
	ID         int64           `json:"id"`
	InstanceID int64           `json:"instance_id"`
	TaskID     int64           `json:"task_id,omitempty"`
	FlowID     string          `json:"flow_id"`
	StepID     string          `json:"step_id,omitempty"`
	Type       EventType       `json:"type"`
	Actor      string          `json:"actor"` // user id, or "system"
	Auto       bool            `json:"auto,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	At         time.Time       `json:"at"`
}

// MsgKind says what an outbox message tells its recipient.
type MsgKind string

const (
	MsgTask        MsgKind = "task"        // a new task card for an approver
	MsgCardUpdate  MsgKind = "card_update" // update every sent copy of TaskID's card
	MsgSubmitted   MsgKind = "submitted"   // to the applicant: request filed, route
	MsgApproved    MsgKind = "approved"    // to the applicant: request approved
	MsgRejected    MsgKind = "rejected"    // to the applicant: rejected (Data: by, comment, auto)
	MsgReturned    MsgKind = "returned"    // to the applicant: amend and resubmit
	MsgSentBack    MsgKind = "sent_back"   // to the applicant: sent back to an earlier step (Data: by, comment, step, to)
	MsgFailed      MsgKind = "failed"      // to the applicant: an http step failed
	MsgProgress    MsgKind = "progress"    // to the applicant: a step was approved, next step
	MsgReminder    MsgKind = "reminder"    // to an assignee
	MsgEscalation  MsgKind = "escalation"  // to the escalation target (Data: task, assignee)
	MsgCC          MsgKind = "cc"          // CC notice / notify step
	MsgUrge        MsgKind = "urge"        // the applicant nudges an assignee
	MsgComment     MsgKind = "comment"     // a comment to the other participants
	MsgTransferred MsgKind = "transferred" // to the previous assignee
	MsgWithdrawn   MsgKind = "withdrawn"   // to the assignees of a withdrawn request
	MsgHTTP        MsgKind = "http"        // run the http step StepID (no recipient)
	MsgText        MsgKind = "text"        // free text in Data["text"] (digest, report)
	MsgReply       MsgKind = "reply"       // the bot's answer in a chat: Data is {"to": recipient, "msg": message} (bots)
)

// OutboxStatus is the delivery state of an outbox message.
type OutboxStatus string

const (
	OutboxPending   OutboxStatus = "pending"
	OutboxDelivered OutboxStatus = "delivered"
	OutboxFailed    OutboxStatus = "failed"
)

// OutboxMessage is a message an engine call causes: written in the same
// transaction as the state change, delivered later by the notifier.
type OutboxMessage struct {
	ID          int64           `json:"id"`
	Kind        MsgKind         `json:"kind"`
	Recipient   string          `json:"recipient,omitempty"` // directory user id
	InstanceID  int64           `json:"instance_id,omitempty"`
	TaskID      int64           `json:"task_id,omitempty"`
	StepID      string          `json:"step_id,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Status      OutboxStatus    `json:"status"`
	Attempts    int             `json:"attempts"`
	NextAt      time.Time       `json:"next_at"` // not before; also the claim lease end
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
}

// MessageRef records one platform message that shows a card, so that later
// changes can update every copy.
type MessageRef struct {
	InstanceID int64     `json:"instance_id"`
	TaskID     int64     `json:"task_id,omitempty"`
	Recipient  string    `json:"recipient"`
	Platform   string    `json:"platform"`
	Ref        string    `json:"ref"` // the platform's message id (adapter-defined)
	CreatedAt  time.Time `json:"created_at"`
	// Kind and Data are the notice the copy was sent as (approved,
	// rejected, sent back, ...): a later update of the request's cards
	// shows the copy again under its own headline. Empty for a plain
	// request or task card (and for copies recorded by a click).
	Kind MsgKind         `json:"kind,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// FlowVersion is one stored version of a flow's YAML.
type FlowVersion struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Source    []byte    `json:"-"`
	Hash      string    `json:"hash"`
	Deleted   bool      `json:"deleted"`
	CreatedAt time.Time `json:"created_at"`
}
