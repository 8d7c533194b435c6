package dirsync_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/sqlite"
)

func newStore(t *testing.T) dirsync.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flowbot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestSuiteMemory(t *testing.T) {
	t.Parallel()
	dirsynctest.Run(t, dirsynctest.Caps{}, func(*testing.T) dirsynctest.Platform { return dirsynctest.NewMemory("feishu") }, newStore)
}

// Two platforms, one person: the second account joins the user the first
// made, by email.
func TestTwoPlatformsOnePerson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	fs, dt := dirsynctest.NewMemory("feishu"), dirsynctest.NewMemory("dingtalk")
	fs.SetDirectory(dirsynctest.People, dirsynctest.Depts)
	dt.SetDirectory([]dirsync.Person{
		{ID: "dt_boss", Name: "老板", Email: "Boss@corp.example", Depts: []string{"1"}, Active: true},
		{ID: "dt_new", Name: "New", Mobile: "13800000009", Depts: []string{"1"}, Manager: "dt_boss", Active: true},
	}, []dirsync.Dept{{ID: "1", Name: "Factory", Head: "dt_boss"}})
	s := dirsync.New(dirsync.Config{Store: st, Sources: []dirsync.Source{fs, dt}, Rate: 1000})
	p, err := s.Run(ctx)
	require.NoError(t, err)
	require.Empty(t, p.Conflicts)
	u, err := st.(flows.Store).User(ctx, "feishu-u1")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"feishu": "u1", "dingtalk": "dt_boss"}, u.Platforms)
	require.Equal(t, "Boss", u.Name, "the first source gives the name")
	nu, err := st.(flows.Store).User(ctx, "dingtalk-dt_new")
	require.NoError(t, err)
	require.Equal(t, "feishu-u1", nu.Manager, "the manager is the merged user")
	d, err := st.(flows.Store).Department(ctx, "dingtalk-1")
	require.NoError(t, err)
	require.Equal(t, "feishu-u1", d.Head)
}

// The cases a platform's data can go wrong in, each changing nothing it
// should not.
func TestMergeCases(t *testing.T) {
	t.Parallel()
	snap := func(ps ...dirsync.Person) []*dirsync.Snapshot {
		return []*dirsync.Snapshot{{Platform: "wecom", People: ps, Done: true}}
	}
	tests := []struct {
		name      string
		users     []*flows.User
		snaps     []*dirsync.Snapshot
		mapping   map[string]string
		conflicts int
		check     func(t *testing.T, p *dirsync.Plan)
	}{
		{name: "InactiveAccountDeparts",
			users: []*flows.User{{ID: "a", Name: "A", Platforms: map[string]string{"wecom": "wa"}}},
			snaps: snap(dirsync.Person{ID: "wa", Name: "A", Active: false}),
			check: func(t *testing.T, p *dirsync.Plan) { require.Equal(t, []string{"a"}, p.Departed) }},
		{name: "FileOnlyUserUntouched",
			users: []*flows.User{{ID: "f", Name: "F", Platforms: map[string]string{"web": "f"}}},
			snaps: snap(),
			check: func(t *testing.T, p *dirsync.Plan) {
				require.Empty(t, p.Departed)
				require.Empty(t, p.Changes)
			}},
		{name: "MappingWinsOverEmail",
			users:   []*flows.User{{ID: "m", Name: "M"}, {ID: "e", Name: "E", Email: "x@corp.example"}},
			snaps:   snap(dirsync.Person{ID: "wx", Name: "X", Email: "x@corp.example", Active: true}),
			mapping: map[string]string{"wecom:wx": "m"},
			check: func(t *testing.T, p *dirsync.Plan) {
				require.Equal(t, "wx", findUser(t, p, "m").Platforms["wecom"])
				require.Empty(t, findUser(t, p, "e").Platforms)
			}},
		{name: "TwoAccountsOneEmail",
			snaps:     snap(dirsync.Person{ID: "w1", Name: "One", Email: "same@corp.example", Active: true}, dirsync.Person{ID: "w2", Name: "Two", Email: "same@corp.example", Active: true}),
			conflicts: 1,
			check: func(t *testing.T, p *dirsync.Plan) {
				require.Len(t, p.Users, 1, "the second account is not merged into the first by guess")
				require.Contains(t, p.Conflicts[0].Reason, "already has wecom account w1")
			}},
		{name: "LinkedToAnotherLiveAccount",
			users: []*flows.User{{ID: "a", Name: "A", Email: "a@corp.example", Platforms: map[string]string{"wecom": "wa"}}},
			snaps: snap(dirsync.Person{ID: "wa", Name: "A", Active: true},
				dirsync.Person{ID: "wb", Name: "A2", Email: "a@corp.example", Active: true}),
			conflicts: 1,
			check: func(t *testing.T, p *dirsync.Plan) {
				require.Equal(t, "wa", findUser(t, p, "a").Platforms["wecom"])
			}},
		{name: "ConflictKeepsExistingLink",
			users:     []*flows.User{{ID: "a", Name: "A", Platforms: map[string]string{"wecom": "wa"}}, {ID: "b", Name: "B", Email: "b@corp.example"}},
			snaps:     snap(dirsync.Person{ID: "wa", Name: "A", Email: "b@corp.example", Active: true}),
			conflicts: 1,
			check: func(t *testing.T, p *dirsync.Plan) {
				require.Empty(t, p.Departed, "a conflicting account does not make its user depart")
				require.Equal(t, "wa", findUser(t, p, "a").Platforms["wecom"])
			}},
		{name: "EmptyAccountIgnored",
			snaps: snap(dirsync.Person{ID: "", Name: "Nobody", Active: true}),
			check: func(t *testing.T, p *dirsync.Plan) { require.Empty(t, p.Users) }},
		{name: "OddCharactersInIDs",
			snaps: snap(dirsync.Person{ID: "a b/c", Name: "Odd", Active: true}),
			check: func(t *testing.T, p *dirsync.Plan) { require.Equal(t, "wecom-a_b_c", p.Users[0].ID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := dirsync.Merge(tt.users, nil, tt.snaps, tt.mapping)
			require.Len(t, p.Conflicts, tt.conflicts, "got conflicts %+v", p.Conflicts)
			tt.check(t, p)
			var out bytes.Buffer
			require.NoError(t, p.Format(&out))
		})
	}
}

func findUser(t *testing.T, p *dirsync.Plan, id string) *flows.User {
	t.Helper()
	for _, u := range p.Users {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("user %s not in plan", id)
	return nil
}

func TestNoSources(t *testing.T) {
	t.Parallel()
	_, err := dirsync.New(dirsync.Config{Store: newStore(t)}).Plan(context.Background())
	require.ErrorContains(t, err, "no sources")
}

func TestSamePlatformTwice(t *testing.T) {
	t.Parallel()
	m := dirsynctest.NewMemory("feishu")
	_, err := dirsync.New(dirsync.Config{Store: newStore(t), Sources: []dirsync.Source{m, m}}).Plan(context.Background())
	require.ErrorContains(t, err, "configured twice")
}

func TestCorruptProgressRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	require.NoError(t, st.SaveSyncState(ctx, "feishu", "2", []byte("{not json")))
	_, err := dirsync.New(dirsync.Config{Store: st, Sources: []dirsync.Source{dirsynctest.NewMemory("feishu")}}).Plan(ctx)
	require.ErrorContains(t, err, "decode progress of feishu")
	us, err := st.Users(ctx)
	require.NoError(t, err)
	require.Empty(t, us)
}
