// Package dircache owns the stores' in-memory cache of users read by id:
// every engine operation looks up its applicant and approvers several
// times, so each store keeps them in memory.
//
// A store empties the cache at once when it replaces the directory itself.
// A directory replaced by another process or replica is noticed through a
// stamp the store bumps in the same transaction and that the cache reads
// at most once per Recheck: such a change is seen within that time.
package dircache

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/flowbot/flowbot/flows"
)

const (
	// Recheck is how often the stamp is read again.
	Recheck = time.Second
	// maxUsers bounds the cache.
	maxUsers = 100_000
)

// Cache keeps users by id. Its zero value is not ready: use New.
type Cache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every invalidation
	stamp   int64  // the stamp the entries were read under; -1 unknown
	checked time.Time
	users   map[string]*flows.User
}

// New returns an empty cache.
func New() *Cache { return &Cache{stamp: -1, users: map[string]*flows.User{}} }

// Invalidate empties the cache.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.gen++
	c.stamp = -1
	c.users = map[string]*flows.User{}
	c.mu.Unlock()
}

// Get returns a copy of the cached user id, after reading the stamp with
// stamp when it was last read more than Recheck ago. gen is the generation
// to pass to Put after reading the user from the database. Nothing is
// cached while the stamp cannot be read.
func (c *Cache) Get(stamp func() (int64, error), id string) (u *flows.User, gen uint64) {
	c.mu.Lock()
	stale := c.stamp < 0 || time.Since(c.checked) > Recheck
	gen = c.gen
	c.mu.Unlock()
	if stale {
		s, err := stamp()
		if err != nil {
			return nil, gen
		}
		c.mu.Lock()
		if c.gen == gen {
			if s != c.stamp {
				c.users = map[string]*flows.User{}
				c.gen++
				c.stamp = s
			}
			c.checked = time.Now()
		}
		gen = c.gen
		c.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cu := c.users[id]; cu != nil && c.gen == gen {
		return clone(cu), gen
	}
	return nil, gen
}

// Put caches u read under generation gen, unless the cache was invalidated
// since.
func (c *Cache) Put(gen uint64, u *flows.User) {
	c.mu.Lock()
	if c.gen == gen && c.stamp >= 0 && len(c.users) < maxUsers {
		c.users[u.ID] = clone(u)
	}
	c.mu.Unlock()
}

func clone(u *flows.User) *flows.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Platforms = maps.Clone(u.Platforms)
	return &c
}
