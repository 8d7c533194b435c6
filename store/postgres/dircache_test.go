package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
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

// TestUserByPlatformCache: a user found by platform id, and a platform id
// found to name nobody, come from memory after the first read, yet a
// directory replaced by this store is seen at once and one replaced by
// another replica within about a second.
func TestUserByPlatformCache(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	a, b := openIn(t, schema), openIn(t, schema)
	ctx := context.Background()
	dir := func(name, key string) []*flows.User {
		return []*flows.User{{ID: "u1", Name: name, Platforms: map[string]string{key: "ou_1"}}}
	}
	name := func(key string) (string, error) {
		u, err := a.UserByPlatform(ctx, key, "ou_1")
		if err != nil {
			return "", err
		}
		return u.Name, nil
	}
	require.NoError(t, a.ReplaceDirectory(ctx, dir("Ann", "feishu"), nil))
	for range 2 { // read, then cached
		got, err := name("feishu")
		require.NoError(t, err)
		require.Equal(t, "Ann", got)
		_, err = name("feishu:cli_a")
		require.ErrorIs(t, err, flows.ErrNotFound)
	}
	require.NoError(t, a.ReplaceDirectory(ctx, dir("Bea", "feishu:cli_a"), nil))
	got, err := name("feishu:cli_a")
	require.NoError(t, err)
	assert.Equal(t, "Bea", got, "this store's own replacement is seen at once, absences included")
	_, err = name("feishu")
	assert.ErrorIs(t, err, flows.ErrNotFound)

	require.NoError(t, b.ReplaceDirectory(ctx, dir("Cid", "feishu"), nil))
	assert.Eventually(t, func() bool {
		got, err := name("feishu")
		return err == nil && got == "Cid"
	}, 3*time.Second, 50*time.Millisecond, "another replica's replacement seen within about a second")
}
