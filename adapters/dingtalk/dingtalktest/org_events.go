package dingtalktest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// userGet serves POST /topapi/v2/user/get: one member, errcode 60121 for
// an unknown userid.
func (s *Server) userGet(w http.ResponseWriter, body []byte) {
	var in struct {
		UserID string `json:"userid"`
	}
	if json.Unmarshal(body, &in) != nil || in.UserID == "" {
		badParam(w, "userid")
		return
	}
	i := slices.IndexFunc(s.org.users, func(u OrgUser) bool { return u.UserID == in.UserID })
	if i < 0 {
		writeJSON(w, 200, map[string]any{"errcode": 60121, "errmsg": "找不到该用户"})
		return
	}
	u := s.org.users[i]
	writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok", "request_id": "fake", "result": map[string]any{
		"userid": u.UserID, "name": u.Name, "email": u.Email, "mobile": u.Mobile,
		"dept_id_list": u.DeptIDs, "manager_userid": u.ManagerUserID, "active": true}})
}

// OrgEvent sends an EVENT frame of eventType (user_add_org, ...) with
// data over app's Stream connection, as the gateway does (topic "*", the
// event headers set; eventID "" picks a fresh one, the same one
// redelivers), and returns the client's ack.
func (s *Server) OrgEvent(app, eventType, eventID string, data any) (Ack, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return Ack{}, err
	}
	if eventID == "" {
		eventID = "ev-" + randID()
	}
	return s.Send(app, Frame{Type: "EVENT", Headers: map[string]string{
		"topic": "*", "eventId": eventID, "eventType": eventType, "eventCorpId": "ding-corp",
		"eventBornTime": strconv.FormatInt(s.Now().UnixMilli(), 10), "eventUnifiedAppId": app,
	}, Data: string(b)}, 5*time.Second)
}

// ChangeUser adds or replaces u in the organisation and sends
// user_add_org or user_modify_org (which name only the userid).
func (s *Server) ChangeUser(app string, u OrgUser) (Ack, error) {
	s.mu.Lock()
	i := slices.IndexFunc(s.org.users, func(x OrgUser) bool { return x.UserID == u.UserID })
	typ := "user_modify_org"
	if i < 0 {
		typ = "user_add_org"
		s.org.users = append(s.org.users, u)
	} else {
		s.org.users[i] = u
	}
	s.mu.Unlock()
	return s.OrgEvent(app, typ, "", map[string]any{"userId": []string{u.UserID}, "timeStamp": strconv.FormatInt(s.Now().UnixMilli(), 10)})
}

// RemoveUser removes a member and sends user_leave_org.
func (s *Server) RemoveUser(app, userID string) (Ack, error) {
	s.mu.Lock()
	s.org.users = slices.DeleteFunc(s.org.users, func(x OrgUser) bool { return x.UserID == userID })
	s.mu.Unlock()
	return s.OrgEvent(app, "user_leave_org", "", map[string]any{"userId": []string{userID}, "timeStamp": strconv.FormatInt(s.Now().UnixMilli(), 10)})
}

// ChangeDept adds or replaces d and sends org_dept_create or
// org_dept_modify.
func (s *Server) ChangeDept(app string, d OrgDept) (Ack, error) {
	s.mu.Lock()
	i := slices.IndexFunc(s.org.depts, func(x OrgDept) bool { return x.ID == d.ID })
	typ := "org_dept_modify"
	if i < 0 {
		typ = "org_dept_create"
		s.org.depts = append(s.org.depts, d)
	} else {
		s.org.depts[i] = d
	}
	s.mu.Unlock()
	return s.OrgEvent(app, typ, "", map[string]any{"deptId": []int64{d.ID}, "timeStamp": strconv.FormatInt(s.Now().UnixMilli(), 10)})
}

// RemoveDept removes a department and sends org_dept_remove.
func (s *Server) RemoveDept(app string, id int64) (Ack, error) {
	s.mu.Lock()
	s.org.depts = slices.DeleteFunc(s.org.depts, func(x OrgDept) bool { return x.ID == id })
	s.mu.Unlock()
	return s.OrgEvent(app, "org_dept_remove", "", map[string]any{"deptId": []int64{id}, "timeStamp": strconv.FormatInt(s.Now().UnixMilli(), 10)})
}
