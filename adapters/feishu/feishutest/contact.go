package feishutest

import (
	"net/http"
	"slices"
	"strconv"
)

// ContactUser is a user of the fake's contact directory (contact/v3).
type ContactUser struct {
	OpenID        string
	Name          string
	EnName        string
	Email         string
	Mobile        string
	DepartmentIDs []string // open_department_id; "0" is the root
	LeaderUserID  string   // open_id of the leader
	Resigned      bool
	Frozen        bool
}

// ContactDept is a department of the fake's contact directory.
type ContactDept struct {
	OpenDepartmentID string
	Name             string
	EnName           string
	ParentID         string // "0" (or "") for a child of the root
	LeaderUserID     string
}

// contactDir is the fake's contact directory and its failure switches.
type contactDir struct {
	users  []ContactUser
	depts  []ContactDept
	pages  int // directory pages served
	failIn int // >= 0: that many pages succeed, then every page fails
}

// SetContacts replaces the contact directory the fake serves.
func (s *Server) SetContacts(users []ContactUser, depts []ContactDept) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contacts.users, s.contacts.depts = slices.Clone(users), slices.Clone(depts)
}

// FailContactsAfter lets n more directory pages succeed and answers the
// following ones with HTTP 500 (a platform failing mid-sync); n < 0 heals.
func (s *Server) FailContactsAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contacts.failIn = n
}

// ContactPages counts the directory pages served.
func (s *Server) ContactPages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contacts.pages
}

// contactPage pages items by page_size (1..50) and page_token (an offset
// the fake issued); it writes the error itself and returns ok=false.
func (s *Server) contactPage(w http.ResponseWriter, r *http.Request, n int) (from, to int, next string, ok bool) {
	if s.contacts.failIn == 0 {
		writeFeishu(w, http.StatusInternalServerError, 55001, "internal error", nil)
		return 0, 0, "", false
	}
	q := r.URL.Query()
	size := 20
	if v := q.Get("page_size"); v != "" {
		var err error
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 50 {
			writeFeishu(w, http.StatusBadRequest, codeBadParam, "page_size must be 1..50", nil)
			return 0, 0, "", false
		}
	}
	if v := q.Get("page_token"); v != "" {
		var err error
		if from, err = strconv.Atoi(v); err != nil || from < 0 || from > n {
			writeFeishu(w, http.StatusBadRequest, codeBadParam, "invalid page_token", nil)
			return 0, 0, "", false
		}
	}
	to = min(from+size, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	if s.contacts.failIn > 0 {
		s.contacts.failIn--
	}
	s.contacts.pages++
	return from, to, next, true
}

func pageData(items []map[string]any, next string) map[string]any {
	if items == nil {
		items = []map[string]any{}
	}
	return map[string]any{"has_more": next != "", "page_token": next, "items": items}
}

// handleDeptChildren serves GET /open-apis/contact/v3/departments/{id}/children
// with fetch_child=true (every descendant) or false (direct children).
func (s *Server) handleDeptChildren(w http.ResponseWriter, r *http.Request, _ *App, _ []byte) {
	if t := r.URL.Query().Get("department_id_type"); t != "open_department_id" {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "the fake supports department_id_type=open_department_id only", nil)
		return
	}
	root := r.PathValue("id")
	all := r.URL.Query().Get("fetch_child") == "true"
	parent := func(d ContactDept) string {
		if d.ParentID == "" {
			return "0"
		}
		return d.ParentID
	}
	under := func(d ContactDept) bool {
		for seen := 0; seen <= len(s.contacts.depts); seen++ {
			p := parent(d)
			if p == root {
				return true
			}
			if !all || p == "0" {
				return false
			}
			i := slices.IndexFunc(s.contacts.depts, func(x ContactDept) bool { return x.OpenDepartmentID == p })
			if i < 0 {
				return false
			}
			d = s.contacts.depts[i]
		}
		return false
	}
	var match []ContactDept
	for _, d := range s.contacts.depts {
		if under(d) {
			match = append(match, d)
		}
	}
	from, to, next, ok := s.contactPage(w, r, len(match))
	if !ok {
		return
	}
	var items []map[string]any
	for _, d := range match[from:to] {
		items = append(items, map[string]any{
			"name": d.Name, "i18n_name": map[string]any{"zh_cn": d.Name, "en_us": d.EnName},
			"open_department_id": d.OpenDepartmentID, "department_id": d.OpenDepartmentID,
			"parent_department_id": parent(d), "leader_user_id": d.LeaderUserID,
			"status": map[string]any{"is_deleted": false},
		})
	}
	writeFeishu(w, http.StatusOK, 0, "success", pageData(items, next))
}

// handleUsersByDept serves GET /open-apis/contact/v3/users/find_by_department:
// the direct members of department_id.
func (s *Server) handleUsersByDept(w http.ResponseWriter, r *http.Request, _ *App, _ []byte) {
	q := r.URL.Query()
	if q.Get("department_id_type") != "open_department_id" || q.Get("user_id_type") != "open_id" {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "the fake supports open_department_id and open_id only", nil)
		return
	}
	dept := q.Get("department_id")
	if dept == "" {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "department_id is required", nil)
		return
	}
	var match []ContactUser
	for _, u := range s.contacts.users {
		if slices.Contains(u.DepartmentIDs, dept) {
			match = append(match, u)
		}
	}
	from, to, next, ok := s.contactPage(w, r, len(match))
	if !ok {
		return
	}
	var items []map[string]any
	for _, u := range match[from:to] {
		items = append(items, map[string]any{
			"open_id": u.OpenID, "name": u.Name, "en_name": u.EnName, "email": u.Email, "mobile": u.Mobile,
			"department_ids": u.DepartmentIDs, "leader_user_id": u.LeaderUserID,
			"status": map[string]any{"is_resigned": u.Resigned, "is_frozen": u.Frozen, "is_activated": !u.Resigned, "is_exited": false, "is_unjoin": false},
		})
	}
	writeFeishu(w, http.StatusOK, 0, "success", pageData(items, next))
}
