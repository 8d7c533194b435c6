package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/flows"
)

// Tokens returns the API token store backed by db.
func (db *DB) Tokens() tokens.Store { return (*tokenStore)(db) }

type tokenStore DB

var _ tokens.Store = (*tokenStore)(nil)

const tokenCols = `id, name, hash, scopes, user_id, created_at, expires_at, revoked_at, last_used_at`

func scanToken(r pgx.Row) (*tokens.Token, error) {
	var t tokens.Token
	var scopes string
	if err := r.Scan(&t.ID, &t.Name, &t.Hash, &scopes, &t.User, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt); err != nil {
		return nil, err
	}
	utc(&t.CreatedAt)
	nutc(&t.ExpiresAt)
	nutc(&t.RevokedAt)
	nutc(&t.LastUsedAt)
	t.Scopes = strings.Split(scopes, ",")
	return &t, nil
}

// CreateToken inserts t.
func (s *tokenStore) CreateToken(ctx context.Context, t *tokens.Token) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.Name, t.Hash, strings.Join(t.Scopes, ","), t.User, ms(t.CreatedAt), nms(t.ExpiresAt), nms(t.RevokedAt), nms(t.LastUsedAt))
	if err = mapErr(err); errors.Is(err, flows.ErrConflict) {
		return fmt.Errorf("create token %s: %w", t.ID, tokens.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// TokenByHash finds a token by the hash of its secret.
func (s *tokenStore) TokenByHash(ctx context.Context, hash string) (*tokens.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, tokens.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	return t, nil
}

// Tokens lists every token, newest first.
func (s *tokenStore) Tokens(ctx context.Context) ([]*tokens.Token, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens ORDER BY created_at DESC, id`)
	out, err := collect(rows, scanToken)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks token id revoked (the first time counts).
func (s *tokenStore) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "revoke token "+id, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, ms(at), id)
}

// TouchToken records a use of token id.
func (s *tokenStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "touch token "+id, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, ms(at), id)
}

func (s *tokenStore) execOne(ctx context.Context, what, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, tokens.ErrNotFound)
	}
	return nil
}
