package wecomdir

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/bots/dirsync"
)

// changeContact is the decrypted XML of a change_contact callback: a
// pointer is nil when the element is absent (update_user and update_party
// carry only what changed).
type changeContact struct {
	XMLName    xml.Name `xml:"xml"`
	CreateTime int64    `xml:"CreateTime"`
	MsgType    string   `xml:"MsgType"`
	Event      string   `xml:"Event"`
	ChangeType string   `xml:"ChangeType"`
	// members
	UserID         string  `xml:"UserID"`
	NewUserID      string  `xml:"NewUserID"`
	Name           *string `xml:"Name"`
	Department     *string `xml:"Department"`
	MainDepartment *string `xml:"MainDepartment"`
	DirectLeader   *string `xml:"DirectLeader"`
	Mobile         *string `xml:"Mobile"`
	Email          *string `xml:"Email"`
	BizMail        *string `xml:"BizMail"`
	Status         *string `xml:"Status"`
	// departments
	ID       string  `xml:"Id"`
	ParentID *string `xml:"ParentId"`
}

// ChangeTypes are the change_contact ChangeType values DecodeChangeContact
// takes (tag changes, batch jobs and the like are not directory changes).
var ChangeTypes = []string{"create_user", "update_user", "delete_user", "create_party", "update_party", "delete_party"}

// ErrNotContactChange is returned for a callback that is no change_contact
// member or department event.
var ErrNotContactChange = errors.New("wecom: not a member or department change")

// DecodeChangeContact decodes the decrypted, verified XML of a
// change_contact callback into the directory change it reports (Platform
// left empty), keyed as the full sync keys them: members by userid,
// departments by id. update_user and update_party carry only the fields
// that changed: the event lists them (dirsync.Event.Fields); a changed
// userid (NewUserID) is a rename; CreateTime is the event's At. A member's email is BizMail when set,
// else Email; status 1 (active) and 4 (not activated) are active.
func DecodeChangeContact(plain []byte) (dirsync.Event, error) {
	var c changeContact
	if err := xml.Unmarshal(plain, &c); err != nil {
		return dirsync.Event{}, fmt.Errorf("wecom: decode change_contact: %w", err)
	}
	ev, err := decodeChange(c)
	if err == nil && c.CreateTime > 0 {
		ev.At = time.Unix(c.CreateTime, 0)
	}
	return ev, err
}

func decodeChange(c changeContact) (dirsync.Event, error) {
	if c.MsgType != "event" || c.Event != "change_contact" {
		return dirsync.Event{}, ErrNotContactChange
	}
	switch c.ChangeType {
	case "create_user", "update_user":
		return memberEvent(c)
	case "delete_user":
		if strings.TrimSpace(c.UserID) == "" {
			return dirsync.Event{}, errors.New("wecom: decode delete_user: no UserID")
		}
		return dirsync.Event{Op: dirsync.PersonGone, Person: dirsync.Person{ID: c.UserID}}, nil
	case "create_party", "update_party":
		return partyEvent(c)
	case "delete_party":
		if _, err := deptID(c.ID); err != nil {
			return dirsync.Event{}, fmt.Errorf("wecom: decode delete_party: %w", err)
		}
		return dirsync.Event{Op: dirsync.DeptGone, Dept: dirsync.Dept{ID: c.ID}}, nil
	}
	return dirsync.Event{}, fmt.Errorf("%w: ChangeType %q", ErrNotContactChange, c.ChangeType)
}

func memberEvent(c changeContact) (dirsync.Event, error) {
	if strings.TrimSpace(c.UserID) == "" {
		return dirsync.Event{}, fmt.Errorf("wecom: decode %s: no UserID", c.ChangeType)
	}
	ev := dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: c.UserID, Active: true}, Fields: []string{}}
	if c.ChangeType == "update_user" && c.NewUserID != "" && c.NewUserID != c.UserID {
		ev.OldID, ev.Person.ID = c.UserID, c.NewUserID
	}
	if c.Name != nil {
		ev.Person.Name = *c.Name
		ev.Fields = append(ev.Fields, dirsync.FieldName)
	}
	if c.BizMail != nil || c.Email != nil {
		ev.Person.Email = strings.TrimSpace(deref(c.BizMail))
		if ev.Person.Email == "" {
			ev.Person.Email = deref(c.Email)
		}
		ev.Fields = append(ev.Fields, dirsync.FieldEmail)
	}
	if c.Mobile != nil {
		ev.Person.Mobile = *c.Mobile
		ev.Fields = append(ev.Fields, dirsync.FieldMobile)
	}
	if c.Department != nil || c.MainDepartment != nil {
		depts, err := memberDepts(deref(c.Department), deref(c.MainDepartment))
		if err != nil {
			return dirsync.Event{}, fmt.Errorf("wecom: decode %s: %w", c.ChangeType, err)
		}
		ev.Person.Depts = depts
		ev.Fields = append(ev.Fields, dirsync.FieldDepts)
	}
	if c.DirectLeader != nil {
		ev.Person.Manager, _, _ = strings.Cut(strings.TrimSpace(*c.DirectLeader), ",")
		ev.Fields = append(ev.Fields, dirsync.FieldManager)
	}
	if c.Status != nil {
		st, err := strconv.Atoi(strings.TrimSpace(*c.Status))
		if err != nil {
			return dirsync.Event{}, fmt.Errorf("wecom: decode %s: Status %q", c.ChangeType, *c.Status)
		}
		ev.Person.Active = st == 1 || st == 4
		ev.Fields = append(ev.Fields, dirsync.FieldActive)
	}
	if c.ChangeType == "create_user" {
		ev.Fields = nil // a new member is sent whole
	}
	return ev, nil
}

// memberDepts lists the member's departments, the main one first.
func memberDepts(list, main string) ([]string, error) {
	var out []string
	main = strings.TrimSpace(main)
	if main != "" {
		if _, err := deptID(main); err != nil {
			return nil, fmt.Errorf("MainDepartment: %w", err)
		}
		out = append(out, main)
	}
	for _, d := range strings.Split(list, ",") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if _, err := deptID(d); err != nil {
			return nil, fmt.Errorf("Department: %w", err)
		}
		if d != main {
			out = append(out, d)
		}
	}
	return out, nil
}

func partyEvent(c changeContact) (dirsync.Event, error) {
	if _, err := deptID(c.ID); err != nil {
		return dirsync.Event{}, fmt.Errorf("wecom: decode %s: %w", c.ChangeType, err)
	}
	ev := dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: c.ID}, Fields: []string{}}
	if c.Name != nil {
		ev.Dept.Name = *c.Name
		ev.Fields = append(ev.Fields, dirsync.FieldName)
	}
	if c.ParentID != nil {
		p := strings.TrimSpace(*c.ParentID)
		if p == "0" {
			p = ""
		}
		if p != "" {
			if _, err := deptID(p); err != nil {
				return dirsync.Event{}, fmt.Errorf("wecom: decode %s: ParentId: %w", c.ChangeType, err)
			}
		}
		if p == c.ID {
			return dirsync.Event{}, fmt.Errorf("wecom: decode %s: department %s is its own parent", c.ChangeType, c.ID)
		}
		ev.Dept.Parent = p
		ev.Fields = append(ev.Fields, dirsync.FieldParent)
	}
	return ev, nil
}

// deptID checks a WeCom department id (a positive integer).
func deptID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("bad department id %q", s)
	}
	return n, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
