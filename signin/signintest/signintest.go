package signintest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/signin"
)

// Run checks the store against the contract of signin.Store. newStore
// returns a fresh, empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) signin.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	mk := func(hash, user string, ttl time.Duration) *signin.Session {
		return &signin.Session{Hash: hash, User: user, Issuer: "https://idp.example", Subject: "sub-" + user, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	}

	t.Run("CreateAndFind", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := mk("h1", "zhang.wei", time.Hour)
		require.NoError(t, s.CreateSession(ctx, want))
		got, err := s.SessionByHash(ctx, "h1")
		require.NoError(t, err)
		require.Equal(t, "zhang.wei", got.User)
		require.Equal(t, "https://idp.example", got.Issuer)
		require.Equal(t, "sub-zhang.wei", got.Subject)
		require.True(t, want.CreatedAt.Equal(got.CreatedAt), "created_at: got %s, want %s", got.CreatedAt, want.CreatedAt)
		require.True(t, want.ExpiresAt.Equal(got.ExpiresAt), "expires_at: got %s, want %s", got.ExpiresAt, want.ExpiresAt)
	})

	t.Run("UnknownHash", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, h := range []string{"nope", "' OR 1=1 --", ""} {
			_, err := s.SessionByHash(ctx, h)
			require.True(t, errors.Is(err, signin.ErrNotFound), "%q: got %v, want ErrNotFound", h, err)
		}
	})

	t.Run("DuplicateHash", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.CreateSession(ctx, mk("h1", "a", time.Hour)))
		err := s.CreateSession(ctx, mk("h1", "b", time.Hour))
		require.True(t, errors.Is(err, signin.ErrConflict), "got %v, want ErrConflict", err)
		got, err := s.SessionByHash(ctx, "h1")
		require.NoError(t, err)
		require.Equal(t, "a", got.User, "the first session is kept")
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.CreateSession(ctx, mk("h1", "a", time.Hour)))
		require.NoError(t, s.CreateSession(ctx, mk("h2", "a", time.Hour)))
		require.NoError(t, s.DeleteSession(ctx, "h1"))
		_, err := s.SessionByHash(ctx, "h1")
		require.True(t, errors.Is(err, signin.ErrNotFound), "got %v, want ErrNotFound", err)
		_, err = s.SessionByHash(ctx, "h2")
		require.NoError(t, err, "the user's other session stays")
		require.NoError(t, s.DeleteSession(ctx, "h1"), "deleting twice is not an error")
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.CreateSession(ctx, mk("old", "a", -time.Minute)))
		require.NoError(t, s.CreateSession(ctx, mk("new", "a", time.Hour)))
		n, err := s.DeleteExpiredSessions(ctx, now)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		_, err = s.SessionByHash(ctx, "old")
		require.True(t, errors.Is(err, signin.ErrNotFound), "got %v, want ErrNotFound", err)
		_, err = s.SessionByHash(ctx, "new")
		require.NoError(t, err)
	})
}
