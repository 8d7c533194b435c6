package flows

import (
	"sync"

	"github.com/flowbot/flowbot/flows/flowdef"
)

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
