package feishudir

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	larkcontact "github.com/larksuite/oapi-sdk-go/v3/service/contact/v3"

	"github.com/flowbot/flowbot/bots/dirsync"
)

// The contact change events (schema 2.0) DecodeEvent takes.
const (
	EventUserCreated = "contact.user.created_v3"
	EventUserUpdated = "contact.user.updated_v3"
	EventUserDeleted = "contact.user.deleted_v3"
	EventDeptCreated = "contact.department.created_v3"
	EventDeptUpdated = "contact.department.updated_v3"
	EventDeptDeleted = "contact.department.deleted_v3"
)

// EventTypes are the event types DecodeEvent takes.
var EventTypes = []string{EventUserCreated, EventUserUpdated, EventUserDeleted, EventDeptCreated, EventDeptUpdated, EventDeptDeleted}

// DecodeEvent decodes a verified, decrypted contact change event (the
// whole schema 2.0 payload) into the directory change it reports, with
// Platform left empty. Users are keyed by open_id and departments by
// open_department_id, as the full sync lists them; a created or updated
// user's object is the whole user after the change; header.create_time
// is the event's At. Any other event type,
// or an event without the ids it needs, is an error.
func DecodeEvent(payload []byte) (dirsync.Event, error) {
	ev, at, err := decodeEvent(payload)
	if err != nil {
		return ev, err
	}
	ev.At = at
	return ev, nil
}

func decodeEvent(payload []byte) (_ dirsync.Event, at time.Time, _ error) {
	var env struct {
		Schema string `json:"schema"`
		Header struct {
			EventType  string `json:"event_type"`
			CreateTime string `json:"create_time"` // ms
		} `json:"header"`
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		return dirsync.Event{}, at, fmt.Errorf("feishu: decode contact event: %w", err)
	}
	if ct := env.Header.CreateTime; ct != "" {
		ms, err := strconv.ParseInt(ct, 10, 64)
		if err != nil || ms <= 0 {
			return dirsync.Event{}, at, fmt.Errorf("feishu: decode contact event: bad create_time %q", ct)
		}
		at = time.UnixMilli(ms)
	}
	typ := env.Header.EventType
	if !slices.Contains(EventTypes, typ) {
		return dirsync.Event{}, at, fmt.Errorf("feishu: decode contact event: not a contact event: %q", typ)
	}
	if len(env.Event) == 0 || string(env.Event) == "null" {
		return dirsync.Event{}, at, fmt.Errorf("feishu: decode %s: no event body", typ)
	}
	var body struct {
		Object *json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(env.Event, &body); err != nil || body.Object == nil {
		return dirsync.Event{}, at, fmt.Errorf("feishu: decode %s: no object", typ)
	}
	switch typ {
	case EventUserCreated, EventUserUpdated, EventUserDeleted:
		var u larkcontact.UserEvent
		if err := json.Unmarshal(*body.Object, &u); err != nil {
			return dirsync.Event{}, at, fmt.Errorf("feishu: decode %s: %w", typ, err)
		}
		id := deref(u.OpenId)
		if id == "" {
			return dirsync.Event{}, at, fmt.Errorf("feishu: decode %s: user without open_id", typ)
		}
		if typ == EventUserDeleted {
			return dirsync.Event{Op: dirsync.PersonGone, Person: dirsync.Person{ID: id}}, at, nil
		}
		p := dirsync.Person{ID: id, Name: deref(u.Name), Email: deref(u.Email), Mobile: deref(u.Mobile),
			Depts: u.DepartmentIds, Manager: deref(u.LeaderUserId), Active: true}
		if st := u.Status; st != nil && (derefBool(st.IsResigned) || derefBool(st.IsFrozen)) {
			p.Active = false
		}
		return dirsync.Event{Op: dirsync.PersonChanged, Person: p}, at, nil
	default:
		var d larkcontact.DepartmentEvent
		if err := json.Unmarshal(*body.Object, &d); err != nil {
			return dirsync.Event{}, at, fmt.Errorf("feishu: decode %s: %w", typ, err)
		}
		id := deref(d.OpenDepartmentId)
		if id == "" {
			return dirsync.Event{}, at, fmt.Errorf("feishu: decode %s: department without open_department_id", typ)
		}
		if typ == EventDeptDeleted {
			return dirsync.Event{Op: dirsync.DeptGone, Dept: dirsync.Dept{ID: id}}, at, nil
		}
		parent := deref(d.ParentDepartmentId)
		if parent == "0" {
			parent = ""
		}
		if parent == id {
			return dirsync.Event{}, at, errors.New("feishu: decode " + typ + ": department is its own parent")
		}
		// The event has no English name: the one listed last is kept.
		return dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: id, Name: deref(d.Name), Parent: parent, Head: deref(d.LeaderUserId)},
			Fields: []string{dirsync.FieldName, dirsync.FieldParent, dirsync.FieldHead}}, at, nil
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefBool(p *bool) bool { return p != nil && *p }
