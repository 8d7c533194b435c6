package flows

// Temporary: the bodies land in engine_*.go; signatures are the contract.

import (
	"context"
	"errors"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
)

var errTodo = errors.New("engine: not implemented yet")

// PublishFlow parses src and stores it as a new version of its flow
// (unchanged source = same version).
func (e *Engine) PublishFlow(ctx context.Context, file string, src []byte) (*flowdef.Definition, int, error) {
	return nil, 0, errTodo
}

// Definition returns version v of flow id (0 = latest).
func (e *Engine) Definition(ctx context.Context, id string, v int) (*flowdef.Definition, error) {
	return nil, errTodo
}

// Flows returns the latest definition of every flow, ordered by id.
func (e *Engine) Flows(ctx context.Context) ([]*flowdef.Definition, error) { return nil, errTodo }

// FlowByAlias finds a flow by id or alias (case-insensitive).
func (e *Engine) FlowByAlias(ctx context.Context, alias string) (*flowdef.Definition, error) {
	return nil, errTodo
}

// CanStart reports whether u may start d.
func (e *Engine) CanStart(ctx context.Context, u *User, d *flowdef.Definition) bool { return false }

func (e *Engine) Submit(ctx context.Context, r SubmitRequest) (*Outcome, error) { return nil, errTodo }
func (e *Engine) Decide(ctx context.Context, r DecideRequest) (*Outcome, error) { return nil, errTodo }
func (e *Engine) Withdraw(ctx context.Context, actor string, instanceID int64, reason string) (*Outcome, error) {
	return nil, errTodo
}
func (e *Engine) Resubmit(ctx context.Context, actor string, instanceID int64, values map[string]any) (*Outcome, error) {
	return nil, errTodo
}
func (e *Engine) Transfer(ctx context.Context, actor string, taskID int64, to, reason string) (*Outcome, error) {
	return nil, errTodo
}
func (e *Engine) AddSigner(ctx context.Context, actor string, taskID int64, signer string, pos SignerPosition, note string) (*Outcome, error) {
	return nil, errTodo
}
func (e *Engine) Comment(ctx context.Context, actor string, instanceID int64, text string) (*Outcome, error) {
	return nil, errTodo
}
func (e *Engine) Urge(ctx context.Context, actor string, instanceID int64) (*Outcome, error) {
	return nil, errTodo
}
func (e *Engine) Tick(ctx context.Context, now time.Time) (TickResult, error) { return TickResult{}, errTodo }
func (e *Engine) RunHTTP(ctx context.Context, m *OutboxMessage) error         { return errTodo }
func (e *Engine) View(ctx context.Context, instanceID int64) (*View, error)   { return nil, errTodo }
func (e *Engine) ViewByNumber(ctx context.Context, number string) (*View, error) {
	return nil, errTodo
}
// Todo returns the pending tasks of user, oldest first.
func (e *Engine) Todo(ctx context.Context, user string) ([]*Task, error) { return nil, errTodo }
// Mine returns the requests of user, newest first.
func (e *Engine) Mine(ctx context.Context, user string, limit int) ([]*Instance, error) {
	return nil, errTodo
}
