package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/internal/storetest"
)

// TestUserCache: users by id come from memory after the first read, yet a
// directory replaced by this store is seen at once (outside and inside a
// transaction), one replaced by another replica on the same database
// within about a second, and a caller changing the user it got does not
// change what the next caller gets.
func TestUserCache(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	a, b := openIn(t, schema), openIn(t, schema)
	ctx := context.Background()
	dir := func(name string) []*flows.User {
		return []*flows.User{{ID: "u1", Name: name, Roles: []string{"hr"}, Platforms: map[string]string{"feishu": "ou_1"}}}
	}
	require.NoError(t, a.ReplaceDirectory(ctx, dir("Ann"), nil))
	u, err := a.User(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, "Ann", u.Name)
	u.Name, u.Roles[0], u.Platforms["feishu"] = "changed by a caller", "ceo", "ou_x"
	u, err = a.User(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, dir("Ann")[0], u, "the cached user is a copy")

	require.NoError(t, a.ReplaceDirectory(ctx, dir("Bea"), nil))
	u, err = a.User(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, "Bea", u.Name, "this store's own replacement is seen at once")
	require.NoError(t, a.Update(ctx, func(tx flows.Tx) error {
		u, err := tx.User("u1")
		if err == nil {
			assert.Equal(t, "Bea", u.Name, "inside a grouped write too")
		}
		return err
	}))

	_, err = b.User(ctx, "u1") // b caches Bea
	require.NoError(t, err)
	require.NoError(t, a.ReplaceDirectory(ctx, dir("Cai"), nil))
	require.Eventually(t, func() bool {
		u, err := b.User(ctx, "u1")
		return err == nil && u.Name == "Cai"
	}, 3*time.Second, 50*time.Millisecond, "another replica's replacement is seen within about a second")

	require.NoError(t, a.ReplaceDirectory(ctx, nil, nil))
	_, err = a.User(ctx, "u1")
	assert.ErrorIs(t, err, flows.ErrNotFound, "a user removed from the directory is gone")
}

// TestUserByPlatformCache: who a platform id names comes from memory,
// yet a directory replaced by this store is seen at once and one replaced
// by another replica within about a second (storetest).
func TestUserByPlatformCache(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	storetest.UserByPlatformCache(t, openIn(t, schema), openIn(t, schema))
}
