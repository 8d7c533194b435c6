package sqlite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
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

// TestUserByPlatformCacheFollowsDirectoryChanges: a user found by platform
// id, and a platform id found to name nobody (an event's sender is looked
// up under the app-qualified key first), are read anew after this DB
// replaced the directory (at once) and after another handle on the same
// file did (within a second).
func TestUserByPlatformCacheFollowsDirectoryChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := MustOpen(t)
	org := func(name, key string) []*flows.User {
		return []*flows.User{{ID: "u1", Name: name, Platforms: map[string]string{key: "ou_1"}}}
	}
	name := func(key string) (string, error) {
		u, err := db.UserByPlatform(ctx, key, "ou_1")
		if err != nil {
			return "", err
		}
		return u.Name, nil
	}
	require.NoError(t, db.ReplaceDirectory(ctx, org("Ann", "feishu"), nil))
	for range 2 { // read, then cached
		got, err := name("feishu")
		require.NoError(t, err)
		require.Equal(t, "Ann", got)
		_, err = name("feishu:cli_a")
		require.ErrorIs(t, err, flows.ErrNotFound)
	}
	u, err := db.UserByPlatform(ctx, "feishu", "ou_1")
	require.NoError(t, err)
	u.Name, u.Platforms["feishu"] = "changed by caller", "x"
	got, err := name("feishu")
	require.NoError(t, err)
	assert.Equal(t, "Ann", got, "callers get copies")

	require.NoError(t, db.ReplaceDirectory(ctx, org("Bea", "feishu:cli_a"), nil))
	got, err = name("feishu:cli_a")
	require.NoError(t, err)
	assert.Equal(t, "Bea", got, "own ReplaceDirectory seen at once, absences included")
	_, err = name("feishu")
	assert.ErrorIs(t, err, flows.ErrNotFound, "own ReplaceDirectory seen at once")

	other, err := sqlite.Open(ctx, path, sqlite.WithLogger(quiet))
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.ReplaceDirectory(ctx, org("Cid", "feishu"), nil))
	assert.Eventually(t, func() bool {
		got, err := name("feishu")
		return err == nil && got == "Cid"
	}, 3*time.Second, 50*time.Millisecond, "another process's import seen within a second")
	_, err = name("feishu:cli_a")
	assert.ErrorIs(t, err, flows.ErrNotFound)
}
