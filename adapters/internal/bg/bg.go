package bg

import (
	"context"
	"sync"
	"time"
)

// Group runs background functions and stops them on Close. The zero
// value is not usable: call New.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc

	// dead is the cancelled context of work started after Close.
	dead context.Context

	mu      sync.Mutex
	closed  bool
	running int
	idle    *sync.Cond // signalled when running drops to 0
}

// New returns an open group.
func New() *Group {
	g := &Group{}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	g.dead = dead
	g.idle = sync.NewCond(&g.mu)
	return g
}

// Go runs f in its own goroutine with the group's context, tracked by
// Close. After Close, f still runs (so that a caller waiting on its result
// is answered) but untracked and with a cancelled context; Go then
// reports false.
func (g *Group) Go(f func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		go f(g.dead)
		return false
	}
	g.running++
	go func() {
		defer g.finish()
		f(g.ctx)
	}()
	return true
}

// Close stops accepting work, waits up to grace for the work running to
// finish, then cancels the context of what is left and waits for it to
// return. It reports whether everything finished within the grace. Calling
// it again waits again (with its own grace) and cancels.
func (g *Group) Close(grace time.Duration) bool {
	g.mu.Lock()
	g.closed = true
	if g.running == 0 {
		g.mu.Unlock()
		g.cancel()
		return true
	}
	g.mu.Unlock()
	done := make(chan struct{})
	go func() {
		g.mu.Lock()
		for g.running > 0 {
			g.idle.Wait()
		}
		g.mu.Unlock()
		close(done)
	}()
	inTime := false
	if grace > 0 {
		t := time.NewTimer(grace)
		select {
		case <-done:
			inTime = true
		case <-t.C:
		}
		t.Stop()
	}
	g.cancel()
	<-done
	return inTime
}

func (g *Group) finish() {
	g.mu.Lock()
	g.running--
	if g.running == 0 {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

// Closed reports whether Close was called.
func (g *Group) Closed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}
