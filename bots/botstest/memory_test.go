package botstest_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/botstest"
)

// memory is a minimal in-process reference implementation, so that the
// suites themselves are checked against something known to be right.
type memory struct {
	mu     sync.Mutex
	vals   map[string][]byte
	until  map[string]time.Time
	owners map[string]string
}

func newMemory(*testing.T) *memory {
	return &memory{vals: map[string][]byte{}, until: map[string]time.Time{}, owners: map[string]string{}}
}

var errBad = errors.New("memory: bad input")

func (m *memory) live(key string) bool { return time.Now().Before(m.until[key]) }

func (m *memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	if key == "" {
		return nil, false, errBad
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.live(key) {
		return nil, false, nil
	}
	return append([]byte{}, m.vals[key]...), true, nil
}

func (m *memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	if key == "" || ttl <= 0 {
		return errBad
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[key] = append([]byte{}, val...)
	m.until[key] = time.Now().Add(ttl)
	return nil
}

func (m *memory) Swap(_ context.Context, key string, old, val []byte, ttl time.Duration) (bool, error) {
	if key == "" || ttl <= 0 {
		return false, errBad
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if (old == nil && m.live(key)) || (old != nil && (!m.live(key) || !bytes.Equal(m.vals[key], old))) {
		return false, nil
	}
	m.vals[key] = append([]byte{}, val...)
	m.until[key] = time.Now().Add(ttl)
	return true, nil
}

func (m *memory) Delete(_ context.Context, key string) error {
	if key == "" {
		return errBad
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.until, key)
	return nil
}

func (m *memory) FirstSeen(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" || ttl <= 0 {
		return false, errBad
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live(key) {
		return false, nil
	}
	m.until[key] = time.Now().Add(ttl)
	return true, nil
}

func (m *memory) TryLock(_ context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if name == "" || owner == "" || ttl <= 0 {
		return false, errBad
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live(name) && m.owners[name] != owner {
		return false, nil
	}
	m.owners[name] = owner
	m.until[name] = time.Now().Add(ttl)
	return true, nil
}

func (m *memory) Unlock(_ context.Context, name, owner string) error {
	if name == "" || owner == "" {
		return errBad
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.owners[name] == owner {
		delete(m.until, name)
	}
	return nil
}

func TestSuitesOnMemory(t *testing.T) {
	t.Parallel()
	shared := newMemory(t) // one store for all subtests: keys must not collide
	t.Run("StateStore", func(t *testing.T) {
		t.Parallel()
		botstest.RunStateStore(t, func(t *testing.T) bots.StateStore { return shared })
	})
	t.Run("Deduper", func(t *testing.T) {
		t.Parallel()
		botstest.RunDeduper(t, func(t *testing.T) bots.Deduper { return newMemory(t) })
	})
	t.Run("Locker", func(t *testing.T) {
		t.Parallel()
		botstest.RunLocker(t, func(t *testing.T) bots.Locker { return shared })
	})
}
