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
