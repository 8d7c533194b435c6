package dirsynctest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/flows"
)

// Store is a dirsync.Store that also keeps preferred platforms (both of
// flowbot's stores).
type Store interface {
	dirsync.Store
	User(ctx context.Context, id string) (*flows.User, error)
	Preference(ctx context.Context, user string) (string, error)
	SetPreference(ctx context.Context, user, platform string) error
}

// RunStore checks what sync and delivery need from a store: the sync
// progress, the preferred platform, and the user fields sync writes.
func RunStore(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	t.Run("SyncState", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		_, _, err := st.SyncState(ctx, "feishu")
		require.True(t, errors.Is(err, flows.ErrNotFound), "got %v", err)
		require.NoError(t, st.SaveSyncState(ctx, "feishu", "u:1:", []byte(`{"pages":2}`)))
		require.NoError(t, st.SaveSyncState(ctx, "feishu", "u:2:tok", []byte(`{"pages":3}`)))
		require.NoError(t, st.SaveSyncState(ctx, "wecom", "", nil))
		c, d, err := st.SyncState(ctx, "feishu")
		require.NoError(t, err)
		require.Equal(t, "u:2:tok", c)
		require.JSONEq(t, `{"pages":3}`, string(d))
		require.NoError(t, st.ClearSyncState(ctx, "feishu"))
		_, _, err = st.SyncState(ctx, "feishu")
		require.True(t, errors.Is(err, flows.ErrNotFound), "got %v", err)
		_, _, err = st.SyncState(ctx, "wecom")
		require.NoError(t, err, "other sources keep their progress")
		require.Error(t, st.SaveSyncState(ctx, "", "x", nil), "a source needs a name")
	})
	t.Run("Preference", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		p, err := st.Preference(ctx, "amy")
		require.NoError(t, err)
		require.Empty(t, p)
		require.NoError(t, st.SetPreference(ctx, "amy", "teams"))
		require.NoError(t, st.SetPreference(ctx, "amy", "dingtalk"))
		p, err = st.Preference(ctx, "amy")
		require.NoError(t, err)
		require.Equal(t, "dingtalk", p)
		// The preference outlives a directory replacement (a sync).
		require.NoError(t, st.ReplaceDirectory(ctx, []*flows.User{{ID: "amy", Name: "Amy"}}, nil))
		p, err = st.Preference(ctx, "amy")
		require.NoError(t, err)
		require.Equal(t, "dingtalk", p)
		require.NoError(t, st.SetPreference(ctx, "amy", ""))
		p, err = st.Preference(ctx, "amy")
		require.NoError(t, err)
		require.Empty(t, p)
		require.Error(t, st.SetPreference(ctx, "", "teams"))
	})
	t.Run("MobileAndDeparted", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		require.NoError(t, st.ReplaceDirectory(ctx, []*flows.User{
			{ID: "amy", Name: "Amy", Mobile: "+86 138 0000 0001", Platforms: map[string]string{"feishu": "ou_amy"}},
			{ID: "old", Name: "Old", Departed: true},
		}, nil))
		amy, err := st.User(ctx, "amy")
		require.NoError(t, err)
		require.Equal(t, "+86 138 0000 0001", amy.Mobile)
		require.False(t, amy.Departed)
		old, err := st.User(ctx, "old")
		require.NoError(t, err)
		require.True(t, old.Departed)
		us, err := st.Users(ctx)
		require.NoError(t, err)
		require.Len(t, us, 2)
	})
}
