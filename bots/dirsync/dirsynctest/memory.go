package dirsynctest

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/flowbot/flowbot/bots/dirsync"
)

// Memory is a Platform kept in memory: people first, then departments,
// PageSize entries per page, the token being the offset.
type Memory struct {
	Key      string
	PageSize int

	mu       sync.Mutex
	people   []dirsync.Person
	depts    []dirsync.Dept
	served   int
	failIn   int // >0: that many pages succeed, then every request fails
	limited  int
	requests []string
}

// NewMemory returns an empty Memory platform named key.
func NewMemory(key string) *Memory { return &Memory{Key: key, PageSize: 2, failIn: -1} }

func (m *Memory) Source() dirsync.Source { return m }

func (m *Memory) Platform() string { return m.Key }

// SetDirectory replaces the platform's directory.
func (m *Memory) SetDirectory(people []dirsync.Person, depts []dirsync.Dept) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.people, m.depts = people, depts
}

// FailAfter lets n more pages succeed, then fails every request; n < 0
// heals.
func (m *Memory) FailAfter(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failIn = n
}

// RateLimitNext answers the next n requests with a rate limit.
func (m *Memory) RateLimitNext(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.limited = n
}

// PagesServed counts the pages answered.
func (m *Memory) PagesServed() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.served
}

// Fetch returns the page at c.Token (an offset over depts then people).
func (m *Memory) Fetch(_ context.Context, c dirsync.Cursor) (dirsync.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests = append(m.requests, c.Token)
	if m.limited > 0 {
		m.limited--
		return dirsync.Page{}, &dirsync.RateLimited{Platform: m.Key, Detail: "too many requests"}
	}
	if m.failIn == 0 {
		return dirsync.Page{}, errors.New("memory: connection reset")
	}
	if m.failIn > 0 {
		m.failIn--
	}
	off := 0
	if c.Token != "" {
		n, err := strconv.Atoi(c.Token)
		if err != nil || n < 0 {
			return dirsync.Page{}, errors.New("memory: bad token " + c.Token)
		}
		off = n
	}
	var p dirsync.Page
	total := len(m.depts) + len(m.people)
	end := min(off+m.PageSize, total)
	for i := off; i < end; i++ {
		if i < len(m.depts) {
			p.Depts = append(p.Depts, m.depts[i])
		} else {
			p.People = append(p.People, m.people[i-len(m.depts)])
		}
	}
	if end < total {
		p.Next = strconv.Itoa(end)
	}
	m.served++
	return p, nil
}

var _ dirsync.Lookup = (*Memory)(nil)

// Person looks one account up (dirsync.Lookup).
func (m *Memory) Person(_ context.Context, id string) (dirsync.Person, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failIn == 0 {
		return dirsync.Person{}, false, errors.New("memory: connection reset")
	}
	for _, p := range m.people {
		if p.ID == id {
			return p, true, nil
		}
	}
	return dirsync.Person{}, false, nil
}

// Dept looks one department up (dirsync.Lookup).
func (m *Memory) Dept(_ context.Context, id string) (dirsync.Dept, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failIn == 0 {
		return dirsync.Dept{}, false, errors.New("memory: connection reset")
	}
	for _, d := range m.depts {
		if d.ID == id {
			return d, true, nil
		}
	}
	return dirsync.Dept{}, false, nil
}
