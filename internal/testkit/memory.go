package testkit

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStoreDown is what MemState returns while it is down.
var ErrStoreDown = errors.New("state store down")

// MemState is an in-process bots.StateStore whose TTLs run on a clock
// (the test clock, so tests move time). SetDown makes every call fail as a
// dead Redis would; Calls counts the calls, failed or not.
type MemState struct {
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]memEntry
	down  atomic.Bool
	calls atomic.Int64
}

type memEntry struct {
	val []byte
	exp time.Time
}

// NewMemState returns an empty state store whose TTLs run on now (nil:
// the wall clock).
func NewMemState(now func() time.Time) *MemState {
	if now == nil {
		now = time.Now
	}
	return &MemState{now: now, m: map[string]memEntry{}}
}

// SetDown makes every later call fail with ErrStoreDown (true) or work
// again (false).
func (s *MemState) SetDown(down bool) { s.down.Store(down) }

// Calls returns how many calls the store has had.
func (s *MemState) Calls() int64 { return s.calls.Load() }

// Get returns the value of key; ok is false when absent or expired.
func (s *MemState) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return nil, false, ErrStoreDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok || !s.now().Before(e.exp) {
		return nil, false, nil
	}
	return e.val, true, nil
}

// Set stores a copy of val under key for ttl.
func (s *MemState) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	s.calls.Add(1)
	if s.down.Load() {
		return ErrStoreDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = memEntry{val: append([]byte(nil), val...), exp: s.now().Add(ttl)}
	return nil
}

// Swap stores a copy of val under key for ttl if key holds old (nil:
// absent or expired).
func (s *MemState) Swap(_ context.Context, key string, old, val []byte, ttl time.Duration) (bool, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return false, ErrStoreDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	live := ok && s.now().Before(e.exp)
	if (old == nil && live) || (old != nil && (!live || !bytes.Equal(e.val, old))) {
		return false, nil
	}
	s.m[key] = memEntry{val: append([]byte(nil), val...), exp: s.now().Add(ttl)}
	return true, nil
}

// Delete removes key.
func (s *MemState) Delete(_ context.Context, key string) error {
	s.calls.Add(1)
	if s.down.Load() {
		return ErrStoreDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// MemDedupe is an in-process bots.Deduper (with Forget) that remembers
// every key for the life of the test, whatever the TTL.
type MemDedupe struct {
	mu   sync.Mutex
	seen map[string]bool
}

// NewMemDedupe returns a deduper that has seen nothing.
func NewMemDedupe() *MemDedupe { return &MemDedupe{seen: map[string]bool{}} }

// FirstSeen records key and reports whether it is new.
func (d *MemDedupe) FirstSeen(_ context.Context, key string, _ time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[key] {
		return false, nil
	}
	d.seen[key] = true
	return true, nil
}

// Forget removes key, so that its next FirstSeen is true again.
func (d *MemDedupe) Forget(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, key)
	return nil
}
