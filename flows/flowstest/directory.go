package flowstest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var directoryTests = []test{
	{"Lookups", testDirectoryLookups},
	{"ReplaceRemovesOld", testDirectoryReplace},
	{"ReplaceIsAtomic", testDirectoryAtomic},
	{"ReadsInsideTransactions", testDirectoryInTx},
}

func directory() ([]*flows.User, []*flows.Department) {
	users := []*flows.User{
		{ID: "u3", Name: "韩梅梅", Email: "Meimei.Han@Example.com", Dept: "hr", Manager: "u1", Roles: []string{"hr", "finance"},
			Locale: "zh-CN", TZ: "Asia/Shanghai", Platforms: map[string]string{"feishu": "ou_3", "feishu:cli_a1": "ou_a1_3", "wecom": "hanmm"}},
		{ID: "u1", Name: "Li Lei", Email: "lilei@example.com", Dept: "rd", Roles: []string{"admin"}, Locale: "en", TZ: "Europe/Berlin",
			Platforms: map[string]string{"feishu": "ou_1", "web": "lilei"}},
		{ID: "u2", Name: "Bob", Dept: "rd", Manager: "u1"},
	}
	depts := []*flows.Department{
		{ID: "rd", Name: "研发部", NameEN: "R&D", Head: "u1", Parent: "root"},
		{ID: "hr", Name: "人力资源部", NameEN: "HR", Head: "u3", Parent: "root"},
		{ID: "root", Name: "公司", NameEN: "Company"},
	}
	return users, depts
}

func testDirectoryLookups(t *testing.T, b *bundle) {
	users, depts := directory()
	require.NoError(t, b.s.ReplaceDirectory(b.ctx, users, depts))
	byID := map[string]*flows.User{}
	for _, u := range users {
		byID[u.ID] = u
	}

	for _, u := range users {
		got, err := b.s.User(b.ctx, u.ID)
		require.NoError(t, err)
		requireUser(t, u, got)
	}
	lookups := []struct {
		name string
		get  func() (*flows.User, error)
		want string
	}{
		{"Platform", func() (*flows.User, error) { return b.s.UserByPlatform(b.ctx, "feishu", "ou_3") }, "u3"},
		{"PlatformQualified", func() (*flows.User, error) { return b.s.UserByPlatform(b.ctx, "feishu:cli_a1", "ou_a1_3") }, "u3"},
		{"PlatformWeb", func() (*flows.User, error) { return b.s.UserByPlatform(b.ctx, "web", "lilei") }, "u1"},
		{"EmailExact", func() (*flows.User, error) { return b.s.UserByEmail(b.ctx, "lilei@example.com") }, "u1"},
		{"EmailCaseInsensitive", func() (*flows.User, error) { return b.s.UserByEmail(b.ctx, "meimei.han@EXAMPLE.COM") }, "u3"},
	}
	for _, l := range lookups {
		got, err := l.get()
		require.NoError(t, err, l.name)
		requireUser(t, byID[l.want], got)
	}
	notFound := []struct {
		name string
		get  func() (*flows.User, error)
	}{
		{"User", func() (*flows.User, error) { return b.s.User(b.ctx, "u9") }},
		{"PlatformWrongPlatform", func() (*flows.User, error) { return b.s.UserByPlatform(b.ctx, "wecom", "ou_3") }},
		{"PlatformUnknownID", func() (*flows.User, error) { return b.s.UserByPlatform(b.ctx, "feishu", "ou_9") }},
		{"Email", func() (*flows.User, error) { return b.s.UserByEmail(b.ctx, "nobody@example.com") }},
		{"EmptyEmail", func() (*flows.User, error) { return b.s.UserByEmail(b.ctx, "") }},
	}
	for _, l := range notFound {
		_, err := l.get()
		require.ErrorIs(t, err, flows.ErrNotFound, l.name)
	}

	all, err := b.s.Users(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"u1", "u2", "u3"}, userIDs(all), "Users ordered by id")
	for _, u := range all {
		requireUser(t, byID[u.ID], u)
	}
	for role, want := range map[string][]string{"admin": {"u1"}, "hr": {"u3"}, "finance": {"u3"}, "nobody": {}} {
		got, err := b.s.UsersWithRole(b.ctx, role)
		require.NoError(t, err)
		require.Equal(t, want, userIDs(got), "UsersWithRole(%s)", role)
		for _, u := range got {
			requireUser(t, byID[u.ID], u)
		}
	}

	for _, d := range depts {
		got, err := b.s.Department(b.ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, d, got)
	}
	_, err = b.s.Department(b.ctx, "sales")
	require.ErrorIs(t, err, flows.ErrNotFound)
	ds, err := b.s.Departments(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []*flows.Department{depts[1], depts[0], depts[2]}, ds, "Departments ordered by id")
}

// requireUser compares users; nil and empty Roles/Platforms are the same.
func requireUser(t *testing.T, want, got *flows.User) {
	t.Helper()
	require.NotNil(t, got)
	w, g := *want, *got
	if len(w.Roles) == 0 && len(g.Roles) == 0 {
		w.Roles, g.Roles = nil, nil
	}
	if len(w.Platforms) == 0 && len(g.Platforms) == 0 {
		w.Platforms, g.Platforms = nil, nil
	}
	require.Equal(t, w, g)
}

func userIDs(us []*flows.User) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func testDirectoryReplace(t *testing.T, b *bundle) {
	users, depts := directory()
	require.NoError(t, b.s.ReplaceDirectory(b.ctx, users, depts))
	next := []*flows.User{
		{ID: "u4", Name: "Dave", Email: "lilei@example.com", Roles: []string{"admin"}, Platforms: map[string]string{"feishu": "ou_1"}},
	}
	require.NoError(t, b.s.ReplaceDirectory(b.ctx, next, []*flows.Department{{ID: "ops", Name: "运维"}}))

	all, err := b.s.Users(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"u4"}, userIDs(all), "old users are gone")
	_, err = b.s.User(b.ctx, "u1")
	require.ErrorIs(t, err, flows.ErrNotFound)
	_, err = b.s.UserByPlatform(b.ctx, "wecom", "hanmm")
	require.ErrorIs(t, err, flows.ErrNotFound, "old platform ids are gone")
	u, err := b.s.UserByPlatform(b.ctx, "feishu", "ou_1")
	require.NoError(t, err)
	require.Equal(t, "u4", u.ID, "a platform id may move to another user")
	u, err = b.s.UserByEmail(b.ctx, "LILEI@example.com")
	require.NoError(t, err)
	require.Equal(t, "u4", u.ID)
	admins, err := b.s.UsersWithRole(b.ctx, "admin")
	require.NoError(t, err)
	require.Equal(t, []string{"u4"}, userIDs(admins))
	ds, err := b.s.Departments(b.ctx)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "ops", ds[0].ID)

	require.NoError(t, b.s.ReplaceDirectory(b.ctx, nil, nil))
	all, err = b.s.Users(b.ctx)
	require.NoError(t, err)
	require.Empty(t, all)
	ds, err = b.s.Departments(b.ctx)
	require.NoError(t, err)
	require.Empty(t, ds)
}

func testDirectoryAtomic(t *testing.T, b *bundle) {
	users, depts := directory()
	require.NoError(t, b.s.ReplaceDirectory(b.ctx, users, depts))
	bad := [][]*flows.User{
		{{ID: "u7", Name: "A"}, {ID: "u7", Name: "B"}},   // duplicate id
		{{ID: "u7", Name: "A"}, nil},                     // nil entry
		{{ID: "u7", Name: "A"}, {ID: "", Name: "no id"}}, // empty id
		{{ID: "u7", Platforms: map[string]string{"feishu": "x"}}, // same platform id twice
			{ID: "u8", Platforms: map[string]string{"feishu": "x"}}},
	}
	for i, us := range bad {
		err := b.s.ReplaceDirectory(b.ctx, us, []*flows.Department{{ID: "ops"}})
		require.Error(t, err, "bad directory #%d", i)
		all, err := b.s.Users(b.ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"u1", "u2", "u3"}, userIDs(all), "a failed replace leaves the old directory (#%d)", i)
		ds, err := b.s.Departments(b.ctx)
		require.NoError(t, err)
		require.Len(t, ds, 3)
	}
}

// testDirectoryInTx checks the Tx reads give what the Store reads give,
// inside Update (while the operation holds its connection) and View, and
// that many concurrent Updates reading the directory all finish: none
// waits for a second connection while holding one.
func testDirectoryInTx(t *testing.T, b *bundle) {
	users, depts := directory()
	require.NoError(t, b.s.ReplaceDirectory(b.ctx, users, depts))
	_, _, err := b.s.SaveFlow(b.ctx, "leave", []byte("id: leave"), "h1")
	require.NoError(t, err)
	check := func(tx flows.Tx) error {
		u, err := tx.User("u3")
		require.NoError(t, err)
		requireUser(t, users[0], u)
		_, err = tx.User("nobody")
		require.ErrorIs(t, err, flows.ErrNotFound)
		hr, err := tx.UsersWithRole("hr")
		require.NoError(t, err)
		require.Equal(t, []string{"u3"}, userIDs(hr))
		none, err := tx.UsersWithRole("ghost")
		require.NoError(t, err)
		require.Empty(t, none)
		d, err := tx.Department("rd")
		require.NoError(t, err)
		require.Equal(t, "u1", d.Head)
		_, err = tx.Department("nope")
		require.ErrorIs(t, err, flows.ErrNotFound)
		fv, err := tx.Flow("leave", 0)
		require.NoError(t, err)
		require.Equal(t, 1, fv.Version)
		require.Equal(t, "id: leave", string(fv.Source))
		_, err = tx.Flow("leave", 7)
		require.ErrorIs(t, err, flows.ErrNotFound)
		return nil
	}
	require.NoError(t, b.s.Update(b.ctx, check))
	require.NoError(t, b.s.View(b.ctx, check))

	const n = 40
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- b.s.Update(b.ctx, func(tx flows.Tx) error {
				if _, err := tx.NextNumber("TX-READS"); err != nil {
					return err
				}
				_, err := tx.UsersWithRole("hr")
				return err
			})
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
}
