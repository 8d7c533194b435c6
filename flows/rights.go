package flows

import (
	"encoding/json"
	"slices"
)

// The rules of who may do what to a request. The engine enforces them on
// every call; the chat layer may ask them first so as not to offer what
// would be refused.

// CanWithdraw returns nil when actor may withdraw in: the applicant, while
// the request is open.
func CanWithdraw(in *Instance, actor string) error {
	if in.Applicant != actor {
		return Errorf(CodeForbidden, "not_applicant", nil)
	}
	if !in.Status.Open() {
		return Errorf(CodeConflict, "request_closed", map[string]any{"number": in.Number, "status": in.Status})
	}
	return nil
}

// CanResubmit returns nil when actor may amend and resubmit in: the
// applicant, while it is returned to them.
func CanResubmit(in *Instance, actor string) error {
	if in.Applicant != actor {
		return Errorf(CodeForbidden, "not_applicant", nil)
	}
	if in.Status != StatusReturned {
		return Errorf(CodeConflict, "not_returned", map[string]any{"number": in.Number})
	}
	return nil
}

// CanUrge returns nil when actor may urge in's approvers: the applicant,
// while it is pending (the rate limit is checked by Urge).
func CanUrge(in *Instance, actor string) error {
	if in.Applicant != actor {
		return Errorf(CodeForbidden, "not_applicant", nil)
	}
	if in.Status != StatusPending {
		return Errorf(CodeConflict, "request_closed", map[string]any{"number": in.Number, "status": in.Status})
	}
	return nil
}

// Roles of the directory that carry rights beyond a user's own requests.
const (
	RoleAdmin     = "admin"      // manages flows, the directory, tokens; sees everything
	RoleFlowAdmin = "flow_admin" // manages flows and the directory
	RoleAuditor   = "auditor"    // sees every request and all statistics
)

// CanDecide returns nil when actor may decide t: its assignee only.
func CanDecide(t *Task, actor string) error {
	if t.Assignee != actor {
		return Errorf(CodeForbidden, "not_assignee", map[string]any{"assignee": t.Assignee})
	}
	return nil
}

// CanSee returns nil when u may see request in: its applicant, anyone who
// holds or held a task of it, anyone it was copied to (a cc event names
// them in Data["to"]), auditors and admins.
func CanSee(u *User, in *Instance, tasks []*Task, events []*Event) error {
	if u == nil {
		return Errorf(CodeForbidden, "not_participant", nil)
	}
	if in.Applicant == u.ID || u.HasRole(RoleAdmin) || u.HasRole(RoleAuditor) {
		return nil
	}
	for _, t := range tasks {
		if t.Assignee == u.ID {
			return nil
		}
	}
	for _, e := range events {
		if e.Type == EvCC && len(e.Data) > 0 && ccNames(e.Data, u.ID) {
			return nil
		}
	}
	return Errorf(CodeForbidden, "not_participant", nil)
}

// ccNames reports whether a cc event's data names user id.
func ccNames(data []byte, id string) bool {
	var d struct {
		To  any `json:"to"`
		Cc  any `json:"cc"`
		Who any `json:"users"`
	}
	if json.Unmarshal(data, &d) != nil {
		return false
	}
	for _, v := range []any{d.To, d.Cc, d.Who} {
		switch x := v.(type) {
		case string:
			if x == id {
				return true
			}
		case []any:
			for _, y := range x {
				if s, ok := y.(string); ok && s == id {
					return true
				}
			}
		}
	}
	return false
}

// StatsScope says which statistics u may see: all (admins and auditors),
// or the departments u heads (heads lists them; a manager sees their
// departments). A user who heads nothing and has neither role is refused.
func StatsScope(u *User, heads []string) (all bool, depts []string, err error) {
	if u == nil {
		return false, nil, Errorf(CodeForbidden, "stats_not_allowed", nil)
	}
	if u.HasRole(RoleAdmin) || u.HasRole(RoleAuditor) {
		return true, nil, nil
	}
	if len(heads) == 0 {
		return false, nil, Errorf(CodeForbidden, "stats_not_allowed", nil)
	}
	return false, heads, nil
}

// RoleManager marks a manager by position: they see the statistics of
// their own department even when the directory names no head.
const RoleManager = "manager"

// HeadedDepts lists the departments whose statistics u sees as a manager:
// those u heads, and u's own department when u has the manager role.
func HeadedDepts(u *User, depts []*Department) []string {
	if u == nil {
		return nil
	}
	var out []string
	for _, d := range depts {
		if d.Head == u.ID {
			out = append(out, d.ID)
		}
	}
	if u.HasRole(RoleManager) && u.Dept != "" && !slices.Contains(out, u.Dept) {
		out = append(out, u.Dept)
	}
	return out
}

// CanManage returns nil when u may manage flows and the directory:
// admins and flow admins.
func CanManage(u *User) error {
	if u != nil && (u.HasRole(RoleAdmin) || u.HasRole(RoleFlowAdmin)) {
		return nil
	}
	return Errorf(CodeForbidden, "admin_only", nil)
}
