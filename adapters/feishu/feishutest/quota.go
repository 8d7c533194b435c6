package feishutest

import (
	"net/http"
	"time"
)

// Quota is Feishu's message-sending quota as the fake enforces it once
// EnforceQuota is called: per app, at most PerSecond message calls
// (creates, card patches and delayed card updates) in any second and
// PerMinute in any 60 s; per chat, at most ChatPerSecond creates in any
// second. A call over it is answered HTTP 429 with code 99991400, as
// Feishu does, and counted (Limited). Zero fields do not limit.
type Quota struct {
	PerSecond, PerMinute, ChatPerSecond int
}

// FeishuQuota is Feishu's standard quota for sending messages: 50 a
// second and 1,000 a minute per app, 5 a second per chat.
func FeishuQuota() Quota { return Quota{PerSecond: 50, PerMinute: 1000, ChatPerSecond: 5} }

// quota is the enforced Quota and the times of the calls it let through.
type quota struct {
	q       Quota
	app     map[string][]time.Time // app id -> admitted calls, oldest first (the last minute)
	chat    map[string][]time.Time // chat id -> admitted creates (the last second)
	limited int
}

// EnforceQuota makes the fake refuse message calls over q from now on
// (the counts start empty).
func (s *Server) EnforceQuota(q Quota) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = &quota{q: q, app: map[string][]time.Time{}, chat: map[string][]time.Time{}}
}

// Limited is how many calls EnforceQuota's quota refused.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quota == nil {
		return 0
	}
	return s.quota.limited
}

// within counts the times of ts after since (ts oldest first).
func within(ts []time.Time, since time.Time) int {
	n := 0
	for i := len(ts) - 1; i >= 0 && ts[i].After(since); i-- {
		n++
	}
	return n
}

// admit reports whether a message call of app (to chat, "" for an update)
// at now fits the quota, and records it if so; s.mu is held.
func (s *Server) admit(w http.ResponseWriter, app, chat string, now time.Time) bool {
	q := s.quota
	if q == nil {
		return true
	}
	ts := q.app[app]
	// Forget what is older than a minute.
	drop := 0
	for drop < len(ts) && !ts[drop].After(now.Add(-time.Minute)) {
		drop++
	}
	ts = ts[drop:]
	over := (q.q.PerSecond > 0 && within(ts, now.Add(-time.Second)) >= q.q.PerSecond) ||
		(q.q.PerMinute > 0 && len(ts) >= q.q.PerMinute)
	var cs []time.Time
	if chat != "" && q.q.ChatPerSecond > 0 {
		cs = q.chat[chat]
		d := 0
		for d < len(cs) && !cs[d].After(now.Add(-time.Second)) {
			d++
		}
		cs = cs[d:]
		over = over || len(cs) >= q.q.ChatPerSecond
	}
	if over {
		q.app[app] = ts
		q.limited++
		writeFeishu(w, http.StatusTooManyRequests, codeRateLimited, "request trigger frequency limit", nil)
		return false
	}
	q.app[app] = append(ts, now)
	if chat != "" && q.q.ChatPerSecond > 0 {
		if len(cs) == 0 {
			delete(q.chat, chat)
			cs = nil
		}
		q.chat[chat] = append(cs, now)
	}
	return true
}
