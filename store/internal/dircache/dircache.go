// Package dircache owns the stores' in-memory cache of users read by id
// and by platform id: every engine operation looks up its applicant and
// approvers several times, and every inbound chat event its sender by the
// platform's id, so each store keeps them in memory.
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

// Cache keeps users by id, and which user a platform id names. Its zero
// value is not ready: use New.
type Cache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every invalidation
	stamp   int64  // the stamp the entries were read under; -1 unknown
	checked time.Time
	users   map[string]*flows.User
	byPID   map[platformID]string // user ids by platform key and id there; "": nobody
}

type platformID struct{ platform, id string }

// New returns an empty cache.
func New() *Cache {
	return &Cache{stamp: -1, users: map[string]*flows.User{}, byPID: map[platformID]string{}}
}

// Invalidate empties the cache.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.gen++
	c.stamp = -1
	c.empty()
	c.mu.Unlock()
}

// empty drops every entry; c.mu is held.
func (c *Cache) empty() {
	c.users = map[string]*flows.User{}
	c.byPID = map[platformID]string{}
}

// Get returns a copy of the cached user id, after reading the stamp with
// stamp when it was last read more than Recheck ago. gen is the generation
// to pass to Put after reading the user from the database. Nothing is
// cached while the stamp cannot be read.
func (c *Cache) Get(stamp func() (int64, error), id string) (u *flows.User, gen uint64) {
	gen = c.check(stamp)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cu := c.users[id]; cu != nil && c.gen == gen {
		return clone(cu), gen
	}
	return nil, gen
}

// GetByPlatform returns a copy of the cached user whose id on the platform
// of key platform ("feishu", "feishu:cli_a1") is pid, as Get does, or
// absent when the directory was found to have nobody with that id (an
// event's sender is looked up under the app-qualified key first, which
// most directories do not use). gen is the generation to pass to
// PutByPlatform or PutAbsent.
func (c *Cache) GetByPlatform(stamp func() (int64, error), platform, pid string) (u *flows.User, absent bool, gen uint64) {
	gen = c.check(stamp)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil, false, gen
	}
	if id, ok := c.byPID[platformID{platform, pid}]; ok {
		if id == "" {
			return nil, true, gen
		}
		if cu := c.users[id]; cu != nil {
			return clone(cu), false, gen
		}
	}
	return nil, false, gen
}

// check reads the stamp again when it was last read more than Recheck
// ago, empties the cache when it moved, and returns the generation.
func (c *Cache) check(stamp func() (int64, error)) (gen uint64) {
	c.mu.Lock()
	stale := c.stamp < 0 || time.Since(c.checked) > Recheck
	gen = c.gen
	c.mu.Unlock()
	if stale {
		s, err := stamp()
		if err != nil {
			return gen
		}
		c.mu.Lock()
		if c.gen == gen {
			if s != c.stamp {
				c.empty()
				c.gen++
				c.stamp = s
			}
			c.checked = time.Now()
		}
		gen = c.gen
		c.mu.Unlock()
	}
	return gen
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

// PutByPlatform caches u, read from the database as the user whose id on
// platform is pid under generation gen, unless the cache was invalidated
// since.
func (c *Cache) PutByPlatform(gen uint64, platform, pid string, u *flows.User) {
	c.mu.Lock()
	if c.gen == gen && c.stamp >= 0 && len(c.users) < maxUsers && len(c.byPID) < maxUsers {
		c.users[u.ID] = clone(u)
		c.byPID[platformID{platform, pid}] = u.ID
	}
	c.mu.Unlock()
}

// PutAbsent records that the directory, read under generation gen, has
// nobody whose id on platform is pid, unless the cache was invalidated
// since.
func (c *Cache) PutAbsent(gen uint64, platform, pid string) {
	c.mu.Lock()
	if c.gen == gen && c.stamp >= 0 && len(c.byPID) < maxUsers {
		c.byPID[platformID{platform, pid}] = ""
	}
	c.mu.Unlock()
}

func clone(u *flows.User) *flows.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Platforms = maps.Clone(u.Platforms)
	return &c
}
