package dirsync

import (
	"context"
	"sync"
	"time"
)

// Token caches a platform's access token for the sources: it is used
// until a minute before it expires, and fetched again after Forget (the
// platform said it is no longer valid). The zero Token is ready to use.
type Token struct {
	mu    sync.Mutex
	value string
	exp   time.Time
}

// Get returns the cached token, or fetches one: fetch returns the token
// and how long the platform says it lives.
func (t *Token) Get(ctx context.Context, fetch func(context.Context) (string, time.Duration, error)) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.value != "" && time.Now().Before(t.exp) {
		return t.value, nil
	}
	v, life, err := fetch(ctx)
	if err != nil {
		return "", err
	}
	t.value, t.exp = v, time.Now().Add(life-time.Minute)
	return v, nil
}

// Forget drops the cached token.
func (t *Token) Forget() {
	t.mu.Lock()
	t.value = ""
	t.mu.Unlock()
}
