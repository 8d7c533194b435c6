package seen

import (
	"sync"
	"time"
)

// maxKeys is the size past which expired keys are swept.
const maxKeys = 100000

// Set remembers keys for a TTL. It is safe for concurrent use.
type Set struct {
	now func() time.Time
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]time.Time
}

// New returns a Set whose keys are remembered for ttl by the clock now.
func New(now func() time.Time, ttl time.Duration) *Set {
	return &Set{now: now, ttl: ttl, m: map[string]time.Time{}}
}

// First records key and reports whether it was not seen within the TTL.
func (s *Set) First(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if exp, ok := s.m[key]; ok && now.Before(exp) {
		return false
	}
	if len(s.m) > maxKeys {
		for k, exp := range s.m {
			if !now.Before(exp) {
				delete(s.m, k)
			}
		}
	}
	s.m[key] = now.Add(s.ttl)
	return true
}

// Forget removes key, so that a redelivery of an event that failed is
// handled again.
func (s *Set) Forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
