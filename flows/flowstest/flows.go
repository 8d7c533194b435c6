package flowstest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var flowTests = []test{
	{"SaveVersions", testSaveFlow},
	{"DeleteAndUndelete", testDeleteFlow},
	{"LatestFlowsOrder", testLatestFlows},
}

const (
	srcV1 = "id: leave\nname: 请假\nsteps: []\n"
	srcV2 = "id: leave\nname: 请假 / Leave\nsteps: []\n"
)

func (b *bundle) save(t *testing.T, id, src, hash string) (int, bool) {
	t.Helper()
	v, created, err := b.s.SaveFlow(b.ctx, id, []byte(src), hash)
	require.NoError(t, err)
	return v, created
}

func testSaveFlow(t *testing.T, b *bundle) {
	steps := []struct {
		src, hash   string
		wantVersion int
		wantCreated bool
	}{
		{srcV1, "h1", 1, true},
		{srcV1, "h1", 1, false},
		{srcV2, "h2", 2, true},
		{srcV2, "h2", 2, false},
		{srcV1, "h1", 3, true}, // going back is a new version too
	}
	for i, s := range steps {
		v, created := b.save(t, "leave", s.src, s.hash)
		require.Equal(t, s.wantVersion, v, "step %d: version", i)
		require.Equal(t, s.wantCreated, created, "step %d: created", i)
	}
	for _, tc := range []struct{ v, want int }{{0, 3}, {1, 1}, {2, 2}, {3, 3}} {
		fv, err := b.s.Flow(b.ctx, "leave", tc.v)
		require.NoError(t, err)
		require.Equal(t, "leave", fv.ID)
		require.Equal(t, tc.want, fv.Version, "Flow(leave, %d)", tc.v)
		require.False(t, fv.Deleted)
		require.False(t, fv.CreatedAt.IsZero(), "CreatedAt is set")
		wantSrc, wantHash := srcV1, "h1"
		if tc.want == 2 {
			wantSrc, wantHash = srcV2, "h2"
		}
		require.Equal(t, wantSrc, string(fv.Source))
		require.Equal(t, wantHash, fv.Hash)
	}
	_, err := b.s.Flow(b.ctx, "leave", 4)
	require.ErrorIs(t, err, flows.ErrNotFound)
	_, err = b.s.Flow(b.ctx, "expense", 0)
	require.ErrorIs(t, err, flows.ErrNotFound)
	_, err = b.s.Flow(b.ctx, "expense", 1)
	require.ErrorIs(t, err, flows.ErrNotFound)
}

func testDeleteFlow(t *testing.T, b *bundle) {
	b.save(t, "leave", srcV1, "h1")
	b.save(t, "leave", srcV2, "h2")
	b.save(t, "expense", srcV1, "e1")
	require.NoError(t, b.s.DeleteFlow(b.ctx, "leave"))

	latest, err := b.s.LatestFlows(b.ctx)
	require.NoError(t, err)
	require.Len(t, latest, 1)
	require.Equal(t, "expense", latest[0].ID, "LatestFlows skips deleted flows")

	fv, err := b.s.Flow(b.ctx, "leave", 0)
	require.NoError(t, err, "the latest version of a deleted flow is still readable")
	require.Equal(t, 2, fv.Version)
	require.True(t, fv.Deleted)
	fv, err = b.s.Flow(b.ctx, "leave", 1)
	require.NoError(t, err, "old versions stay for running instances")
	require.Equal(t, srcV1, string(fv.Source))

	require.ErrorIs(t, b.s.DeleteFlow(b.ctx, "travel"), flows.ErrNotFound)

	// Re-saving the same source undeletes without a new version.
	v, created := b.save(t, "leave", srcV2, "h2")
	require.Equal(t, 2, v)
	require.False(t, created)
	latest, err = b.s.LatestFlows(b.ctx)
	require.NoError(t, err)
	require.Len(t, latest, 2)
	fv, err = b.s.Flow(b.ctx, "leave", 0)
	require.NoError(t, err)
	require.False(t, fv.Deleted)

	// Deleted then saved with a change: a new version, undeleted.
	require.NoError(t, b.s.DeleteFlow(b.ctx, "expense"))
	v, created = b.save(t, "expense", srcV2, "e2")
	require.Equal(t, 2, v)
	require.True(t, created)
	latest, err = b.s.LatestFlows(b.ctx)
	require.NoError(t, err)
	require.Len(t, latest, 2)
}

func testLatestFlows(t *testing.T, b *bundle) {
	latest, err := b.s.LatestFlows(b.ctx)
	require.NoError(t, err)
	require.Empty(t, latest)
	for _, id := range []string{"travel", "expense", "leave"} {
		b.save(t, id, srcV1, id+"1")
	}
	b.save(t, "expense", srcV2, "expense2")
	latest, err = b.s.LatestFlows(b.ctx)
	require.NoError(t, err)
	var got []string
	for _, fv := range latest {
		got = append(got, fv.ID)
		if fv.ID == "expense" {
			require.Equal(t, 2, fv.Version)
			require.Equal(t, srcV2, string(fv.Source))
			require.Equal(t, "expense2", fv.Hash)
		} else {
			require.Equal(t, 1, fv.Version)
		}
	}
	require.Equal(t, []string{"expense", "leave", "travel"}, got, "ordered by id")
}
