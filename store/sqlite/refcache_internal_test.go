package sqlite

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// A list of refs read while a ref of the same request was written is not
// kept (it may miss that ref); refs written of other requests meanwhile
// do not matter, nor does a list kept already (it is newer).
func TestRefCacheKeepsOnlyWhatIsCurrent(t *testing.T) {
	t.Parallel()
	ref := func(inst int64, name string) flows.MessageRef {
		return flows.MessageRef{InstanceID: inst, Platform: "web", Ref: name}
	}
	read := []*flows.MessageRef{{InstanceID: 1, Platform: "web", Ref: "a"}}
	cases := []struct {
		name string
		do   func(c *refCache)
		want []string // nil: not kept
	}{
		{"nothing written meanwhile", func(c *refCache) {
			c.read(1, read, c.generation())
		}, []string{"a"}},
		{"another request's ref written meanwhile", func(c *refCache) {
			gen := c.generation()
			c.added(ref(2, "x"))
			c.read(1, read, gen)
		}, []string{"a"}},
		{"its own ref written meanwhile", func(c *refCache) {
			gen := c.generation()
			c.added(ref(1, "b"))
			c.read(1, read, gen)
		}, nil},
		{"written before the read began", func(c *refCache) {
			c.added(ref(1, "b"))
			c.read(1, []*flows.MessageRef{{InstanceID: 1, Ref: "a"}, {InstanceID: 1, Ref: "b"}}, c.generation())
		}, []string{"a", "b"}},
		{"kept already, then added to", func(c *refCache) {
			gen := c.generation()
			c.read(1, read, gen)
			c.added(ref(1, "b"))
			c.read(1, read, gen) // a slower read of the same moment
		}, []string{"a", "b"}},
		{"touched list emptied meanwhile", func(c *refCache) {
			gen := c.generation()
			for i := range int64(4*4 + 1) {
				c.added(ref(100+i, "x"))
			}
			c.read(1, read, gen)
		}, nil},
		{"created here: none, then those written", func(c *refCache) {
			c.created(1)
			c.added(ref(1, "b"))
			c.read(1, read, 0) // an old read changes nothing
		}, []string{"b"}},
		{"emptied meanwhile (another process wrote)", func(c *refCache) {
			gen := c.generation()
			c.clear()
			c.read(1, read, gen)
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newRefCache(4)
			tc.do(c)
			got, ok := c.get(1, 0)
			if tc.want == nil {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			var names []string
			for _, r := range got {
				names = append(names, r.Ref)
			}
			require.Equal(t, tc.want, names)
		})
	}
}

// A request with more refs than are kept has them read each time.
func TestRefCacheBounded(t *testing.T) {
	t.Parallel()
	c := newRefCache(4)
	c.created(1)
	for i := range maxKeptRefs {
		c.added(flows.MessageRef{InstanceID: 1, Platform: "web", Ref: string(rune('a' + i%26))})
	}
	got, ok := c.get(1, 0)
	require.True(t, ok)
	require.Len(t, got, maxKeptRefs)
	c.added(flows.MessageRef{InstanceID: 1, Platform: "web", Ref: "one too many"})
	_, ok = c.get(1, 0)
	require.False(t, ok)
	refs := make([]*flows.MessageRef, maxKeptRefs+1)
	for i := range refs {
		refs[i] = &flows.MessageRef{InstanceID: 1}
	}
	c.read(1, refs, c.generation())
	_, ok = c.get(1, 0)
	require.False(t, ok, "a read of too many is not kept")
}
