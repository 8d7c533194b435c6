package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// PublishFlow parses src and stores it as a new version of its flow. An
// unchanged source keeps its version. Running instances keep the version
// they started on. A definition with mistakes returns flowdef.Errors.
func (e *Engine) PublishFlow(ctx context.Context, file string, src []byte) (*flowdef.Definition, int, error) {
	d, err := flowdef.Parse(file, src)
	if err != nil {
		return nil, 0, err
	}
	v, _, err := e.store.SaveFlow(ctx, d.ID, src, flowdef.Hash(src))
	e.latest.invalidate() // also on an error: the version may be stored
	if err != nil {
		return nil, 0, fmt.Errorf("save flow %s: %w", d.ID, err)
	}
	e.defs.put(d.ID, v, d)
	return d, v, nil
}

// DeleteFlow stops a flow from being started; its running instances go on.
func (e *Engine) DeleteFlow(ctx context.Context, id string) error {
	err := e.store.DeleteFlow(ctx, id)
	e.latest.invalidate()
	if err != nil {
		return fmt.Errorf("delete flow %s: %w", id, err)
	}
	return nil
}

// Definition returns version v of flow id (0 = the latest).
func (e *Engine) Definition(ctx context.Context, id string, v int) (*flowdef.Definition, error) {
	return e.definition(e.reads(ctx), id, v)
}

// definition is Definition through r.
func (e *Engine) definition(r reader, id string, v int) (*flowdef.Definition, error) {
	if v > 0 {
		if d := e.defs.get(id, v); d != nil {
			return d, nil
		}
	}
	fv, err := r.Flow(id, v)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "flow_unknown", map[string]any{"flow": id})
	}
	if err != nil {
		return nil, fmt.Errorf("load flow %s v%d: %w", id, v, err)
	}
	return e.parsed(fv)
}

func (e *Engine) parsed(fv *FlowVersion) (*flowdef.Definition, error) {
	if d := e.defs.get(fv.ID, fv.Version); d != nil {
		return d, nil
	}
	d, err := flowdef.Parse(fv.ID+".yaml", fv.Source)
	if err != nil {
		return nil, fmt.Errorf("parse stored flow %s v%d: %w", fv.ID, fv.Version, err)
	}
	e.defs.put(fv.ID, fv.Version, d)
	return d, nil
}

// FlowInfo is a definition with its stored version.
type FlowInfo struct {
	Def     *flowdef.Definition
	Version int
}

// Flows returns the latest definition of every flow, ordered by id.
func (e *Engine) Flows(ctx context.Context) ([]*flowdef.Definition, error) {
	infos, err := e.FlowInfos(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*flowdef.Definition, len(infos))
	for i, fi := range infos {
		out[i] = fi.Def
	}
	return out, nil
}

// FlowInfos returns the latest definition and version of every flow.
func (e *Engine) FlowInfos(ctx context.Context) ([]FlowInfo, error) {
	fvs, err := e.store.LatestFlows(ctx)
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	out := make([]FlowInfo, 0, len(fvs))
	for _, fv := range fvs {
		d, err := e.parsed(fv)
		if err != nil {
			return nil, err
		}
		out = append(out, FlowInfo{Def: d, Version: fv.Version})
	}
	return out, nil
}

// FlowByAlias finds a flow by id or alias (case-insensitive).
func (e *Engine) FlowByAlias(ctx context.Context, alias string) (*flowdef.Definition, error) {
	fi, err := e.flowByAlias(ctx, alias)
	if err != nil {
		return nil, err
	}
	return fi.Def, nil
}

// flowByAlias finds the latest version of a flow that is not deleted, by id
// (one indexed lookup) or else by alias. What it found is kept for
// Recheck: a version published or a flow deleted by this engine is seen
// at once, by another engine (replica) within Recheck; until then the
// version that was the latest before is used, which stays stored. A flow
// not found is looked up again every time.
func (e *Engine) flowByAlias(ctx context.Context, alias string) (FlowInfo, error) {
	alias = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(alias), "/"))
	fi, ok, gen := e.latest.get(alias)
	if ok {
		return fi, nil
	}
	readAt := time.Now()
	fi, err := e.readFlowByAlias(ctx, alias)
	if err == nil {
		e.latest.put(alias, gen, fi, readAt)
	}
	return fi, err
}

// readFlowByAlias is flowByAlias from the store.
func (e *Engine) readFlowByAlias(ctx context.Context, alias string) (FlowInfo, error) {
	fv, err := e.store.Flow(ctx, alias, 0)
	switch {
	case err == nil && !fv.Deleted:
		d, err := e.parsed(fv)
		return FlowInfo{Def: d, Version: fv.Version}, err
	case err != nil && !errors.Is(err, ErrNotFound):
		return FlowInfo{}, fmt.Errorf("load flow %s: %w", alias, err)
	}
	infos, err := e.FlowInfos(ctx)
	if err != nil {
		return FlowInfo{}, err
	}
	for _, fi := range infos {
		if slices.ContainsFunc(fi.Def.Aliases, func(a string) bool { return strings.ToLower(a) == alias }) {
			return fi, nil
		}
	}
	return FlowInfo{}, Errorf(CodeNotFound, "flow_unknown", map[string]any{"flow": alias})
}

// CanStart reports whether u may start d: everyone, or u has one of the
// roles, or u belongs to one of the departments or a sub-department.
func (e *Engine) CanStart(ctx context.Context, u *User, d *flowdef.Definition) bool {
	s := d.Starters
	if s.Everyone || (len(s.Roles) == 0 && len(s.Departments) == 0) {
		return true
	}
	if slices.ContainsFunc(s.Roles, u.HasRole) {
		return true
	}
	dept := u.Dept
	for range 32 { // walk up the department tree, bounded against cycles
		if dept == "" {
			return false
		}
		if slices.Contains(s.Departments, dept) {
			return true
		}
		dp, err := e.store.Department(ctx, dept)
		if err != nil {
			return false
		}
		dept = dp.Parent
	}
	return false
}

// user loads a directory user, mapping "not found" to a user-safe error.
func (e *Engine) user(r reader, id string) (*User, error) {
	u, err := r.User(id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(CodeNotFound, "user_unknown", map[string]any{"user": id})
	}
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", id, err)
	}
	return u, nil
}

// member loads a user who takes part in a request. Someone who has left
// the directory since (a departed applicant or approver) is not an error:
// the request goes on with a stand-in that has only the id, so one
// departure never blocks reminders or decisions on everyone's requests.
func (e *Engine) member(r reader, id string) (*User, error) {
	u, err := r.User(id)
	if errors.Is(err, ErrNotFound) {
		return &User{ID: id, Name: id}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", id, err)
	}
	return u, nil
}
