package wecomtest

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChangeContactXML is the plaintext XML of a change_contact callback of
// changeType (create_user, update_user, delete_user, create_party,
// update_party, delete_party) with the given elements, in order, as
// WeCom sends them (FromUserName "sys").
func ChangeContactXML(a App, changeType string, elems [][2]string, at time.Time) []byte {
	var b strings.Builder
	esc := func(s string) string {
		var e strings.Builder
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	fmt.Fprintf(&b, "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>%d</CreateTime>"+
		"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType>%s</ChangeType>", esc(a.CorpID), at.Unix(), esc(changeType))
	for _, kv := range elems {
		fmt.Fprintf(&b, "<%s>%s</%s>", kv[0], esc(kv[1]), kv[0])
	}
	b.WriteString("</xml>")
	return []byte(b.String())
}

func joinInts(ns []int64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ",")
}

// memberElems are the elements of m named in fields ("Name", "Email",
// "Mobile", "Department", "DirectLeader", "Status"; none: all).
func memberElems(m Member, fields []string) [][2]string {
	if len(fields) == 0 {
		fields = []string{"Name", "Department", "DirectLeader", "Mobile", "Email", "Status"}
	}
	var out [][2]string
	for _, f := range fields {
		switch f {
		case "Name":
			out = append(out, [2]string{"Name", m.Name})
		case "Department":
			out = append(out, [2]string{"Department", joinInts(m.Departments)}, [2]string{"MainDepartment", strconv.FormatInt(m.MainDepartment, 10)})
		case "DirectLeader":
			out = append(out, [2]string{"DirectLeader", strings.Join(m.DirectLeader, ",")})
		case "Mobile":
			out = append(out, [2]string{"Mobile", m.Mobile})
		case "Email":
			out = append(out, [2]string{"Email", m.Email})
		case "Status":
			out = append(out, [2]string{"Status", strconv.Itoa(m.Status)})
		default:
			panic("wecomtest: unknown member field " + f)
		}
	}
	return out
}

// deliverContact seals plain for the app and posts it to its webhook.
func (s *Server) deliverContact(ctx context.Context, corp string, agent int64, changeType string, elems [][2]string) (Response, Sealed, error) {
	a, err := s.app(corp, agent)
	if err != nil {
		return Response{}, Sealed{}, err
	}
	sealed, err := Seal(a, ChangeContactXML(a, changeType, elems, time.Now()), time.Now())
	if err != nil {
		return Response{}, Sealed{}, err
	}
	r, err := Post(ctx, a.Webhook, sealed)
	return r, sealed, err
}

// ChangeMember adds m to the address book (create_user, every field) or
// changes it (update_user, with only the fields named: "Name", "Email",
// "Mobile", "Department", "DirectLeader", "Status"; none: all) and
// delivers the change_contact callback to the app, encrypted and signed.
// The Sealed callback can be posted again (a retry).
func (s *Server) ChangeMember(ctx context.Context, corp string, agent int64, m Member, fields ...string) (Response, Sealed, error) {
	s.mu.Lock()
	i := slices.IndexFunc(s.book.members, func(x Member) bool { return x.UserID == m.UserID })
	typ := "update_user"
	if i < 0 {
		typ, fields = "create_user", nil
		s.book.members = append(s.book.members, m)
	} else {
		s.book.members[i] = m
	}
	s.mu.Unlock()
	return s.deliverContact(ctx, corp, agent, typ, append([][2]string{{"UserID", m.UserID}}, memberElems(m, fields)...))
}

// RenameMember changes a member's userid (update_user with NewUserID).
func (s *Server) RenameMember(ctx context.Context, corp string, agent int64, old, new string) (Response, Sealed, error) {
	s.mu.Lock()
	for i := range s.book.members {
		if s.book.members[i].UserID == old {
			s.book.members[i].UserID = new
		}
		for j, l := range s.book.members[i].DirectLeader {
			if l == old {
				s.book.members[i].DirectLeader[j] = new
			}
		}
	}
	for i := range s.book.depts {
		for j, l := range s.book.depts[i].Leaders {
			if l == old {
				s.book.depts[i].Leaders[j] = new
			}
		}
	}
	s.mu.Unlock()
	return s.deliverContact(ctx, corp, agent, "update_user", [][2]string{{"UserID", old}, {"NewUserID", new}})
}

// DeleteMember removes a member and delivers delete_user.
func (s *Server) DeleteMember(ctx context.Context, corp string, agent int64, userID string) (Response, Sealed, error) {
	s.mu.Lock()
	s.book.members = slices.DeleteFunc(s.book.members, func(x Member) bool { return x.UserID == userID })
	s.mu.Unlock()
	return s.deliverContact(ctx, corp, agent, "delete_user", [][2]string{{"UserID", userID}})
}

// ChangeDepartment adds d (create_party) or changes its name and parent
// (update_party) and delivers the callback.
func (s *Server) ChangeDepartment(ctx context.Context, corp string, agent int64, d Department) (Response, Sealed, error) {
	s.mu.Lock()
	i := slices.IndexFunc(s.book.depts, func(x Department) bool { return x.ID == d.ID })
	typ := "update_party"
	if i < 0 {
		typ = "create_party"
		s.book.depts = append(s.book.depts, d)
	} else {
		d.Leaders, d.NameEN = s.book.depts[i].Leaders, s.book.depts[i].NameEN // not in the callback
		s.book.depts[i] = d
	}
	s.mu.Unlock()
	return s.deliverContact(ctx, corp, agent, typ, [][2]string{
		{"Id", strconv.FormatInt(d.ID, 10)}, {"Name", d.Name}, {"ParentId", strconv.FormatInt(d.ParentID, 10)}, {"Order", "1"},
	})
}

// DeleteDepartment removes a department and delivers delete_party.
func (s *Server) DeleteDepartment(ctx context.Context, corp string, agent int64, id int64) (Response, Sealed, error) {
	s.mu.Lock()
	s.book.depts = slices.DeleteFunc(s.book.depts, func(x Department) bool { return x.ID == id })
	s.mu.Unlock()
	return s.deliverContact(ctx, corp, agent, "delete_party", [][2]string{{"Id", strconv.FormatInt(id, 10)}})
}
