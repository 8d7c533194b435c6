package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/api"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// syncFakes starts a Feishu and a WeCom fake holding one company: Boss has
// accounts on both (same email), Ann is on Feishu, Wu on WeCom.
func syncFakes(t *testing.T) (fs *feishutest.Server, wc *wecomtest.Server) {
	t.Helper()
	fs = feishutest.NewServer()
	t.Cleanup(fs.Close)
	fs.AddApp(feishutest.App{ID: "cli_dir", Secret: "fs-secret"})
	fs.SetContacts([]feishutest.ContactUser{
		{OpenID: "ou_boss", Name: "Boss", Email: "boss@corp.example", DepartmentIDs: []string{"od_hq"}},
		{OpenID: "ou_ann", Name: "Ann", Email: "ann@corp.example", DepartmentIDs: []string{"od_hq"}, LeaderUserID: "ou_boss"},
	}, []feishutest.ContactDept{{OpenDepartmentID: "od_hq", Name: "HQ", LeaderUserID: "ou_boss"}})
	wc = wecomtest.NewServer()
	t.Cleanup(wc.Close)
	wc.AddApp(wecomtest.App{CorpID: "ww1", AgentID: 1000002, Secret: "wc-secret"})
	wc.SetAddressBook([]wecomtest.Member{
		{UserID: "boss", Name: "老板", Email: "BOSS@corp.example", Departments: []int64{1}, MainDepartment: 1, Status: 1},
		{UserID: "wu", Name: "Wu", Mobile: "13900000001", Departments: []int64{1}, MainDepartment: 1, DirectLeader: []string{"boss"}, Status: 1},
	}, []wecomtest.Department{{ID: 1, Name: "Factory", Leaders: []string{"boss"}}})
	return fs, wc
}

func syncConfig(t *testing.T, dir string, fs *feishutest.Server, wc *wecomtest.Server) (cfgPath, dbPath string) {
	t.Helper()
	dbPath = filepath.Join(dir, "flowbot.db")
	cfgPath = writeFile(t, dir, "config.yaml", fmt.Sprintf(`database: {driver: sqlite, sqlite: %q}
directory:
  sync:
    feishu: {app_id: cli_dir, app_secret: fs-secret, base_url: %q}
    wecom: {corp_id: ww1, secret: wc-secret, base_url: %q}
`, dbPath, fs.URL, wc.URL))
	return cfgPath, dbPath
}

func TestDirectorySyncDryRunThenApply(t *testing.T) {
	t.Parallel()
	fs, wc := syncFakes(t)
	cfg, db := syncConfig(t, t.TempDir(), fs, wc)

	out, _, err := runCLI(t, "directory", "sync", "--dry-run", "--config", cfg)
	require.NoError(t, err)
	require.Contains(t, out, "+ user feishu-ou_boss (Boss)")
	require.Contains(t, out, `platforms="feishu:ou_boss,wecom:boss"`, "one person on two platforms is one user")
	require.Contains(t, out, "+ user wecom-wu (Wu)")
	require.Contains(t, out, "dry run: nothing changed")
	users, _ := directoryOf(t, db)
	require.Empty(t, users, "a dry run writes nothing")

	out, _, err = runCLI(t, "directory", "sync", "--config", cfg)
	require.NoError(t, err)
	require.Contains(t, out, "applied")
	users, depts := directoryOf(t, db)
	require.Equal(t, []string{"feishu-ou_ann", "feishu-ou_boss", "wecom-wu"}, users)
	require.Equal(t, []string{"feishu-od_hq", "wecom-1"}, depts)

	// Ann leaves Feishu: the next sync says so and marks her departed.
	fs.SetContacts([]feishutest.ContactUser{{OpenID: "ou_boss", Name: "Boss", Email: "boss@corp.example", DepartmentIDs: []string{"od_hq"}}},
		[]feishutest.ContactDept{{OpenDepartmentID: "od_hq", Name: "HQ", LeaderUserID: "ou_boss"}})
	out, _, err = runCLI(t, "directory", "sync", "--config", cfg)
	require.NoError(t, err)
	require.Contains(t, out, "- user feishu-ou_ann (Ann) departed")
	st := testkit.OpenSQLiteFile(t, db)
	defer st.Close()
	ann, err := st.User(context.Background(), "feishu-ou_ann")
	require.NoError(t, err)
	require.True(t, ann.Departed)
	wu, err := st.User(context.Background(), "wecom-wu")
	require.NoError(t, err)
	require.Equal(t, "feishu-ou_boss", wu.Manager, "Wu's WeCom leader is the merged Boss")
}

func TestDirectorySyncMistakes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, db := sqliteConfig(t, dir)
	_, _, err := runCLI(t, "directory", "sync", "--config", cfg)
	require.ErrorContains(t, err, "no platform configured")
	_, _, err = runCLI(t, "directory", "sync", "extra", "--config", cfg)
	require.ErrorIs(t, err, errUsage)
	bad := writeFile(t, dir, "bad.yaml", fmt.Sprintf("database: {driver: sqlite, sqlite: %q}\ndirectory: {sync: {schedule: 'every tuesday', feishu: {app_id: x}, mapping: {nocolon: u}}}\n", db))
	_, _, err = runCLI(t, "directory", "sync", "--config", bad)
	require.ErrorContains(t, err, "directory.sync.schedule")
	require.ErrorContains(t, err, "directory.sync.feishu: needs app_id and app_secret")
	require.ErrorContains(t, err, "directory.sync.mapping")

	// A platform that refuses the app's secret: an error, nothing written.
	fs, wc := syncFakes(t)
	fs.AddApp(feishutest.App{ID: "cli_dir", Secret: "rotated"})
	cfg2, db2 := syncConfig(t, t.TempDir(), fs, wc)
	_, _, err = runCLI(t, "directory", "sync", "--config", cfg2)
	require.ErrorContains(t, err, "tenant token")
	users, _ := directoryOf(t, db2)
	require.Empty(t, users)
}

func TestDirectoryExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, db := sqliteConfig(t, dir)
	org, users, _ := exampleOrg(t)
	_, _, err := runCLI(t, "directory", "import", org, "--config", cfg)
	require.NoError(t, err)

	out, _, err := runCLI(t, "directory", "export", "--config", cfg)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(users), "one JSON line per user")
	var u flows.User
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &u))
	require.Equal(t, users[0], u.ID)

	out, _, err = runCLI(t, "directory", "export", "--format", "csv", "--config", cfg)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "id,name,email,mobile,dept,manager,roles,locale,tz,departed"), out[:80])
	// The CSV reads back with directory import (users half).
	csvPath := writeFile(t, dir, "users.csv", out)
	depts, _, err := runCLI(t, "directory", "export", "--what", "departments", "--format", "csv", "--config", cfg)
	require.NoError(t, err)
	cfg2, db2 := sqliteConfig(t, t.TempDir())
	_, _, err = runCLI(t, "directory", "import", writeFile(t, t.TempDir(), "departments.csv", depts), "--config", cfg2)
	require.NoError(t, err)
	_, _, err = runCLI(t, "directory", "import", csvPath, "--config", cfg2)
	require.NoError(t, err)
	got, _ := directoryOf(t, db2)
	want, _ := directoryOf(t, db)
	require.Equal(t, want, got)

	for _, args := range [][]string{{"--format", "xml"}, {"--what", "rooms"}, {"stray"}} {
		_, _, err := runCLI(t, append([]string{"directory", "export", "--config", cfg}, args...)...)
		require.Error(t, err, "%v", args)
	}
}

func TestDirectoryForget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg, db := sqliteConfig(t, dir)
	st := testkit.OpenSQLiteFile(t, db)
	require.NoError(t, st.ReplaceDirectory(ctx, []*flows.User{
		{ID: "boss", Name: "Boss", Roles: []string{"admin"}},
		{ID: "ann", Name: "Ann", Email: "ann@corp.example", Mobile: "13800000002", Manager: "boss", Platforms: map[string]string{"feishu": "ou_ann"}, Departed: true},
		{ID: "bob", Name: "Bob", Email: "bob@corp.example", Manager: "boss", Platforms: map[string]string{"feishu": "ou_bob"}},
	}, nil))
	require.NoError(t, st.SetPreference(ctx, "ann", "feishu"))
	require.NoError(t, st.Close())

	_, _, err := runCLI(t, "directory", "forget", "bob", "--config", cfg)
	require.ErrorContains(t, err, "has not left")
	_, _, err = runCLI(t, "directory", "forget", "nobody", "--config", cfg)
	require.ErrorContains(t, err, "no such user")
	_, _, err = runCLI(t, "directory", "forget", "--config", cfg)
	require.ErrorIs(t, err, errUsage)

	out, _, err := runCLI(t, "directory", "forget", "ann", "--config", cfg)
	require.NoError(t, err)
	require.Contains(t, out, "forgot the personal data of ann")
	st = testkit.OpenSQLiteFile(t, db)
	defer st.Close()
	ann, err := st.User(ctx, "ann")
	require.NoError(t, err, "the id stays, so the audit trail still resolves it")
	require.Equal(t, ForgottenName, ann.Name)
	require.Empty(t, ann.Email)
	require.Empty(t, ann.Mobile)
	require.Empty(t, ann.Platforms)
	require.True(t, ann.Departed)
	require.Equal(t, "boss", ann.Manager, "organisation data (not personal) stays for statistics")
	p, err := st.Preference(ctx, "ann")
	require.NoError(t, err)
	require.Empty(t, p)
	bob, err := st.User(ctx, "bob")
	require.NoError(t, err)
	require.Equal(t, "bob@corp.example", bob.Email, "nobody else is touched")
	// An export no longer carries her data.
	exp, _, err := runCLI(t, "directory", "export", "--config", cfg)
	require.NoError(t, err)
	require.NotContains(t, exp, "ann@corp.example")
	require.NotContains(t, exp, "13800000002")
}

// The scheduled sync's job: it runs under the lock, applies the plan, and
// skips while another replica holds the lock.
func TestScheduledDirectorySync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs, wc := syncFakes(t)
	cfg := testConfig(t.TempDir())
	cfg.Directory.Sync = DirSyncConfig{Schedule: "@every 24h", Rate: 100,
		Feishu: &FeishuDirConfig{AppID: "cli_dir", AppSecret: "fs-secret", BaseURL: fs.URL},
		WeCom:  &WeComDirConfig{CorpID: "ww1", Secret: "wc-secret", BaseURL: wc.URL}}
	require.NoError(t, cfg.Validate())
	r := startApp(t, cfg)
	held, err := r.app.state.locker.TryLock(ctx, dirSyncLock, "other-replica", time.Minute)
	require.NoError(t, err)
	require.True(t, held)
	require.False(t, r.app.runDirSync(ctx, "me"), "another replica holds the lock")
	_, err = r.app.store.User(ctx, "wecom-wu")
	require.ErrorIs(t, err, flows.ErrNotFound, "nothing synced while the lock is elsewhere")
	require.NoError(t, r.app.state.locker.Unlock(ctx, dirSyncLock, "other-replica"))
	require.True(t, r.app.runDirSync(ctx, "me"))
	wu, err := r.app.store.User(ctx, "wecom-wu")
	require.NoError(t, err)
	require.Equal(t, "feishu-ou_boss", wu.Manager)
	again, err := r.app.state.locker.TryLock(ctx, dirSyncLock, "other-replica", time.Minute)
	require.NoError(t, err)
	require.True(t, again, "the lock is released after the run")
}

// The API's directory changes share the lock of the scheduled directory
// sync: while a sync (or another replica) holds it, a change waits, then is
// refused; once it is free, changes take and release it in turn.
func TestAPIDirectoryChangesShareTheSyncLock(t *testing.T) {
	t.Parallel()
	s := startApp(t, testConfig(t.TempDir()))
	ctx := context.Background()
	ok, err := s.app.state.locker.TryLock(ctx, dirSyncLock, "a sync elsewhere", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = s.app.lockDirectory(ctx)
	require.ErrorIs(t, err, api.ErrDirectoryBusy, "a change waits for the sync, then gives up")
	require.NoError(t, s.app.state.locker.Unlock(ctx, dirSyncLock, "a sync elsewhere"))

	unlock, err := s.app.lockDirectory(ctx)
	require.NoError(t, err)
	ok, err = s.app.state.locker.TryLock(ctx, dirSyncLock, "the next sync", time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "a sync cannot start in the middle of an API change")
	unlock()
	ok, err = s.app.state.locker.TryLock(ctx, dirSyncLock, "the next sync", time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "the change gave the lock back")
}
