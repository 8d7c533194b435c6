package dirsynctest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/flows"
)

// Platform is one platform's fake directory and the source reading it.
type Platform interface {
	// Source reads the fake (with a small page size, so that paging happens).
	Source() dirsync.Source
	// SetDirectory replaces what the fake serves.
	SetDirectory(people []dirsync.Person, depts []dirsync.Dept)
	// FailAfter lets n more page requests succeed and fails the following
	// ones (a crash of the platform mid-sync); n < 0 heals.
	FailAfter(n int)
	// RateLimitNext answers the next n requests with the platform's rate
	// limit error.
	RateLimitNext(n int)
	// PagesServed counts the directory pages the fake answered.
	PagesServed() int
}

// Caps says what a platform's directory holds.
type Caps struct {
	// DeptsByName: departments are names on the user (Microsoft Graph): no
	// tree, no heads; a department's id is its name.
	DeptsByName bool
}

// Fixture: a company of four.
var (
	Depts = []dirsync.Dept{
		{ID: "1", Name: "Company", Head: "u1"},
		{ID: "2", Name: "Sales", Parent: "1", Head: "u2"},
		{ID: "3", Name: "R&D", Parent: "1", Head: "u1"},
	}
	People = []dirsync.Person{
		{ID: "u1", Name: "Boss", Email: "boss@corp.example", Mobile: "13800000001", Depts: []string{"1"}, Active: true},
		{ID: "u2", Name: "Ann", Email: "ann@corp.example", Mobile: "13800000002", Depts: []string{"2"}, Manager: "u1", Active: true},
		{ID: "u3", Name: "Bob", Email: "bob@corp.example", Mobile: "13800000003", Depts: []string{"2"}, Manager: "u2", Active: true},
		{ID: "u4", Name: "Cat", Email: "cat@corp.example", Mobile: "13800000004", Depts: []string{"3"}, Manager: "u1", Active: true},
	}
)

type bundle struct {
	ctx   context.Context
	store dirsync.Store
	plat  Platform
	key   string
	caps  Caps
	waits *[]time.Duration
	sync  *dirsync.Syncer
}

func (b *bundle) deptID(id string) string {
	if b.caps.DeptsByName {
		for _, d := range Depts {
			if d.ID == id {
				return dirsync.DeptID(b.key, d.Name)
			}
		}
	}
	return dirsync.DeptID(b.key, id)
}

func (b *bundle) uid(account string) string { return dirsync.UserID(b.key, account) }

func (b *bundle) user(t *testing.T, id string) *flows.User {
	t.Helper()
	us, err := b.store.Users(b.ctx)
	require.NoError(t, err)
	for _, u := range us {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("user %s not in the directory (got %d users)", id, len(us))
	return nil
}

func clonePeople() []dirsync.Person {
	out := make([]dirsync.Person, len(People))
	copy(out, People)
	return out
}

// Run runs the suite. newPlatform returns a fresh fake; newStore a fresh,
// empty store.
func Run(t *testing.T, caps Caps, newPlatform func(t *testing.T) Platform, newStore func(t *testing.T) dirsync.Store) {
	setup := func(t *testing.T) *bundle {
		b := &bundle{ctx: context.Background(), store: newStore(t), plat: newPlatform(t), caps: caps, waits: &[]time.Duration{}}
		b.key = b.plat.Source().Platform()
		b.plat.SetDirectory(clonePeople(), Depts)
		var mu sync.Mutex
		b.sync = dirsync.New(dirsync.Config{Store: b.store, Sources: []dirsync.Source{b.plat.Source()}, Rate: 1000,
			Wait: func(_ context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				*b.waits = append(*b.waits, d)
				return nil
			}})
		return b
	}

	t.Run("Adds", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, err := b.sync.Run(b.ctx)
		require.NoError(t, err)
		require.Empty(t, p.Conflicts)
		require.Greater(t, b.plat.PagesServed(), 1, "the fake must be read in several pages")
		boss, ann, bob, cat := b.user(t, b.uid("u1")), b.user(t, b.uid("u2")), b.user(t, b.uid("u3")), b.user(t, b.uid("u4"))
		require.Equal(t, "Bob", bob.Name)
		require.Equal(t, "bob@corp.example", bob.Email)
		require.Equal(t, "u3", bob.Platforms[b.key])
		require.Equal(t, b.deptID("2"), bob.Dept)
		require.Equal(t, ann.ID, bob.Manager, "manager chain: Bob -> Ann")
		require.Equal(t, boss.ID, ann.Manager, "manager chain: Ann -> Boss")
		require.Equal(t, "", boss.Manager)
		require.Equal(t, b.deptID("3"), cat.Dept)
		d, err := b.store.Departments(b.ctx)
		require.NoError(t, err)
		require.Len(t, d, 3)
		if !caps.DeptsByName {
			sales := findDept(t, d, b.deptID("2"))
			require.Equal(t, ann.ID, sales.Head, "department head")
			require.Equal(t, b.deptID("1"), sales.Parent)
		}
	})

	t.Run("DryRunChangesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, err := b.sync.Plan(b.ctx)
		require.NoError(t, err)
		var out bytes.Buffer
		require.NoError(t, p.Format(&out))
		require.Contains(t, out.String(), "+ user "+b.uid("u3")+" (Bob)")
		require.Contains(t, out.String(), "7 changes, 0 conflicts, 0 departed")
		us, err := b.store.Users(b.ctx)
		require.NoError(t, err)
		require.Empty(t, us, "a dry run writes no user")
	})

	t.Run("RenameMoveDepart", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.sync.Run(b.ctx)
		require.NoError(t, err)
		people := clonePeople()
		people[2].Name = "Robert"                                // rename Bob
		people[3].Depts, people[3].Manager = []string{"2"}, "u1" // move Cat to Sales
		people = append(people[:1], people[2:]...)               // Ann leaves
		b.plat.SetDirectory(people, Depts)
		p, err := b.sync.Plan(b.ctx)
		require.NoError(t, err)
		var out bytes.Buffer
		require.NoError(t, p.Format(&out))
		require.Contains(t, out.String(), `~ user `+b.uid("u3")+` (Robert): name "Bob" -> "Robert"`)
		require.Contains(t, out.String(), `- user `+b.uid("u2")+` (Ann) departed`)
		require.Contains(t, out.String(), `dept "`+b.deptID("3")+`" -> "`+b.deptID("2")+`"`)
		require.Equal(t, []string{b.uid("u2")}, p.Departed)
		require.NoError(t, b.sync.Apply(b.ctx, p))
		ann := b.user(t, b.uid("u2"))
		require.True(t, ann.Departed, "Ann is kept, marked departed")
		require.Equal(t, "Ann", ann.Name, "the audit trail still names her")
		require.Empty(t, ann.Platforms, "a departed user cannot act on any platform")
		bob := b.user(t, b.uid("u3"))
		require.Equal(t, "Robert", bob.Name)
		require.Equal(t, "", bob.Manager, "a departed manager is no manager")
		cat := b.user(t, b.uid("u4"))
		require.Equal(t, b.deptID("2"), cat.Dept)
		if !caps.DeptsByName {
			d, err := b.store.Departments(b.ctx)
			require.NoError(t, err)
			require.Equal(t, "", findDept(t, d, b.deptID("2")).Head, "the departed head no longer heads Sales")
		}
		// Ann comes back: the same user again.
		b.plat.SetDirectory(clonePeople(), Depts)
		_, err = b.sync.Run(b.ctx)
		require.NoError(t, err)
		ann = b.user(t, b.uid("u2"))
		require.False(t, ann.Departed)
		require.Equal(t, "u2", ann.Platforms[b.key])
	})

	t.Run("MatchesExistingUsers", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.store.ReplaceDirectory(b.ctx, []*flows.User{
			{ID: "boss", Name: "The Boss", Email: "BOSS@corp.example", Roles: []string{"admin"}, Platforms: map[string]string{"web": "boss"}},
			{ID: "ann", Name: "Ann", Mobile: "+86 138-0000-0002"},
		}, nil))
		p, err := b.sync.Run(b.ctx)
		require.NoError(t, err)
		require.Empty(t, p.Conflicts)
		boss := b.user(t, "boss")
		require.Equal(t, "u1", boss.Platforms[b.key], "matched by email, case-insensitively")
		require.Equal(t, "boss", boss.Platforms["web"], "links to other platforms are kept")
		require.Equal(t, []string{"admin"}, boss.Roles, "roles are kept")
		require.Equal(t, "u2", b.user(t, "ann").Platforms[b.key], "matched by mobile")
		require.Equal(t, "boss", b.user(t, "ann").Manager)
		us, err := b.store.Users(b.ctx)
		require.NoError(t, err)
		require.Len(t, us, 4, "no duplicate users for matched people")
	})

	t.Run("ConflictReportedNotGuessed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.store.ReplaceDirectory(b.ctx, []*flows.User{
			{ID: "x", Name: "X", Email: "bob@corp.example"},
			{ID: "y", Name: "Y", Mobile: "13800000003"},
		}, nil))
		p, err := b.sync.Run(b.ctx)
		require.NoError(t, err)
		require.Len(t, p.Conflicts, 1)
		require.Equal(t, "u3", p.Conflicts[0].Account)
		require.Contains(t, p.Conflicts[0].Reason, "-> x")
		require.Contains(t, p.Conflicts[0].Reason, "-> y")
		require.Empty(t, b.user(t, "x").Platforms, "x is not linked by guess")
		require.Empty(t, b.user(t, "y").Platforms, "y is not linked by guess")
		us, err := b.store.Users(b.ctx)
		require.NoError(t, err)
		for _, u := range us {
			require.NotEqual(t, b.uid("u3"), u.ID, "no new user for a conflicting account")
		}
	})

	t.Run("CrashMidSyncAndRerun", func(t *testing.T) {
		t.Parallel()
		clean := setup(t)
		_, err := clean.sync.Run(clean.ctx)
		require.NoError(t, err)
		pages := clean.plat.PagesServed()

		b := setup(t)
		b.plat.FailAfter(1)
		_, err = b.sync.Run(b.ctx)
		require.Error(t, err, "the platform failed mid-sync")
		us, err := b.store.Users(b.ctx)
		require.NoError(t, err)
		require.Empty(t, us, "nothing applied from a broken sync")
		require.Equal(t, 1, b.plat.PagesServed())
		_, _, err = b.store.SyncState(b.ctx, b.key)
		require.NoError(t, err, "progress is saved")

		// A new process: nothing survives but the store.
		b.plat.FailAfter(-1)
		fresh := dirsync.New(dirsync.Config{Store: b.store, Sources: []dirsync.Source{b.plat.Source()}, Rate: 1000})
		p, err := fresh.Run(b.ctx)
		require.NoError(t, err)
		require.Equal(t, pages, b.plat.PagesServed(), "the rerun resumes after the saved page instead of starting over")
		require.Len(t, p.Users, 4)
		require.Equal(t, b.uid("u2"), b.user(t, b.uid("u3")).Manager)
		_, _, err = b.store.SyncState(b.ctx, b.key)
		require.True(t, errors.Is(err, flows.ErrNotFound), "progress cleared after apply, got %v", err)
	})

	t.Run("RateLimitedThenServed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.plat.RateLimitNext(2)
		_, err := b.sync.Run(b.ctx)
		require.NoError(t, err)
		require.Len(t, *b.waits, 2, "waited once per rate-limited answer")
		require.Len(t, mustUsers(t, b), 4)
	})
}

func mustUsers(t *testing.T, b *bundle) []*flows.User {
	t.Helper()
	us, err := b.store.Users(b.ctx)
	require.NoError(t, err)
	return us
}

func findDept(t *testing.T, ds []*flows.Department, id string) *flows.Department {
	t.Helper()
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("department %s not found", id)
	return nil
}
