package dingtalktest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
)

// OrgUser is a member of the fake's organisation (topapi v2).
type OrgUser struct {
	UserID        string
	Name          string
	Email         string
	Mobile        string
	DeptIDs       []int64
	ManagerUserID string
}

// OrgDept is a department of the fake's organisation; 1 is the root.
type OrgDept struct {
	ID       int64
	Name     string
	ParentID int64 // 0 for the root
	Managers []string
}

type orgDir struct {
	users   []OrgUser
	depts   []OrgDept
	pages   int
	failIn  int
	limited int
}

// SetOrg replaces the organisation the fake serves. Departed people are
// simply absent, as on DingTalk.
func (s *Server) SetOrg(users []OrgUser, depts []OrgDept) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org.users, s.org.depts = slices.Clone(users), slices.Clone(depts)
}

// FailOrgAfter lets n more organisation pages succeed, then answers
// errcode -1 (system busy); n < 0 heals.
func (s *Server) FailOrgAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org.failIn = n
}

// RateLimitOrg answers the next n organisation calls with errcode 90018.
func (s *Server) RateLimitOrg(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org.limited = n
}

// OrgPages counts the listsub and user/list pages served.
func (s *Server) OrgPages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.org.pages
}

// topapi wraps an old-style API: access_token in the query, errcode in a
// 200 answer. page says whether the call counts as a directory page.
func (s *Server) topapi(page bool, h func(w http.ResponseWriter, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			writeJSON(w, 200, map[string]any{"errcode": 40035, "errmsg": "不合法的参数"})
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls[r.URL.Path]++
		if s.org.limited > 0 {
			s.org.limited--
			writeJSON(w, 200, map[string]any{"errcode": 90018, "errmsg": "当前企业调用该接口超过限流阈值"})
			return
		}
		t, ok := s.tokens[r.URL.Query().Get("access_token")]
		if !ok || !s.Now().Before(t.exp) {
			writeJSON(w, 200, map[string]any{"errcode": 40014, "errmsg": "不合法的access_token"})
			return
		}
		if page {
			if s.org.failIn == 0 {
				writeJSON(w, 200, map[string]any{"errcode": -1, "errmsg": "系统繁忙"})
				return
			}
			if s.org.failIn > 0 {
				s.org.failIn--
			}
			s.org.pages++
		}
		h(w, body)
	}
}

func badParam(w http.ResponseWriter, msg string) {
	writeJSON(w, 200, map[string]any{"errcode": 40035, "errmsg": "不合法的参数: " + msg})
}

func (s *Server) deptListSub(w http.ResponseWriter, body []byte) {
	var in struct {
		DeptID *int64 `json:"dept_id"`
	}
	if json.Unmarshal(body, &in) != nil {
		badParam(w, "body")
		return
	}
	parent := int64(1)
	if in.DeptID != nil {
		parent = *in.DeptID
	}
	res := []map[string]any{}
	for _, d := range s.org.depts {
		if d.ParentID == parent && d.ID != parent {
			res = append(res, map[string]any{"dept_id": d.ID, "name": d.Name, "parent_id": d.ParentID, "create_dept_group": false, "auto_add_user": false})
		}
	}
	writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok", "result": res, "request_id": "fake"})
}

func (s *Server) deptGet(w http.ResponseWriter, body []byte) {
	var in struct {
		DeptID int64 `json:"dept_id"`
	}
	if json.Unmarshal(body, &in) != nil || in.DeptID == 0 {
		badParam(w, "dept_id")
		return
	}
	i := slices.IndexFunc(s.org.depts, func(d OrgDept) bool { return d.ID == in.DeptID })
	if i < 0 {
		writeJSON(w, 200, map[string]any{"errcode": 60003, "errmsg": "部门不存在"})
		return
	}
	d := s.org.depts[i]
	mgr := d.Managers
	if mgr == nil {
		mgr = []string{}
	}
	writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok", "result": map[string]any{
		"dept_id": d.ID, "name": d.Name, "parent_id": d.ParentID, "dept_manager_userid_list": mgr}})
}

func (s *Server) userList(w http.ResponseWriter, body []byte) {
	var in struct {
		DeptID int64 `json:"dept_id"`
		Cursor int64 `json:"cursor"`
		Size   int64 `json:"size"`
	}
	if json.Unmarshal(body, &in) != nil || in.DeptID == 0 || in.Size < 1 || in.Size > 100 || in.Cursor < 0 {
		badParam(w, "dept_id, cursor or size (1..100)")
		return
	}
	var match []OrgUser
	for _, u := range s.org.users {
		if slices.Contains(u.DeptIDs, in.DeptID) {
			match = append(match, u)
		}
	}
	from := min(int(in.Cursor), len(match))
	to := min(from+int(in.Size), len(match))
	list := []map[string]any{}
	for _, u := range match[from:to] {
		list = append(list, map[string]any{"userid": u.UserID, "name": u.Name, "email": u.Email, "mobile": u.Mobile,
			"dept_id_list": u.DeptIDs, "manager_userid": u.ManagerUserID, "active": true})
	}
	res := map[string]any{"has_more": to < len(match), "list": list}
	if to < len(match) {
		res["next_cursor"] = to
	}
	writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok", "result": res, "request_id": "fake"})
}

func orgRoutes(s *Server, mux *http.ServeMux) {
	mux.HandleFunc("POST /topapi/v2/department/listsub", s.topapi(true, s.deptListSub))
	mux.HandleFunc("POST /topapi/v2/department/get", s.topapi(false, s.deptGet))
	mux.HandleFunc("POST /topapi/v2/user/list", s.topapi(true, s.userList))
	mux.HandleFunc("POST /topapi/v2/user/get", s.topapi(false, s.userGet))
}
