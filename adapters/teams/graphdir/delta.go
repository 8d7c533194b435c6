package graphdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/flowbot/flowbot/bots/dirsync"
)

var _ dirsync.Feed = (*Source)(nil)

// deltaSelect are the user properties the delta query tracks.
const deltaSelect = "id,displayName,mail,mobilePhone,department,accountEnabled,manager"

// Changes reads one page of the users delta query (Graph has no push for
// directory changes here, so dirsync.Syncer.Poll polls it): link "" starts
// a new query, otherwise link is the @odata.nextLink or @odata.deltaLink
// of the previous page and must point at the configured Graph host.
func (s *Source) Changes(ctx context.Context, link string) (dirsync.ChangePage, error) {
	u := s.cfg.GraphURL + "/v1.0/users/delta?" + url.Values{"$select": {deltaSelect}}.Encode()
	if link != "" {
		if !strings.HasPrefix(link, s.cfg.GraphURL+"/v1.0/users/delta?") {
			return dirsync.ChangePage{}, fmt.Errorf("graph: delta link %q is not a users delta of %s", link, s.cfg.GraphURL)
		}
		u = link
	}
	var raw json.RawMessage
	if err := s.get(ctx, u, &raw, "Prefer", "odata.maxpagesize="+strconv.Itoa(s.cfg.PageSize)); err != nil {
		return dirsync.ChangePage{}, fmt.Errorf("graph: users delta: %w", err)
	}
	page, err := DecodeDelta(raw)
	if err != nil {
		return dirsync.ChangePage{}, fmt.Errorf("graph: users delta: %w", err)
	}
	for _, l := range []string{page.Next, page.Delta} {
		if l != "" && !strings.HasPrefix(l, s.cfg.GraphURL+"/v1.0/users/delta?") {
			return dirsync.ChangePage{}, fmt.Errorf("graph: users delta: link %q leaves %s", l, s.cfg.GraphURL)
		}
	}
	if page.Next != "" && page.Next == link {
		return dirsync.ChangePage{}, errors.New("graph: users delta: nextLink repeats the page asked for")
	}
	return page, nil
}

// DecodeDelta decodes one answer of GET /users/delta into change events
// (Platform left empty). A user with "@removed" is gone; any other user
// changed, with only the properties present in the answer (Graph sends
// the changed ones): each present property is listed in Event.Fields. A
// department name seen is a department (Graph has no department ids).
// Anything malformed (no id, a property of the wrong type, both or
// neither of nextLink and deltaLink) is an error, and nothing of the page
// is returned.
func DecodeDelta(body []byte) (dirsync.ChangePage, error) {
	var res struct {
		Value     []map[string]json.RawMessage `json:"value"`
		NextLink  string                       `json:"@odata.nextLink"`
		DeltaLink string                       `json:"@odata.deltaLink"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return dirsync.ChangePage{}, fmt.Errorf("decode delta page: %w", err)
	}
	if (res.NextLink == "") == (res.DeltaLink == "") {
		return dirsync.ChangePage{}, errors.New("decode delta page: want exactly one of @odata.nextLink and @odata.deltaLink")
	}
	page := dirsync.ChangePage{Next: res.NextLink, Delta: res.DeltaLink}
	for i, v := range res.Value {
		evs, err := decodeDeltaUser(v)
		if err != nil {
			return dirsync.ChangePage{}, fmt.Errorf("decode delta user %d: %w", i, err)
		}
		page.Events = append(page.Events, evs...)
	}
	return page, nil
}

func decodeDeltaUser(v map[string]json.RawMessage) ([]dirsync.Event, error) {
	var id string
	if err := json.Unmarshal(v["id"], &id); err != nil || id == "" {
		return nil, errors.New("no id")
	}
	if _, ok := v["@removed"]; ok {
		return []dirsync.Event{{Op: dirsync.PersonGone, Person: dirsync.Person{ID: id}}}, nil
	}
	ev := dirsync.Event{Op: dirsync.PersonChanged, Person: dirsync.Person{ID: id}, Fields: []string{}}
	var out []dirsync.Event
	str := func(key string, dst *string) (bool, error) {
		raw, ok := v[key]
		if !ok {
			return false, nil
		}
		var p *string
		if err := json.Unmarshal(raw, &p); err != nil {
			return false, fmt.Errorf("%s: %w", key, err)
		}
		if p != nil {
			*dst = *p
		}
		return true, nil
	}
	for key, field := range map[string]string{"displayName": dirsync.FieldName, "mail": dirsync.FieldEmail, "mobilePhone": dirsync.FieldMobile} {
		dst := map[string]*string{"displayName": &ev.Person.Name, "mail": &ev.Person.Email, "mobilePhone": &ev.Person.Mobile}[key]
		ok, err := str(key, dst)
		if err != nil {
			return nil, err
		}
		if ok {
			ev.Fields = append(ev.Fields, field)
		}
	}
	var dept string
	if ok, err := str("department", &dept); err != nil {
		return nil, err
	} else if ok {
		ev.Fields = append(ev.Fields, dirsync.FieldDepts)
		if d := strings.TrimSpace(dept); d != "" {
			ev.Person.Depts = []string{d}
			out = append(out, dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: d, Name: d}})
		}
	}
	if raw, ok := v["accountEnabled"]; ok {
		var on *bool
		if err := json.Unmarshal(raw, &on); err != nil {
			return nil, fmt.Errorf("accountEnabled: %w", err)
		}
		ev.Person.Active = on == nil || *on
		ev.Fields = append(ev.Fields, dirsync.FieldActive)
	}
	if raw, ok := v["manager@delta"]; ok {
		var ms []struct {
			ID      string          `json:"id"`
			Removed json.RawMessage `json:"@removed"`
		}
		if err := json.Unmarshal(raw, &ms); err != nil {
			return nil, fmt.Errorf("manager@delta: %w", err)
		}
		for _, m := range ms {
			if m.Removed == nil && m.ID != "" {
				ev.Person.Manager = m.ID
			}
		}
		ev.Fields = append(ev.Fields, dirsync.FieldManager)
	}
	return append(out, ev), nil
}
