package wecomtest

import (
	"net/http"
	"slices"
	"strconv"
)

// Member is a member of the fake's address book.
type Member struct {
	UserID         string
	Name           string
	Email          string
	Mobile         string
	Departments    []int64
	MainDepartment int64
	DirectLeader   []string
	// Status: 1 active, 2 disabled, 4 not activated, 5 quit.
	Status int
}

// Department is a department of the fake's address book; 1 is the root.
type Department struct {
	ID       int64
	Name     string
	NameEN   string
	ParentID int64
	Leaders  []string
}

type book struct {
	members []Member
	depts   []Department
	pages   int
	failIn  int
	limited int
}

// SetAddressBook replaces the address book the fake serves.
func (s *Server) SetAddressBook(members []Member, depts []Department) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.book.members, s.book.depts = slices.Clone(members), slices.Clone(depts)
}

// FailAddressBookAfter lets n more address-book calls succeed, then
// answers errcode -1 (system busy); n < 0 heals.
func (s *Server) FailAddressBookAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.book.failIn = n
}

// RateLimitAddressBook answers the next n address-book calls with errcode
// 45009 (api freq out of limit).
func (s *Server) RateLimitAddressBook(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.book.limited = n
}

// AddressBookPages counts the address-book answers served.
func (s *Server) AddressBookPages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.book.pages
}

// bookCall applies the switches; it returns false when it answered.
func (s *Server) bookCall(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.calls[r.URL.Path]++
	limited := s.book.limited > 0
	if limited {
		s.book.limited--
	}
	s.mu.Unlock()
	if limited {
		errJSON(w, 45009, "api freq out of limit")
		return false
	}
	if _, ok := s.auth(w, r); !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.book.failIn == 0 {
		errJSON(w, -1, "system busy")
		return false
	}
	if s.book.failIn > 0 {
		s.book.failIn--
	}
	s.book.pages++
	return true
}

// departmentList serves GET /cgi-bin/department/list: department id and
// every department under it (all of them without id).
func (s *Server) departmentList(w http.ResponseWriter, r *http.Request) {
	if !s.bookCall(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	root := int64(0)
	if v := r.URL.Query().Get("id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errJSON(w, 60003, "department not found")
			return
		}
		root = n
	}
	under := func(d Department) bool {
		for range len(s.book.depts) + 1 {
			if root == 0 || d.ID == root {
				return true
			}
			i := slices.IndexFunc(s.book.depts, func(x Department) bool { return x.ID == d.ParentID })
			if i < 0 {
				return false
			}
			d = s.book.depts[i]
		}
		return false
	}
	out := []map[string]any{}
	for i, d := range s.book.depts {
		if under(d) {
			leaders := d.Leaders
			if leaders == nil {
				leaders = []string{}
			}
			out = append(out, map[string]any{"id": d.ID, "name": d.Name, "name_en": d.NameEN, "parentid": d.ParentID, "order": i, "department_leader": leaders})
		}
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "department": out})
}

// userList serves GET /cgi-bin/user/list: the members of department_id.
func (s *Server) userList(w http.ResponseWriter, r *http.Request) {
	if !s.bookCall(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dept, err := strconv.ParseInt(r.URL.Query().Get("department_id"), 10, 64)
	if err != nil || !slices.ContainsFunc(s.book.depts, func(d Department) bool { return d.ID == dept }) {
		errJSON(w, 60003, "department not found")
		return
	}
	out := []map[string]any{}
	for _, m := range s.book.members {
		if !slices.Contains(m.Departments, dept) {
			continue
		}
		leaders := m.DirectLeader
		if leaders == nil {
			leaders = []string{}
		}
		out = append(out, map[string]any{"userid": m.UserID, "name": m.Name, "department": m.Departments, "main_department": m.MainDepartment,
			"email": m.Email, "biz_mail": "", "mobile": m.Mobile, "status": m.Status, "direct_leader": leaders})
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "userlist": out})
}
