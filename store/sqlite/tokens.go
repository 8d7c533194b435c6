package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/flows"
)

// Tokens returns the API token store backed by db.
func (db *DB) Tokens() tokens.Store { return (*tokenStore)(db) }

type tokenStore DB

var _ tokens.Store = (*tokenStore)(nil)

const tokenCols = `id, name, hash, scopes, user_id, created_at, expires_at, revoked_at, last_used_at`

func scanToken(s scanner) (*tokens.Token, error) {
	var t tokens.Token
	var scopes string
	if err := s.Scan(&t.ID, &t.Name, &t.Hash, &scopes, &t.User, msTime{&t.CreatedAt},
		nullMS{&t.ExpiresAt}, nullMS{&t.RevokedAt}, nullMS{&t.LastUsedAt}); err != nil {
		return nil, err
	}
	t.Scopes = strings.Split(scopes, ",")
	return &t, nil
}

// CreateToken inserts t.
func (s *tokenStore) CreateToken(ctx context.Context, t *tokens.Token) error {
	err := (*DB)(s).write(ctx, func(x *tx) error {
		_, err := x.exec(`INSERT INTO api_tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, t.Hash, strings.Join(t.Scopes, ","), t.User, ms(t.CreatedAt), nms(t.ExpiresAt), nms(t.RevokedAt), nms(t.LastUsedAt))
		return mapErr(err)
	})
	if errors.Is(err, flows.ErrConflict) {
		return fmt.Errorf("create token %s: %w", t.ID, tokens.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// TokenByHash finds a token by the hash of its secret.
func (s *tokenStore) TokenByHash(ctx context.Context, hash string) (*tokens.Token, error) {
	t, err := scanToken((*DB)(s).queryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokens.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	return t, nil
}

// Tokens lists every token, newest first.
func (s *tokenStore) Tokens(ctx context.Context) ([]*tokens.Token, error) {
	rows, err := (*DB)(s).query(ctx, `SELECT `+tokenCols+` FROM api_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []*tokens.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks token id revoked (the first time counts).
func (s *tokenStore) RevokeToken(ctx context.Context, id string, at time.Time) error {
	err := (*DB)(s).execOne(ctx, "revoke token "+id,
		`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, ms(at), id)
	if errors.Is(err, flows.ErrNotFound) {
		return fmt.Errorf("revoke token %s: %w", id, tokens.ErrNotFound)
	}
	return err
}

// TouchToken records a use of token id.
func (s *tokenStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	err := (*DB)(s).execOne(ctx, "touch token "+id, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ms(at), id)
	if errors.Is(err, flows.ErrNotFound) {
		return fmt.Errorf("touch token %s: %w", id, tokens.ErrNotFound)
	}
	return err
}
