package flows

import (
	"sync"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// Recheck bounds how long the engine serves, from memory, which version of
// a flow is the latest and who an approver has delegated to. What this
// engine writes (PublishFlow, DeleteFlow, a delegation set or ended in one
// of its operations) empties the cache concerned at once; what another
// engine over the same database writes (another replica, a command run
// beside `flowbot serve`) is seen at most Recheck later: until then a
// submit may start the version that was the latest before (a version that
// exists and stays stored) and a new task may go to the approver rather
// than to a delegate set on the other replica in the last second.
const Recheck = time.Second

// defCache keeps parsed definitions by (id, version). Versions never change
// once stored, so entries never go stale.
type defCache struct {
	mu sync.RWMutex
	m  map[defKey]*flowdef.Definition
}

type defKey struct {
	id string
	v  int
}

func newDefCache() *defCache { return &defCache{m: map[defKey]*flowdef.Definition{}} }

func (c *defCache) get(id string, v int) *flowdef.Definition {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[defKey{id, v}]
}

func (c *defCache) put(id string, v int, d *flowdef.Definition) {
	c.mu.Lock()
	c.m[defKey{id, v}] = d
	c.mu.Unlock()
}

// maxTimed bounds a timedCache: when full, it is emptied.
const maxTimed = 10_000

// timedCache keeps values read from the database by key for at most ttl
// (wall time, not the engine's clock, which tests may stop). invalidate
// empties it and moves its generation, so that a value read before the
// invalidation and put after it is dropped: take gen before reading.
type timedCache[V any] struct {
	ttl time.Duration
	mu  sync.Mutex
	gen uint64
	m   map[string]timed[V]
}

type timed[V any] struct {
	v  V
	at time.Time
}

func newTimedCache[V any](ttl time.Duration) *timedCache[V] {
	return &timedCache[V]{ttl: ttl, m: map[string]timed[V]{}}
}

// get returns the value of key if read less than ttl ago, and the
// generation to pass to put.
func (c *timedCache[V]) get(key string) (v V, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[key]
	if ok && time.Since(t.at) >= c.ttl {
		delete(c.m, key)
		ok = false
	}
	return t.v, ok, c.gen
}

// put stores v under key, read at generation gen; a value read before the
// last invalidation is not stored.
func (c *timedCache[V]) put(key string, gen uint64, v V, readAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.ttl <= 0 {
		return
	}
	if len(c.m) >= maxTimed {
		c.m = map[string]timed[V]{}
	}
	c.m[key] = timed[V]{v, readAt}
}

// invalidate empties the cache.
func (c *timedCache[V]) invalidate() {
	c.mu.Lock()
	c.gen++
	c.m = map[string]timed[V]{}
	c.mu.Unlock()
}

// cachedDelegations are the delegations of one user as DelegationsOf
// returned them for time now: not ended early, End after now.
type cachedDelegations struct {
	now time.Time
	ds  []*Delegation
}

// at returns what DelegationsOf(user, now) returned for a time not before
// c.now (nothing changed since), as copies; ok false for an earlier time.
func (c cachedDelegations) at(now time.Time) (out []*Delegation, ok bool) {
	if now.Before(c.now) {
		return nil, false
	}
	for _, d := range c.ds {
		if d.End.After(now) {
			x := *d
			out = append(out, &x)
		}
	}
	return out, true
}

func cacheDelegations(now time.Time, ds []*Delegation) cachedDelegations {
	c := cachedDelegations{now: now, ds: make([]*Delegation, len(ds))}
	for i, d := range ds {
		x := *d
		c.ds[i] = &x
	}
	return c
}
