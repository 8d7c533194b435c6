package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// resolve finds the users a list of selectors names, in order, without
// duplicates. from is the user that manager levels count from (the
// applicant for approvers, the assignee for escalation); form holds the
// values user fields refer to.
func (e *Engine) resolve(r reader, sels []flowdef.Selector, from *User, form flowdef.Values) ([]string, error) {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, s := range sels {
		switch s.Kind {
		case flowdef.SelUser:
			if _, err := r.User(s.Value); err == nil {
				add(s.Value)
			} else if !errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("load user %s: %w", s.Value, err)
			}
		case flowdef.SelRole:
			us, err := r.UsersWithRole(s.Value)
			if err != nil {
				return nil, fmt.Errorf("users with role %s: %w", s.Value, err)
			}
			for _, u := range us {
				add(u.ID)
			}
		case flowdef.SelManager:
			id, err := e.managerOf(r, from, max(s.Level, 1))
			if err != nil {
				return nil, err
			}
			add(id)
		case flowdef.SelDeptHead:
			id, err := e.deptHead(r, from)
			if err != nil {
				return nil, err
			}
			add(id)
		case flowdef.SelField:
			if id, ok := form[s.Value].(string); ok {
				if _, err := r.User(id); err == nil {
					add(id)
				}
			}
		}
	}
	return out, nil
}

// managerOf walks n levels up the manager chain of u ("" when it ends).
func (e *Engine) managerOf(r reader, u *User, n int) (string, error) {
	cur := u
	for i := 0; i < n; i++ {
		if cur.Manager == "" || cur.Manager == cur.ID {
			return "", nil
		}
		m, err := r.User(cur.Manager)
		if errors.Is(err, ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("load manager %s: %w", cur.Manager, err)
		}
		cur = m
	}
	return cur.ID, nil
}

// deptHead returns the head of u's department; when u heads it, the head of
// the parent department.
func (e *Engine) deptHead(r reader, u *User) (string, error) {
	dept := u.Dept
	for range 32 {
		if dept == "" {
			return "", nil
		}
		d, err := r.Department(dept)
		if errors.Is(err, ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("load department %s: %w", dept, err)
		}
		if d.Head != "" && d.Head != u.ID {
			return d.Head, nil
		}
		dept = d.Parent
	}
	return "", nil
}

// approversOf resolves the approvers of step s for the applicant: the
// applicant is never their own approver; nobody found -> the fallback when
// the step says so.
func (e *Engine) approversOf(r reader, s *flowdef.Step, applicant *User, form flowdef.Values) ([]string, error) {
	ids, err := e.resolve(r, s.Approvers, applicant, form)
	if err != nil {
		return nil, err
	}
	if ids, err = present(r, ids, applicant.ID); err != nil {
		return nil, err
	}
	if len(ids) == 0 && s.OnEmpty == flowdef.EmptyFallback {
		ids, err = e.resolve(r, s.Fallback, applicant, form)
		if err != nil {
			return nil, err
		}
		if ids, err = present(r, ids, applicant.ID); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func applicantEnv(u *User) flowdef.Applicant {
	return flowdef.Applicant{ID: u.ID, Name: u.Name, Dept: u.Dept, Roles: u.Roles, Manager: u.Manager}
}

// reader is where an operation reads the directory and flows: its own
// transaction inside Engine.run (so it never needs a second connection
// while holding one), the store elsewhere.
type reader interface {
	User(id string) (*User, error)
	UsersWithRole(role string) ([]*User, error)
	Department(id string) (*Department, error)
	Flow(id string, v int) (*FlowVersion, error)
}

// storeReader reads through the store, outside any transaction.
type storeReader struct {
	ctx context.Context
	s   Store
}

func (r storeReader) User(id string) (*User, error) { return r.s.User(r.ctx, id) }
func (r storeReader) UsersWithRole(role string) ([]*User, error) {
	return r.s.UsersWithRole(r.ctx, role)
}
func (r storeReader) Department(id string) (*Department, error) { return r.s.Department(r.ctx, id) }
func (r storeReader) Flow(id string, v int) (*FlowVersion, error) {
	return r.s.Flow(r.ctx, id, v)
}

// reads returns a reader over the store for ctx.
func (e *Engine) reads(ctx context.Context) reader { return storeReader{ctx, e.store} }

// present drops the applicant and users who left (User.Departed) from ids:
// neither is anyone's approver.
func present(r reader, ids []string, applicant string) ([]string, error) {
	out := ids[:0]
	for _, id := range ids {
		if id == applicant {
			continue
		}
		u, err := r.User(id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("load approver %s: %w", id, err)
		}
		if u != nil && u.Departed {
			continue
		}
		out = append(out, id)
	}
	return out, nil
}
