package dingtalkdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowbot/flowbot/bots/dirsync"
)

// The organisation events (通讯录事件) DecodeOrgEvent takes, as the Stream
// gateway names them in the eventType header.
const (
	EventUserAdd    = "user_add_org"
	EventUserModify = "user_modify_org"
	EventUserLeave  = "user_leave_org"
	EventDeptCreate = "org_dept_create"
	EventDeptModify = "org_dept_modify"
	EventDeptRemove = "org_dept_remove"
)

// OrgEventTypes are the event types DecodeOrgEvent takes.
var OrgEventTypes = []string{EventUserAdd, EventUserModify, EventUserLeave, EventDeptCreate, EventDeptModify, EventDeptRemove}

// ErrNotOrgEvent is returned for an event type that is not an
// organisation change.
var ErrNotOrgEvent = errors.New("dingtalk: not an organisation event")

// maxIDs bounds the ids one event may name.
const maxIDs = 1000

// DecodeOrgEvent decodes the data of an organisation event into one
// directory change per id it names (Platform left empty). DingTalk sends
// only ids ({"userId":[...]} or {"deptId":[...]}, key case as the
// platform writes it): an added or modified user or department is a
// dirsync.Event with Lookup set (dirsync reads it through Source.Person or
// Source.Dept); a leaver or a removed department is gone. An event with no
// id, a malformed id or more than 1000 ids is an error.
func DecodeOrgEvent(eventType string, data []byte) ([]dirsync.Event, error) {
	user := false
	switch eventType {
	case EventUserAdd, EventUserModify, EventUserLeave:
		user = true
	case EventDeptCreate, EventDeptModify, EventDeptRemove:
	default:
		return nil, fmt.Errorf("%w: %q", ErrNotOrgEvent, eventType)
	}
	var in struct {
		UserID []string          `json:"userId"`
		DeptID []json.RawMessage `json:"deptId"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("dingtalk: decode %s: %w", eventType, err)
	}
	var evs []dirsync.Event
	if user {
		for _, id := range in.UserID {
			if strings.TrimSpace(id) == "" || id != strings.TrimSpace(id) {
				return nil, fmt.Errorf("dingtalk: decode %s: bad userId %q", eventType, id)
			}
			if eventType == EventUserLeave {
				evs = append(evs, dirsync.Event{Op: dirsync.PersonGone, Person: dirsync.Person{ID: id}})
			} else {
				evs = append(evs, dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: id}, Lookup: true})
			}
		}
	} else {
		for _, raw := range in.DeptID {
			id, err := deptIDOf(raw)
			if err != nil {
				return nil, fmt.Errorf("dingtalk: decode %s: %w", eventType, err)
			}
			if eventType == EventDeptRemove {
				evs = append(evs, dirsync.Event{Op: dirsync.DeptGone, Dept: dirsync.Dept{ID: id}})
			} else {
				evs = append(evs, dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: id}, Lookup: true})
			}
		}
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("dingtalk: decode %s: no id", eventType)
	}
	if len(evs) > maxIDs {
		return nil, fmt.Errorf("dingtalk: decode %s: %d ids, at most %d", eventType, len(evs), maxIDs)
	}
	return evs, nil
}

// deptIDOf reads a department id, a positive number sent as a number or
// a string.
func deptIDOf(raw json.RawMessage) (string, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("bad deptId %s", raw)
		}
		n = json.Number(s)
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || v <= 0 {
		return "", fmt.Errorf("bad deptId %s", raw)
	}
	return strconv.FormatInt(v, 10), nil
}

var _ dirsync.Lookup = (*Source)(nil)

// errcodes of an unknown user and department.
const (
	codeNoUser = 60121
	codeNoDept = 60003
)

// Person reads one member (POST /topapi/v2/user/get); found is false when
// DingTalk has no such member.
func (s *Source) Person(ctx context.Context, id string) (dirsync.Person, bool, error) {
	var u member
	err := s.call(ctx, "/topapi/v2/user/get", map[string]any{"userid": id, "language": "zh_CN"}, &u)
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == codeNoUser {
		return dirsync.Person{}, false, nil
	}
	if err != nil {
		return dirsync.Person{}, false, fmt.Errorf("dingtalk: get user %s: %w", id, err)
	}
	return u.person(), true, nil
}

// Dept reads one department with its head; found is false when DingTalk
// has no such department.
func (s *Source) Dept(ctx context.Context, id string) (dirsync.Dept, bool, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return dirsync.Dept{}, false, fmt.Errorf("dingtalk: department id %q: %w", id, err)
	}
	d, err := s.dept(ctx, n)
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == codeNoDept {
		return dirsync.Dept{}, false, nil
	}
	if err != nil {
		return dirsync.Dept{}, false, err
	}
	return d, true, nil
}
