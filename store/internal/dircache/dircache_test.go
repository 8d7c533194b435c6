package dircache_test

import (
	"errors"
	"testing"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/internal/dircache"
	"github.com/stretchr/testify/require"
)

func TestCache(t *testing.T) {
	t.Parallel()
	stamp := int64(1)
	read := func() (int64, error) { return stamp, nil }
	c := dircache.New()

	u, gen := c.Get(read, "alice")
	require.Nil(t, u, "an empty cache has nobody")
	c.Put(gen, &flows.User{ID: "alice", Name: "Alice", Roles: []string{"hr"}})
	got, _ := c.Get(read, "alice")
	require.Equal(t, "Alice", got.Name)
	got.Roles[0] = "changed"
	again, _ := c.Get(read, "alice")
	require.Equal(t, []string{"hr"}, again.Roles, "callers get copies")

	_, gen = c.Get(read, "bob")
	c.Invalidate()
	c.Put(gen, &flows.User{ID: "bob"})
	u, _ = c.Get(read, "bob")
	require.Nil(t, u, "a user read before an invalidation is not cached after it")
	u, _ = c.Get(read, "alice")
	require.Nil(t, u, "an invalidation empties the cache")

	broken := func() (int64, error) { return 0, errors.New("down") }
	c.Invalidate()
	_, gen = c.Get(broken, "carol")
	c.Put(gen, &flows.User{ID: "carol"})
	u, _ = c.Get(read, "carol")
	require.Nil(t, u, "nothing is cached while the stamp cannot be read")
}

func TestCacheByPlatform(t *testing.T) {
	t.Parallel()
	read := func() (int64, error) { return 1, nil }
	c := dircache.New()

	u, absent, gen := c.GetByPlatform(read, "feishu", "ou_alice")
	require.Nil(t, u, "an empty cache has nobody")
	require.False(t, absent, "an empty cache knows of nobody absent")
	c.PutByPlatform(gen, "feishu", "ou_alice", &flows.User{ID: "alice", Name: "Alice", Platforms: map[string]string{"feishu": "ou_alice"}})
	got, _, _ := c.GetByPlatform(read, "feishu", "ou_alice")
	require.Equal(t, "alice", got.ID)
	got.Platforms["feishu"] = "changed"
	again, _, _ := c.GetByPlatform(read, "feishu", "ou_alice")
	require.Equal(t, "ou_alice", again.Platforms["feishu"], "callers get copies")
	byID, _ := c.Get(read, "alice")
	require.Equal(t, "Alice", byID.Name, "a user read by platform id is cached by id too")

	for _, miss := range []struct{ platform, pid string }{{"feishu:cli_b", "ou_alice"}, {"wecom", "ou_alice"}, {"feishu", "ou_bob"}} {
		u, absent, _ = c.GetByPlatform(read, miss.platform, miss.pid)
		require.Nil(t, u, "%s:%s names nobody cached", miss.platform, miss.pid)
		require.False(t, absent, "%s:%s was never looked up", miss.platform, miss.pid)
	}

	_, _, gen = c.GetByPlatform(read, "feishu:cli_a", "ou_alice")
	c.PutAbsent(gen, "feishu:cli_a", "ou_alice")
	u, absent, _ = c.GetByPlatform(read, "feishu:cli_a", "ou_alice")
	require.Nil(t, u)
	require.True(t, absent, "a platform id the directory lacks is known absent")

	_, _, gen = c.GetByPlatform(read, "feishu", "ou_bob")
	c.Invalidate()
	c.PutByPlatform(gen, "feishu", "ou_bob", &flows.User{ID: "bob"})
	c.PutAbsent(gen, "feishu", "ou_carol")
	u, _, _ = c.GetByPlatform(read, "feishu", "ou_bob")
	require.Nil(t, u, "a user read before an invalidation is not cached after it")
	_, absent, _ = c.GetByPlatform(read, "feishu", "ou_carol")
	require.False(t, absent, "an absence read before an invalidation is not cached after it")
	u, _, _ = c.GetByPlatform(read, "feishu", "ou_alice")
	require.Nil(t, u, "an invalidation empties the cache")
	_, absent, _ = c.GetByPlatform(read, "feishu:cli_a", "ou_alice")
	require.False(t, absent, "an invalidation forgets absences: the new directory may have them")
}
