package teamstest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// GraphScope is the scope of a Microsoft Graph token.
const GraphScope = "https://graph.microsoft.com/.default"

// GraphUser is a user of the fake's Microsoft Graph directory.
type GraphUser struct {
	ID             string // AAD object id
	DisplayName    string
	Mail           string
	MobilePhone    string
	Department     string
	ManagerID      string
	AccountEnabled bool
}

type graphDir struct {
	users   []GraphUser
	tokens  map[string]bool
	pages   int
	failIn  int
	limited int

	log        []graphChange
	deltaPages int
}

// SetGraphUsers replaces the users Graph lists.
func (s *Server) SetGraphUsers(users []GraphUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graph.users = slices.Clone(users)
}

// FailGraphAfter lets n more Graph pages succeed, then answers 503; n < 0
// heals.
func (s *Server) FailGraphAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graph.failIn = n
}

// ThrottleGraph answers the next n Graph calls 429 with Retry-After: 2.
func (s *Server) ThrottleGraph(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graph.limited = n
}

// GraphPages counts the Graph pages served.
func (s *Server) GraphPages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.graph.pages
}

// graphAdmit answers a Graph call the fake refuses (a 429 while limited,
// a 401 without a Graph token, a 503 when told to fail) and reports
// whether the call goes on. It is called with s.mu held.
func (s *Server) graphAdmit(w http.ResponseWriter, r *http.Request) bool {
	if s.graph.limited > 0 {
		s.graph.limited--
		w.Header().Set("Retry-After", "2")
		graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests")
		return false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.graph.tokens[tok] {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty or not a Graph token.")
		return false
	}
	if s.graph.failIn == 0 {
		graphError(w, http.StatusServiceUnavailable, "serviceNotAvailable", "Service unavailable")
		return false
	}
	return true
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

// graphUsers serves GET /v1.0/users with $top (1..999), $skiptoken (an
// offset the fake issued) and $expand=manager, as Graph pages it: an
// @odata.nextLink while more remain.
func (s *Server) graphUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.graphAdmit(w, r) {
		return
	}
	q := r.URL.Query()
	top := 100
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Invalid page size specified")
			return
		}
		top = n
	}
	from := 0
	if v := q.Get("$skiptoken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > len(s.graph.users) {
			graphError(w, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired")
			return
		}
		from = n
	}
	if s.graph.failIn > 0 {
		s.graph.failIn--
	}
	s.graph.pages++
	expand := strings.HasPrefix(q.Get("$expand"), "manager")
	to := min(from+top, len(s.graph.users))
	value := []map[string]any{}
	for _, u := range s.graph.users[from:to] {
		v := map[string]any{"id": u.ID, "displayName": u.DisplayName, "mail": nilIfEmpty(u.Mail), "mobilePhone": nilIfEmpty(u.MobilePhone),
			"department": nilIfEmpty(u.Department), "accountEnabled": u.AccountEnabled}
		if expand && u.ManagerID != "" {
			v["manager"] = map[string]any{"@odata.type": "#microsoft.graph.user", "id": u.ManagerID}
		}
		value = append(value, v)
	}
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": value}
	if to < len(s.graph.users) {
		nq := r.URL.Query()
		nq.Set("$skiptoken", strconv.Itoa(to))
		out["@odata.nextLink"] = s.URL + "/v1.0/users?" + nq.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// graphChange is one entry of the fake's change log: the properties of
// the user that changed (as Graph sends them in a delta), or a removal.
type graphChange struct {
	id      string
	props   map[string]any
	removed bool
}

// UpdateGraphUser changes a user (adding it if new) and logs the change
// for the delta query; fields are the GraphUser fields that changed
// ("DisplayName", "Mail", "MobilePhone", "Department", "ManagerID",
// "AccountEnabled"); none means all (a new user).
func (s *Server) UpdateGraphUser(u GraphUser, fields ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.graph.users, func(x GraphUser) bool { return x.ID == u.ID })
	if i < 0 {
		s.graph.users = append(s.graph.users, u)
	} else {
		s.graph.users[i] = u
	}
	if len(fields) == 0 {
		fields = []string{"DisplayName", "Mail", "MobilePhone", "Department", "ManagerID", "AccountEnabled"}
	}
	props := map[string]any{}
	for _, f := range fields {
		switch f {
		case "DisplayName":
			props["displayName"] = u.DisplayName
		case "Mail":
			props["mail"] = nilIfEmpty(u.Mail)
		case "MobilePhone":
			props["mobilePhone"] = nilIfEmpty(u.MobilePhone)
		case "Department":
			props["department"] = nilIfEmpty(u.Department)
		case "AccountEnabled":
			props["accountEnabled"] = u.AccountEnabled
		case "ManagerID":
			m := map[string]any{"@odata.type": "#microsoft.graph.user", "id": u.ManagerID}
			if u.ManagerID == "" {
				m = map[string]any{"@odata.type": "#microsoft.graph.user", "id": "removed", "@removed": map[string]any{"reason": "deleted"}}
			}
			props["manager@delta"] = []any{m}
		default:
			panic("teamstest: UpdateGraphUser: unknown field " + f)
		}
	}
	s.graph.log = append(s.graph.log, graphChange{id: u.ID, props: props})
}

// DeleteGraphUser deletes a user and logs the removal for the delta query.
func (s *Server) DeleteGraphUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graph.users = slices.DeleteFunc(s.graph.users, func(x GraphUser) bool { return x.ID == id })
	s.graph.log = append(s.graph.log, graphChange{id: id, removed: true})
}

// GraphDeltaPages counts the delta pages served.
func (s *Server) GraphDeltaPages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.graph.deltaPages
}

// graphDelta serves GET /v1.0/users/delta as Graph does, in pages of
// Prefer: odata.maxpagesize (default 100): without a token, every current user, then an
// @odata.deltaLink; with $deltatoken=N, the changes logged since N, the
// changed properties only. A $skiptoken (mode.from.offset) continues a
// round; tokens the fake did not issue are refused with 400.
func (s *Server) graphDelta(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.graphAdmit(w, r) {
		return
	}
	q := r.URL.Query()
	top := 100 // Graph pages a delta by the Prefer header, not $top
	if v, ok := strings.CutPrefix(r.Header.Get("Prefer"), "odata.maxpagesize="); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 {
			top = n
		}
	}
	bad := func() {
		graphError(w, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired")
	}
	initial, from, offset := true, 0, 0
	switch {
	case q.Get("$skiptoken") != "":
		parts := strings.Split(q.Get("$skiptoken"), ".")
		if len(parts) != 3 || (parts[0] != "i" && parts[0] != "d") {
			bad()
			return
		}
		var err1, err2 error
		initial = parts[0] == "i"
		from, err1 = strconv.Atoi(parts[1])
		offset, err2 = strconv.Atoi(parts[2])
		if err1 != nil || err2 != nil || from < 0 || from > len(s.graph.log) || offset < 0 {
			bad()
			return
		}
	case q.Get("$deltatoken") != "":
		n, err := strconv.Atoi(q.Get("$deltatoken"))
		if err != nil || n < 0 || n > len(s.graph.log) {
			bad()
			return
		}
		initial, from = false, n
	default:
		from = len(s.graph.log)
	}
	var items []map[string]any
	if initial {
		for _, u := range s.graph.users {
			v := map[string]any{"id": u.ID, "displayName": u.DisplayName, "mail": nilIfEmpty(u.Mail), "mobilePhone": nilIfEmpty(u.MobilePhone),
				"department": nilIfEmpty(u.Department), "accountEnabled": u.AccountEnabled}
			if u.ManagerID != "" {
				v["manager@delta"] = []any{map[string]any{"@odata.type": "#microsoft.graph.user", "id": u.ManagerID}}
			}
			items = append(items, v)
		}
	} else {
		for _, c := range s.graph.log[from:] {
			v := map[string]any{"id": c.id}
			if c.removed {
				v["@removed"] = map[string]any{"reason": "deleted"}
			}
			for k, x := range c.props {
				v[k] = x
			}
			items = append(items, v)
		}
	}
	if offset > len(items) {
		bad()
		return
	}
	if s.graph.failIn > 0 {
		s.graph.failIn--
	}
	s.graph.deltaPages++
	to := min(offset+top, len(items))
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(" + q.Get("$select") + ")", "value": append([]map[string]any{}, items[offset:to]...)}
	keep := url.Values{"$select": {q.Get("$select")}}
	if to < len(items) {
		mode := "d"
		if initial {
			mode = "i"
		}
		keep.Set("$skiptoken", mode+"."+strconv.Itoa(from)+"."+strconv.Itoa(to))
		out["@odata.nextLink"] = s.URL + "/v1.0/users/delta?" + keep.Encode()
	} else {
		keep.Set("$deltatoken", strconv.Itoa(len(s.graph.log)))
		out["@odata.deltaLink"] = s.URL + "/v1.0/users/delta?" + keep.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}
