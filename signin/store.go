package signin

import (
	"context"
	"errors"
	"time"
)

// Store errors.
var (
	// ErrNotFound: no session with that hash.
	ErrNotFound = errors.New("session not found")
	// ErrConflict: a session with that hash exists already.
	ErrConflict = errors.New("session exists")
)

// Store keeps sessions. Implementations: store/sqlite, store/postgres; both
// run signintest.Run.
type Store interface {
	// CreateSession inserts s (Hash set by the caller).
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash finds a session by the hash of its secret, expired or
	// not (the caller checks ExpiresAt).
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	// DeleteSession removes a session; an unknown hash is not an error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteExpiredSessions removes the sessions expired at now and says
	// how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// Session is one signed-in browser. The secret in the cookie is never
// stored: only its SHA-256 (Hash).
type Session struct {
	Hash      string    // hex SHA-256 of the cookie's secret
	User      string    // directory user id
	Issuer    string    // the identity provider that signed the user in
	Subject   string    // the user's subject there
	CreatedAt time.Time // sign-in time
	ExpiresAt time.Time // after this the session is refused and removed
}
