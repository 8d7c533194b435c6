package feishutest

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
)

// userObject is a contact user as the contact events carry it.
func userObject(u ContactUser) map[string]any {
	return map[string]any{
		"open_id": u.OpenID, "union_id": "on_" + u.OpenID, "name": u.Name, "en_name": u.EnName, "email": u.Email, "mobile": u.Mobile,
		"department_ids": u.DepartmentIDs, "leader_user_id": u.LeaderUserID,
		"status": map[string]any{"is_resigned": u.Resigned, "is_frozen": u.Frozen, "is_activated": !u.Resigned, "is_exited": false, "is_unjoin": false},
	}
}

func deptObject(d ContactDept) map[string]any {
	parent := d.ParentID
	if parent == "" {
		parent = "0"
	}
	return map[string]any{
		"name": d.Name, "open_department_id": d.OpenDepartmentID, "department_id": d.OpenDepartmentID,
		"parent_department_id": parent, "leader_user_id": d.LeaderUserID, "status": map[string]any{"is_deleted": false},
	}
}

// ContactEvent builds the payload of a contact change event of app
// (contact.user.created_v3, ...): the schema 2.0 envelope with a new
// event_id, and the event's object (and old_object, if not nil).
func (s *Server) ContactEvent(appID, eventType string, object, oldObject map[string]any) []byte {
	s.mu.Lock()
	a := s.apps[appID]
	now := s.now()
	s.mu.Unlock()
	if a == nil {
		a = &App{ID: appID}
	}
	ev := map[string]any{"object": object}
	if oldObject != nil {
		ev["old_object"] = oldObject
	}
	b, _ := json.Marshal(map[string]any{
		"schema": "2.0",
		"header": header(a, randomID("ev_"), eventType, strconv.FormatInt(now.UnixMilli(), 10)),
		"event":  ev,
	})
	return b
}

// ChangeUser adds or replaces u in the contact directory and delivers
// contact.user.created_v3 (new) or contact.user.updated_v3 to the app, as
// Push does (long connection, or signed and encrypted webhook). It returns
// the adapter's answer and the payload (to redeliver it).
func (s *Server) ChangeUser(t testing.TB, appID string, u ContactUser) (Result, []byte) {
	t.Helper()
	s.mu.Lock()
	i := slices.IndexFunc(s.contacts.users, func(x ContactUser) bool { return x.OpenID == u.OpenID })
	typ := "contact.user.updated_v3"
	var old map[string]any
	if i < 0 {
		typ = "contact.user.created_v3"
		s.contacts.users = append(s.contacts.users, u)
	} else {
		old = userObject(s.contacts.users[i])
		s.contacts.users[i] = u
	}
	s.mu.Unlock()
	payload := s.ContactEvent(appID, typ, userObject(u), old)
	return s.Push(t, appID, payload), payload
}

// DeleteUser removes a user from the contact directory and delivers
// contact.user.deleted_v3.
func (s *Server) DeleteUser(t testing.TB, appID, openID string) (Result, []byte) {
	t.Helper()
	s.mu.Lock()
	obj := map[string]any{"open_id": openID}
	for _, u := range s.contacts.users {
		if u.OpenID == openID {
			obj = userObject(u)
			obj["status"] = map[string]any{"is_resigned": true}
		}
	}
	s.contacts.users = slices.DeleteFunc(s.contacts.users, func(x ContactUser) bool { return x.OpenID == openID })
	s.mu.Unlock()
	payload := s.ContactEvent(appID, "contact.user.deleted_v3", obj, map[string]any{"department_ids": []string{}})
	return s.Push(t, appID, payload), payload
}

// ChangeDept adds or replaces d and delivers contact.department.created_v3
// or contact.department.updated_v3.
func (s *Server) ChangeDept(t testing.TB, appID string, d ContactDept) (Result, []byte) {
	t.Helper()
	s.mu.Lock()
	i := slices.IndexFunc(s.contacts.depts, func(x ContactDept) bool { return x.OpenDepartmentID == d.OpenDepartmentID })
	typ := "contact.department.updated_v3"
	var old map[string]any
	if i < 0 {
		typ = "contact.department.created_v3"
		s.contacts.depts = append(s.contacts.depts, d)
	} else {
		old = deptObject(s.contacts.depts[i])
		s.contacts.depts[i] = d
	}
	s.mu.Unlock()
	payload := s.ContactEvent(appID, typ, deptObject(d), old)
	return s.Push(t, appID, payload), payload
}

// DeleteDept removes a department and delivers
// contact.department.deleted_v3.
func (s *Server) DeleteDept(t testing.TB, appID, id string) (Result, []byte) {
	t.Helper()
	s.mu.Lock()
	s.contacts.depts = slices.DeleteFunc(s.contacts.depts, func(x ContactDept) bool { return x.OpenDepartmentID == id })
	s.mu.Unlock()
	payload := s.ContactEvent(appID, "contact.department.deleted_v3",
		map[string]any{"open_department_id": id, "department_id": id, "status": map[string]any{"is_deleted": true}}, map[string]any{"open_department_id": id})
	return s.Push(t, appID, payload), payload
}
