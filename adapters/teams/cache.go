package teams

import (
	"sync"
	"time"
)

// ttlMap maps send keys to the refs of their first send. A key being sent
// holds a channel that a concurrent send with the same key waits on.
type ttlMap struct {
	now func() time.Time
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*sendEntry
}

type sendEntry struct {
	ref  string
	exp  time.Time
	done chan struct{}
	ok   bool
}

func newTTLMap(now func() time.Time, ttl time.Duration) *ttlMap {
	return &ttlMap{now: now, ttl: ttl, m: map[string]*sendEntry{}}
}

// claim returns the entry of key: owner is true when the caller must send
// (and then call finish).
func (m *ttlMap) claim(key string) (e *sendEntry, owner bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if e, ok := m.m[key]; ok && (e.exp.IsZero() || now.Before(e.exp)) {
		return e, false
	}
	if len(m.m) > 100000 {
		for k, e := range m.m {
			if !e.exp.IsZero() && !now.Before(e.exp) {
				delete(m.m, k)
			}
		}
	}
	e = &sendEntry{done: make(chan struct{})}
	m.m[key] = e
	return e, true
}

// finish records the outcome of the owner's send; a failed send forgets
// the key so that a retry sends again.
func (m *ttlMap) finish(key string, e *sendEntry, ref string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ref, e.ok = ref, ok
	if ok {
		e.exp = m.now().Add(m.ttl)
	} else {
		delete(m.m, key)
	}
	close(e.done)
}

// convRefs are the conversation references of verified activities: the
// serviceUrl of each conversation and the 1:1 conversation of each user.
type convRefs struct {
	mu    sync.Mutex
	svc   map[string]string // conversation id -> serviceUrl
	users map[string]string // user id (29:... or AAD object id) -> 1:1 conversation id
}

func newConvRefs() *convRefs {
	return &convRefs{svc: map[string]string{}, users: map[string]string{}}
}

func (c *convRefs) put(conv, svc string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.svc) > 100000 {
		clear(c.svc)
	}
	c.svc[conv] = svc
}

func (c *convRefs) putUser(user, conv string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.users) > 100000 {
		clear(c.users)
	}
	c.users[user] = conv
}

func (c *convRefs) service(conv string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.svc[conv]
	return s, ok
}

func (c *convRefs) user(user string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.users[user]
	return s, ok
}
