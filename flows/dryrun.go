package flows

import (
	"context"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// DryRun checks a form for flow flowID (id or alias, latest version) as if
// applicant filed it, and returns the route it would take, with the
// approvers each step would get. Nothing is written. The applicant must be
// allowed to start the flow.
func (e *Engine) DryRun(ctx context.Context, applicant, flowID string, values map[string]any) (*flowdef.Definition, []RouteStep, error) {
	u, err := e.user(e.reads(ctx), applicant)
	if err != nil {
		return nil, nil, err
	}
	fi, err := e.flowByAlias(ctx, flowID)
	if err != nil {
		return nil, nil, err
	}
	if !e.CanStart(ctx, u, fi.Def) {
		return nil, nil, Errorf(CodeForbidden, "flow_not_allowed", map[string]any{"flow": fi.Def.Name.In(u.Locale)})
	}
	vals, err := e.checkForm(e.reads(ctx), fi.Def, values)
	if err != nil {
		return nil, nil, err
	}
	v := &View{
		Instance: &Instance{FlowID: fi.Def.ID, FlowVersion: fi.Version, Applicant: u.ID, Status: StatusPending, StepIndex: -1},
		Def:      fi.Def, Form: vals, Applicant: u,
	}
	route, err := e.Route(ctx, v)
	if err != nil {
		return nil, nil, err
	}
	return fi.Def, route, nil
}
