package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/signin"
)

// Sessions returns the web sign-in session store backed by db.
func (db *DB) Sessions() signin.Store { return (*sessionStore)(db) }

type sessionStore DB

var _ signin.Store = (*sessionStore)(nil)

// CreateSession inserts s.
func (s *sessionStore) CreateSession(ctx context.Context, sess *signin.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO web_sessions (hash, user_id, issuer, subject, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		sess.Hash, sess.User, sess.Issuer, sess.Subject, ms(sess.CreatedAt), ms(sess.ExpiresAt))
	if err = mapErr(err); errors.Is(err, flows.ErrConflict) {
		return fmt.Errorf("create session: %w", signin.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByHash finds a session by the hash of its secret.
func (s *sessionStore) SessionByHash(ctx context.Context, hash string) (*signin.Session, error) {
	var sess signin.Session
	err := s.pool.QueryRow(ctx, `SELECT hash, user_id, issuer, subject, created_at, expires_at FROM web_sessions WHERE hash = $1`, hash).
		Scan(&sess.Hash, &sess.User, &sess.Issuer, &sess.Subject, &sess.CreatedAt, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, signin.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	utc(&sess.CreatedAt)
	utc(&sess.ExpiresAt)
	return &sess, nil
}

// DeleteSession removes a session (signing out).
func (s *sessionStore) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions expired at now.
func (s *sessionStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
