package sqlite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/internal/storetest"
	"github.com/flowbot/flowbot/store/sqlite"
)

// TestUserCacheFollowsDirectoryChanges: a user read once (and cached) is
// read anew after this DB replaced the directory (at once) and after
// another handle on the same file did (another process: within a second);
// changing a returned user does not change the next answer.
func TestUserCacheFollowsDirectoryChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := MustOpen(t)
	org := func(name string) []*flows.User {
		return []*flows.User{{ID: "u1", Name: name, Roles: []string{"r"}, Platforms: map[string]string{"web": "u1"}}}
	}
	require.NoError(t, db.ReplaceDirectory(ctx, org("Ann"), nil))
	u, err := db.User(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, "Ann", u.Name)
	u.Name, u.Roles[0], u.Platforms["web"] = "changed by caller", "x", "x"
	u, err = db.User(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, &flows.User{ID: "u1", Name: "Ann", Roles: []string{"r"}, Platforms: map[string]string{"web": "u1"}}, u)

	require.NoError(t, db.ReplaceDirectory(ctx, org("Bea"), nil))
	u, err = db.User(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, "Bea", u.Name, "own ReplaceDirectory seen at once")

	other, err := sqlite.Open(ctx, path, sqlite.WithLogger(quiet))
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.ReplaceDirectory(ctx, org("Cid"), nil))
	assert.Eventually(t, func() bool {
		u, err := db.User(ctx, "u1")
		return err == nil && u.Name == "Cid"
	}, 3*time.Second, 50*time.Millisecond, "another process's import seen within a second")

	require.NoError(t, other.ReplaceDirectory(ctx, nil, nil))
	assert.Eventually(t, func() bool {
		_, err := db.User(ctx, "u1")
		return err != nil
	}, 3*time.Second, 50*time.Millisecond, "a user removed by another process is gone within a second")
	_, err = db.User(ctx, "u1")
	assert.ErrorIs(t, err, flows.ErrNotFound)
}

// TestUserByPlatformCacheFollowsDirectoryChanges: who a platform id names
// (an event's sender is looked up under the app-qualified key first) is
// read anew after this DB replaced the directory (at once) and after
// another handle on the same file did (within a second; storetest).
func TestUserByPlatformCacheFollowsDirectoryChanges(t *testing.T) {
	t.Parallel()
	db, path := MustOpen(t)
	other, err := sqlite.Open(t.Context(), path, sqlite.WithLogger(quiet))
	require.NoError(t, err)
	defer other.Close()
	storetest.UserByPlatformCache(t, db, other)
}
