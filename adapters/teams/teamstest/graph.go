package teamstest

import (
	"net/http"
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

func graphError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

// graphUsers serves GET /v1.0/users with $top (1..999), $skiptoken (an
// offset the fake issued) and $expand=manager, as Graph pages it: an
// @odata.nextLink while more remain.
func (s *Server) graphUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.graph.limited > 0 {
		s.graph.limited--
		w.Header().Set("Retry-After", "2")
		graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests")
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.graph.tokens[tok] {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty or not a Graph token.")
		return
	}
	if s.graph.failIn == 0 {
		graphError(w, http.StatusServiceUnavailable, "serviceNotAvailable", "Service unavailable")
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
