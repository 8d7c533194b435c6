package sqlite

import (
	"sync"

	"github.com/flowbot/flowbot/flows"
)

// refInstances bounds the requests whose message refs are kept in memory.
const refInstances = 4096

// maxKeptRefs bounds the refs kept of one request: those of a request
// with more are read each time.
const maxKeptRefs = 256

// refCache keeps the message refs of the requests whose refs were read
// lately, so that the notifier's card updates, which list a request's
// refs each time, read them once. It stays exact because every ref is
// written by this process's writer: a ref written is added as its
// transaction commits (AfterCommit), in commit order, which is id order;
// a write by another process (checkForeign) empties it. A list read from
// the store is kept only if no ref of its request was written meanwhile.
type refCache struct {
	mu     sync.Mutex
	gen    uint64 // refs written (committed)
	byInst map[int64][]flows.MessageRef
	ring   []int64 // instance ids in the order they came in
	next   int
	// touched is the gen of the last ref written of each request whose
	// refs are not kept; floor is the gen when touched was last emptied
	// (a read begun before it may have missed a ref).
	touched map[int64]uint64
	floor   uint64
}

func newRefCache(n int) *refCache {
	return &refCache{byInst: make(map[int64][]flows.MessageRef, n), ring: make([]int64, n), touched: map[int64]uint64{}}
}

// get returns copies of instance id's refs of taskID (0: all), if kept.
func (c *refCache) get(id, taskID int64) ([]*flows.MessageRef, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	refs, ok := c.byInst[id]
	if !ok {
		return nil, false
	}
	var out []*flows.MessageRef
	for i := range refs {
		if taskID == 0 || refs[i].TaskID == taskID {
			r := refs[i]
			out = append(out, &r)
		}
	}
	return out, true
}

func (c *refCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// read keeps refs, all of instance id's as read by a read begun when
// generation returned gen, unless a ref of id was written since. Refs
// kept already are newer: they stay.
func (c *refCache) read(id int64, refs []*flows.MessageRef, gen uint64) {
	kept := make([]flows.MessageRef, len(refs))
	for i, r := range refs {
		kept[i] = *r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byInst[id]; ok || gen < c.floor || c.touched[id] > gen || len(refs) > maxKeptRefs {
		return
	}
	c.keep(id, kept)
}

// created records that instance id was created (committed): it has no
// refs, so all of its refs are known from now on.
func (c *refCache) created(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byInst[id]; !ok {
		c.keep(id, nil)
	}
}

// keep keeps refs as all of instance id's; c.mu is held.
func (c *refCache) keep(id int64, refs []flows.MessageRef) {
	if gone := c.ring[c.next]; gone != 0 {
		delete(c.byInst, gone)
	}
	c.ring[c.next] = id
	c.next = (c.next + 1) % len(c.ring)
	c.byInst[id] = refs
	delete(c.touched, id)
}

// added records r, written and committed, as a read would show it.
func (c *refCache) added(r flows.MessageRef) {
	r.CreatedAt = fromMS(ms(r.CreatedAt))
	if len(r.Data) == 0 {
		r.Data = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if refs, ok := c.byInst[r.InstanceID]; ok && len(refs) < maxKeptRefs {
		c.byInst[r.InstanceID] = append(refs, r)
		return
	}
	delete(c.byInst, r.InstanceID) // too many: read each time (its ring slot stays)
	if len(c.touched) >= 4*len(c.ring) {
		clear(c.touched)
		c.floor = c.gen
	}
	c.touched[r.InstanceID] = c.gen
}

// clear forgets every request's refs.
func (c *refCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.byInst)
	clear(c.ring)
	clear(c.touched)
	c.next, c.floor = 0, c.gen
}
