package flows

import (
	"context"
	"errors"
	"time"
)

// Store errors. Implementations return these (wrapped is fine) so that the
// engine and the conformance suite can branch on them.
var (
	// ErrNotFound: the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: an optimistic update lost (Instance.Rev moved), or a
	// unique key was taken. The engine retries the whole operation.
	ErrConflict = errors.New("conflict")
)

// Store is what the engine needs from a database. One implementation per
// engine (store/sqlite, store/postgres); all run flows/flowstest, which
// pins what this comment leaves open:
//
//   - Orderings: Instances newest first; Tasks, Events, TasksOf and EventsOf
//     by id; ClaimOutbox by NextAt then id; Outbox newest first;
//     MessageRefs in the order saved.
//   - A rolled-back NextNumber is not consumed; writes inside View fail.
//   - MarkFailed also counts the attempt.
//   - A ReplaceDirectory that fails (duplicate id, empty id, a platform id
//     used twice) leaves the old directory intact.
//   - DeleteFlow, UpdateTask and Mark* of an unknown id give ErrNotFound.
//   - Never call a write method of the store from inside an Update
//     callback (on SQLite the single writer connection is busy); reads are
//     fine.
type Store interface {
	// Update runs fn in one read-write transaction: everything fn writes
	// commits together or not at all. fn's error is returned unchanged
	// (after rollback).
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(tx Tx) error) error

	// Flows. SaveFlow stores source as a new version of flow id unless the
	// latest version has the same hash (then it returns that version and
	// created=false). A deleted flow saved again is undeleted.
	SaveFlow(ctx context.Context, id string, source []byte, hash string) (version int, created bool, err error)
	// Flow returns version v of flow id (v = 0: the latest, even if deleted).
	Flow(ctx context.Context, id string, v int) (*FlowVersion, error)
	// LatestFlows returns the latest version of every flow not deleted,
	// ordered by id.
	LatestFlows(ctx context.Context) ([]*FlowVersion, error)
	// DeleteFlow marks a flow deleted; its versions stay for running instances.
	DeleteFlow(ctx context.Context, id string) error

	// Directory. ReplaceDirectory swaps the whole directory atomically.
	ReplaceDirectory(ctx context.Context, users []*User, depts []*Department) error
	User(ctx context.Context, id string) (*User, error)
	// UserByPlatform finds a user by platform key and the id there.
	UserByPlatform(ctx context.Context, platform, platformID string) (*User, error)
	// UserByEmail finds a user by email (case-insensitive).
	UserByEmail(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	UsersWithRole(ctx context.Context, role string) ([]*User, error)
	Department(ctx context.Context, id string) (*Department, error)
	Departments(ctx context.Context) ([]*Department, error)

	// Queries outside transactions.
	Instances(ctx context.Context, f InstanceFilter) ([]*Instance, error)
	Tasks(ctx context.Context, f TaskFilter) ([]*Task, error)
	Events(ctx context.Context, f EventFilter) ([]*Event, error)

	// Outbox delivery (used by the notifier). ClaimOutbox returns up to
	// limit pending messages with NextAt <= now, oldest first, and moves
	// their NextAt to now+lease so that no other claimer gets them until
	// the lease ends. Several processes may claim at once: no message is
	// handed to two claimers within its lease.
	ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*OutboxMessage, error)
	// MarkDelivered marks a message delivered.
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	// MarkRetry records a failed attempt: Attempts+1, LastError, NextAt.
	MarkRetry(ctx context.Context, id int64, next time.Time, errText string) error
	// MarkFailed records the last failed attempt: status failed.
	MarkFailed(ctx context.Context, id int64, errText string) error
	// Outbox lists messages by status (newest first), for admins and tests.
	Outbox(ctx context.Context, status OutboxStatus, limit int) ([]*OutboxMessage, error)
	// OutboxDepth counts pending messages.
	OutboxDepth(ctx context.Context) (int, error)

	// Message references of sent cards.
	SaveMessageRef(ctx context.Context, ref *MessageRef) error
	// MessageRefs returns the references of a request's cards (taskID 0:
	// all of them), in the order they were saved.
	MessageRefs(ctx context.Context, instanceID int64, taskID int64) ([]*MessageRef, error)

	// Delegations (delegate.go).
	DelegationStore
	// Leave balances (balance.go).
	BalanceStore

	Close() error
}

// AfterCommitter is an optional interface of the write Tx of a store that
// this process alone writes (SQLite): AfterCommit runs fn once the
// transaction committed, before any later write transaction of the store
// begins and before the outbox messages it wrote reach a sender. fn must
// be quick and must not use the store. The engine then records what its
// operations wrote as they commit and serves views of those requests
// without reading them (recent.go).
type AfterCommitter interface {
	AfterCommit(fn func())
}

// Tx is one transaction. All writes of one engine call go through one Tx.
type Tx interface {
	// NextNumber returns the next sequence number (1, 2, ...) for key
	// (e.g. "LEAVE-20261126").
	NextNumber(key string) (int, error)

	// CreateInstance inserts in and sets in.ID and in.Rev = 1.
	CreateInstance(in *Instance) error
	Instance(id int64) (*Instance, error)
	InstanceByNumber(number string) (*Instance, error)
	// UpdateInstance writes in if its stored Rev equals in.Rev, and then
	// increments in.Rev; otherwise ErrConflict and nothing is written.
	UpdateInstance(in *Instance) error

	// CreateTask inserts t and sets t.ID.
	CreateTask(t *Task) error
	Task(id int64) (*Task, error)
	// UpdateTask overwrites t (the instance's Rev guards concurrency).
	UpdateTask(t *Task) error
	// TasksOf returns the tasks of an instance ordered by id.
	TasksOf(instanceID int64) ([]*Task, error)
	// DueTasks returns up to limit pending tasks with DueAt <= now, earliest
	// first, through an index (never a scan of all open tasks).
	DueTasks(now time.Time, limit int) ([]*Task, error)

	// AppendEvent inserts e and sets e.ID.
	AppendEvent(e *Event) error
	// EventsOf returns the events of an instance in order.
	EventsOf(instanceID int64) ([]*Event, error)
	// Enqueue inserts m (status pending; the engine sets NextAt and
	// CreatedAt) and sets m.ID.
	Enqueue(m *OutboxMessage) error

	// Reads of the directory and flows during an operation, so that it
	// never needs a second connection while it holds this one (with a
	// bounded pool, that would deadlock under load). Same results as the
	// Store methods of the same names.
	User(id string) (*User, error)
	UsersWithRole(role string) ([]*User, error)
	Department(id string) (*Department, error)
	Flow(id string, v int) (*FlowVersion, error)

	// Delegations (delegate.go).
	DelegationTx
	// Leave balances (balance.go).
	BalanceTx
}

// InstanceFilter selects instances. Zero fields do not filter.
type InstanceFilter struct {
	Applicant string
	FlowID    string
	Status    []Status
	Since     time.Time // CreatedAt >= Since
	// BeforeAt and BeforeID page through the newest-first order: when
	// BeforeID is set, only instances ordered after (CreatedAt=BeforeAt,
	// ID=BeforeID) are returned, i.e. older, or as old with a smaller id.
	BeforeAt time.Time
	BeforeID int64
	Limit    int // 0 = 100
}

// TaskFilter selects tasks. Zero fields do not filter.
type TaskFilter struct {
	Assignee   string
	InstanceID int64
	Status     []TaskStatus
	Limit      int // 0 = 100
}

// EventFilter selects events. Zero fields do not filter.
type EventFilter struct {
	InstanceID int64
	FlowID     string
	Types      []EventType
	Since      time.Time // At >= Since
	Until      time.Time // At < Until (zero = no bound)
	AfterID    int64     // ID > AfterID
	Limit      int       // 0 = 1000
}
