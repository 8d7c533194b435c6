package testkit

import (
	"context"
	"sync/atomic"

	"github.com/flowbot/flowbot/flows"
)

// ReadCounter is a flows.Store that counts its read transactions (View),
// for tests that check how often an operation reads.
type ReadCounter struct {
	flows.Store
	n atomic.Int64
}

// View counts the read, then runs it on the wrapped store.
func (c *ReadCounter) View(ctx context.Context, fn func(tx flows.Tx) error) error {
	c.n.Add(1)
	return c.Store.View(ctx, fn)
}

// Reads is how many read transactions have begun.
func (c *ReadCounter) Reads() int64 { return c.n.Load() }
