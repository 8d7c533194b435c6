package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/signin"
)

// Sessions returns the web sign-in session store backed by db.
func (db *DB) Sessions() signin.Store { return (*sessionStore)(db) }

type sessionStore DB

var _ signin.Store = (*sessionStore)(nil)

// CreateSession inserts s.
func (s *sessionStore) CreateSession(ctx context.Context, sess *signin.Session) error {
	err := (*DB)(s).write(ctx, func(x *tx) error {
		_, err := x.exec(`INSERT INTO web_sessions (hash, user_id, issuer, subject, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			sess.Hash, sess.User, sess.Issuer, sess.Subject, ms(sess.CreatedAt), ms(sess.ExpiresAt))
		return mapErr(err)
	})
	if errors.Is(err, flows.ErrConflict) {
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
	err := (*DB)(s).queryRow(ctx, `SELECT hash, user_id, issuer, subject, created_at, expires_at FROM web_sessions WHERE hash = ?`, hash).
		Scan(&sess.Hash, &sess.User, &sess.Issuer, &sess.Subject, msTime{&sess.CreatedAt}, msTime{&sess.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, signin.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return &sess, nil
}

// DeleteSession removes a session (signing out).
func (s *sessionStore) DeleteSession(ctx context.Context, hash string) error {
	err := (*DB)(s).write(ctx, func(x *tx) error {
		_, err := x.exec(`DELETE FROM web_sessions WHERE hash = ?`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions expired at now.
func (s *sessionStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := (*DB)(s).write(ctx, func(x *tx) error {
		res, err := x.exec(`DELETE FROM web_sessions WHERE expires_at <= ?`, ms(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
