package postgres

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
)

// dirCache keeps the users read by id in memory, because every engine
// operation looks up its applicant and approvers several times (three
// statements of a submit + approve cycle without it).
//
// It is emptied at once when this DB replaces the directory. A directory
// replaced by another replica (or `flowbot directory import` while
// `flowbot serve` runs) is noticed through a stamp in the sequences table
// that ReplaceDirectory bumps in its transaction and that the cache reads
// at most once per dirRecheck: such a change is seen within that time. A
// new method that writes users must bump the stamp in its transaction and
// call db.dir.invalidate after it.
type dirCache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every invalidation
	stamp   int64  // the stamp the entries were read under; -1 unknown
	checked time.Time
	users   map[string]*flows.User
}

const (
	dirRecheck  = time.Second
	dirStampKey = "\x01directory" // no request number starts with a control character
	maxDirCache = 100_000
	qDirStamp   = `SELECT coalesce((SELECT value FROM sequences WHERE key = $1), 0)`
	qBumpStamp  = `INSERT INTO sequences (key, value) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET value = sequences.value + 1`
)

func newDirCache() *dirCache { return &dirCache{stamp: -1, users: map[string]*flows.User{}} }

// invalidate empties the cache.
func (c *dirCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.stamp = -1
	c.users = map[string]*flows.User{}
	c.mu.Unlock()
}

// get returns a copy of the cached user id, after checking the stamp (with
// read: on the caller's own connection or transaction) when it was last
// checked more than dirRecheck ago. gen is the generation to pass to put
// after reading the user from the database.
func (c *dirCache) get(read func(q string, args ...any) pgx.Row, id string) (u *flows.User, gen uint64) {
	c.mu.Lock()
	stale := c.stamp < 0 || time.Since(c.checked) > dirRecheck
	gen = c.gen
	c.mu.Unlock()
	if stale {
		var stamp int64
		if err := read(qDirStamp, dirStampKey).Scan(&stamp); err != nil {
			return nil, gen // no caching while the stamp cannot be read
		}
		c.mu.Lock()
		if c.gen == gen {
			if stamp != c.stamp {
				c.users = map[string]*flows.User{}
				c.gen++
				c.stamp = stamp
			}
			c.checked = time.Now()
		}
		gen = c.gen
		c.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cu := c.users[id]; cu != nil && c.gen == gen {
		return cloneUser(cu), gen
	}
	return nil, gen
}

// put caches u read under generation gen, unless the cache was invalidated
// since.
func (c *dirCache) put(gen uint64, u *flows.User) {
	c.mu.Lock()
	if c.gen == gen && c.stamp >= 0 && len(c.users) < maxDirCache {
		c.users[u.ID] = cloneUser(u)
	}
	c.mu.Unlock()
}

func cloneUser(u *flows.User) *flows.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Platforms = maps.Clone(u.Platforms)
	return &c
}
