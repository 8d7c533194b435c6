package tokenstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api/tokens"
)

// Run checks store against the contract of tokens.Store. newStore returns
// a fresh, empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) tokens.Store) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	mk := func(t *testing.T, name string, scopes []string, user string, ttl time.Duration, at time.Time) (*tokens.Token, string) {
		t.Helper()
		tok, secret, err := tokens.New(tokens.NewParams{Name: name, Scopes: scopes, User: user, TTL: ttl, Now: at})
		require.NoError(t, err)
		return tok, secret
	}

	t.Run("CreateAndFindByHash", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tok, secret := mk(t, "erp sync", []string{"read", "flow:leave"}, "zhang.wei", 720*time.Hour, now)
		require.NoError(t, s.CreateToken(ctx, tok))
		got, err := s.TokenByHash(ctx, tokens.Hash(secret))
		require.NoError(t, err)
		require.Equal(t, tok.ID, got.ID)
		require.Equal(t, "erp sync", got.Name)
		require.Equal(t, []string{"read", "flow:leave"}, got.Scopes)
		require.Equal(t, "zhang.wei", got.User)
		require.True(t, tok.CreatedAt.Equal(got.CreatedAt), "created_at: got %s, want %s", got.CreatedAt, tok.CreatedAt)
		require.NotNil(t, got.ExpiresAt)
		require.True(t, tok.ExpiresAt.Equal(*got.ExpiresAt))
		require.Nil(t, got.RevokedAt)
		require.Nil(t, got.LastUsedAt)
	})

	t.Run("UnknownHash", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.TokenByHash(ctx, tokens.Hash("fbt_nope"))
		require.True(t, errors.Is(err, tokens.ErrNotFound), "got %v, want ErrNotFound", err)
		_, err = s.TokenByHash(ctx, "' OR 1=1 --")
		require.True(t, errors.Is(err, tokens.ErrNotFound), "got %v, want ErrNotFound", err)
	})

	t.Run("DuplicateID", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tok, _ := mk(t, "a", []string{"read"}, "", 0, now)
		require.NoError(t, s.CreateToken(ctx, tok))
		dup := *tok
		dup.Hash = tokens.Hash("other")
		err := s.CreateToken(ctx, &dup)
		require.True(t, errors.Is(err, tokens.ErrConflict), "got %v, want ErrConflict", err)
	})

	t.Run("NoExpiry", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tok, secret := mk(t, "forever", []string{"admin"}, "", 0, now)
		require.NoError(t, s.CreateToken(ctx, tok))
		got, err := s.TokenByHash(ctx, tokens.Hash(secret))
		require.NoError(t, err)
		require.Nil(t, got.ExpiresAt)
		require.Empty(t, got.User)
	})

	t.Run("RevokeKeepsFirstTime", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tok, secret := mk(t, "r", []string{"write"}, "", 0, now)
		require.NoError(t, s.CreateToken(ctx, tok))
		require.NoError(t, s.RevokeToken(ctx, tok.ID, now.Add(time.Hour)))
		require.NoError(t, s.RevokeToken(ctx, tok.ID, now.Add(2*time.Hour)))
		got, err := s.TokenByHash(ctx, tokens.Hash(secret))
		require.NoError(t, err)
		require.NotNil(t, got.RevokedAt)
		require.True(t, now.Add(time.Hour).Equal(*got.RevokedAt), "revoked_at: got %s", got.RevokedAt)
		require.ErrorIs(t, got.Usable(now.Add(3*time.Hour)), tokens.ErrRevoked)
		err = s.RevokeToken(ctx, "tok_unknown", now)
		require.True(t, errors.Is(err, tokens.ErrNotFound), "got %v, want ErrNotFound", err)
	})

	t.Run("TouchRecordsLastUse", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tok, secret := mk(t, "t", []string{"read"}, "", 0, now)
		require.NoError(t, s.CreateToken(ctx, tok))
		at := now.Add(5 * time.Minute)
		require.NoError(t, s.TouchToken(ctx, tok.ID, at))
		got, err := s.TokenByHash(ctx, tokens.Hash(secret))
		require.NoError(t, err)
		require.NotNil(t, got.LastUsedAt)
		require.True(t, at.Equal(*got.LastUsedAt), "last_used_at: got %s, want %s", got.LastUsedAt, at)
	})

	t.Run("ListNewestFirst", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		a, _ := mk(t, "older", []string{"read"}, "", 0, now)
		b, _ := mk(t, "newer", []string{"read"}, "", 0, now.Add(time.Minute))
		require.NoError(t, s.CreateToken(ctx, a))
		require.NoError(t, s.CreateToken(ctx, b))
		list, err := s.Tokens(ctx)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, []string{"newer", "older"}, []string{list[0].Name, list[1].Name})
	})
}
