package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/adapters/teams/graphdir"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/internal/testkit"
)

// flowbot serve keeps the directory current from the platforms' change
// events: a Feishu contact event and a WeCom change_contact, each through
// its webhook from the platform's fake, and Graph's delta through the
// poll; events of an app not under directory.sync are acknowledged and
// ignored.
func TestServeAppliesDirectoryEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs, wc := syncFakes(t)
	tm := teamstest.NewServer()
	t.Cleanup(tm.Close)
	tm.SetGraphUsers([]teamstest.GraphUser{
		{ID: "aad-boss", DisplayName: "Boss", Mail: "boss@corp.example", Department: "HQ", AccountEnabled: true},
		{ID: "aad-carol", DisplayName: "Carol", Mail: "carol@corp.example", Department: "London", ManagerID: "aad-boss", AccountEnabled: true},
	})
	cfg := testConfig(t.TempDir())
	cfg.Playground.Enabled, cfg.Playground.Demo = false, false
	cfg.Feishu.Apps = []FeishuApp{{AppID: "cli_dir", AppSecret: "fs-secret", EncryptKey: "ek", VerificationToken: "vt", Mode: "http", BaseURL: fs.URL}}
	wa := WeComApp{Name: "hq", CorpID: "ww1", AgentID: 1000002, Secret: "wc-secret", Token: "tok", EncodingAESKey: wecomtest.NewAESKey(), BaseURL: wc.URL}
	cfg.WeCom.Apps = []WeComApp{wa}
	cfg.Directory.Sync = DirSyncConfig{Rate: 100, Schedule: "@every 24h",
		Feishu: &FeishuDirConfig{AppID: "cli_dir", AppSecret: "fs-secret", BaseURL: fs.URL},
		WeCom:  &WeComDirConfig{CorpID: "ww1", Secret: "wc-secret", BaseURL: wc.URL},
		Graph:  &GraphDirConfig{Tenant: "contoso", ClientID: "app", ClientSecret: "s", LoginURL: tm.URL, GraphURL: tm.URL, Poll: "@every 1h"}}
	require.NoError(t, cfg.Validate())
	r := startApp(t, cfg)
	fs.AddApp(feishutest.App{ID: "cli_dir", Secret: "fs-secret", EncryptKey: "ek", VerificationToken: "vt", Webhook: r.base + "/webhook/feishu"})
	wc.AddApp(wecomtest.App{CorpID: wa.CorpID, AgentID: wa.AgentID, Secret: wa.Secret, Token: wa.Token, EncodingAESKey: wa.EncodingAESKey, Webhook: r.base + "/webhook/wecom"})

	// Before the first full sync an event is acknowledged and waits for it.
	res, _ := fs.ChangeUser(t, "cli_dir", feishutest.ContactUser{OpenID: "ou_ann", Name: "Ann Early", Email: "ann@corp.example", DepartmentIDs: []string{"od_hq"}, LeaderUserID: "ou_boss"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	_, err := r.app.store.User(ctx, "feishu-ou_ann")
	require.Error(t, err, "no full sync yet: nothing applied")

	require.True(t, r.app.runDirSync(ctx, "me"))
	require.Same(t, r.app.dirSync, r.app.dirEvents.s, "the scheduled sync and the events share one Syncer")
	feed := graphdir.New(graphdir.Config{Tenant: "contoso", ClientID: "app", ClientSecret: "s", LoginURL: tm.URL, GraphURL: tm.URL})
	_, err = r.app.dirEvents.s.Poll(ctx, feed)
	require.NoError(t, err)

	// Feishu: Ann renamed. WeCom: Wu leaves.
	res, _ = fs.ChangeUser(t, "cli_dir", feishutest.ContactUser{OpenID: "ou_ann", Name: "Ann Li", Email: "ann@corp.example", DepartmentIDs: []string{"od_hq"}, LeaderUserID: "ou_boss"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	ann, err := r.app.store.User(ctx, "feishu-ou_ann")
	require.NoError(t, err)
	require.Equal(t, "Ann Li", ann.Name)
	wr, _, err := wc.DeleteMember(ctx, "ww1", 1000002, "wu")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, wr.Status, wr.Body)
	wu, err := r.app.store.User(ctx, "wecom-wu")
	require.NoError(t, err)
	require.True(t, wu.Departed)

	// Graph: Carol renamed, through the delta poll.
	tm.UpdateGraphUser(teamstest.GraphUser{ID: "aad-carol", DisplayName: "Carol Smith", Mail: "carol@corp.example", Department: "London", ManagerID: "aad-boss", AccountEnabled: true}, "DisplayName")
	pr, err := r.app.dirEvents.s.Poll(ctx, feed)
	require.NoError(t, err)
	require.Equal(t, 1, pr.Applied)
	carol, err := r.app.store.User(ctx, "teams-aad-carol")
	require.NoError(t, err)
	require.Equal(t, "Carol Smith", carol.Name)
	require.Equal(t, "feishu-ou_boss", carol.Manager, "her Teams manager is the merged Boss")
	boss, err := r.app.store.User(ctx, "feishu-ou_boss")
	require.NoError(t, err)
	require.Equal(t, "aad-boss", boss.Platforms["teams"], "one person on three platforms")
}

// Only the app configured under directory.sync feeds the directory: an
// event of another app is not for it.
func TestDirEventsOnlyTheSyncedApp(t *testing.T) {
	t.Parallel()
	fs, wc := syncFakes(t)
	cfg := testConfig(t.TempDir())
	cfg.Directory.Sync = DirSyncConfig{Rate: 100,
		Feishu: &FeishuDirConfig{AppID: "cli_dir", AppSecret: "fs-secret", BaseURL: fs.URL},
		WeCom:  &WeComDirConfig{CorpID: "ww1", Secret: "wc-secret", BaseURL: wc.URL}}
	r := startApp(t, cfg)
	d := r.app.dirEvents
	ctx := context.Background()
	for _, tc := range []struct{ platform, app string }{{"feishu", "cli_other"}, {"wecom", "ww-other"}, {"dingtalk", "ding1"}} {
		err := d.ApplyEvent(ctx, tc.app, dirsync.Event{Platform: tc.platform, Op: dirsync.PersonGone, Person: dirsync.Person{ID: "x"}})
		require.ErrorIs(t, err, dirsync.ErrNotSynced, "%v", tc)
	}
	err := d.ApplyEvent(ctx, "cli_dir", dirsync.Event{Platform: "feishu", Op: dirsync.PersonGone, Person: dirsync.Person{ID: "ou_ann"}})
	require.ErrorIs(t, err, dirsync.ErrNoBaseline, "the synced app: applied once a full sync ran")
}

func TestGraphPollValidated(t *testing.T) {
	t.Parallel()
	c := DirSyncConfig{Graph: &GraphDirConfig{Tenant: "t", ClientID: "c", ClientSecret: "s", Poll: "every tuesday"}}
	errs := c.validate()
	require.Len(t, errs, 1)
	require.ErrorContains(t, errs[0], "directory.sync.graph.poll")
	c.Graph.Poll = "@every 5m"
	require.Empty(t, c.validate())
}

// directory.sync.dept_mapping: Feishu's HQ and WeCom's factory are one
// department, headed by the first platform's head; a mapping entry for a
// department no platform has changes nothing; a malformed key is refused.
func TestDirectorySyncDeptMapping(t *testing.T) {
	t.Parallel()
	fs, wc := syncFakes(t)
	dir := t.TempDir()
	_, db := syncConfig(t, dir, fs, wc)
	mapped := writeFile(t, dir, "mapped.yaml", fmt.Sprintf(`database: {driver: sqlite, sqlite: %q}
directory:
  sync:
    dept_mapping: {"feishu:od_hq": hq, "wecom:1": hq, "wecom:99": nowhere}
    feishu: {app_id: cli_dir, app_secret: fs-secret, base_url: %q}
    wecom: {corp_id: ww1, secret: wc-secret, base_url: %q}
`, db, fs.URL, wc.URL))
	out, _, err := runCLI(t, "directory", "sync", "--config", mapped)
	require.NoError(t, err)
	require.NotContains(t, out, "unmapped")
	_, depts := directoryOf(t, db)
	require.Equal(t, []string{"hq"}, depts, "one department for both platforms")
	st := testkit.OpenSQLiteFile(t, db)
	defer st.Close()
	wu, err := st.User(context.Background(), "wecom-wu")
	require.NoError(t, err)
	require.Equal(t, "hq", wu.Dept)
	hq, err := st.Department(context.Background(), "hq")
	require.NoError(t, err)
	require.Equal(t, "feishu-ou_boss", hq.Head)

	bad := writeFile(t, dir, "bad.yaml", fmt.Sprintf("database: {driver: sqlite, sqlite: %q}\ndirectory: {sync: {dept_mapping: {od_hq: hq}, feishu: {app_id: x, app_secret: y}}}\n", db))
	_, _, err = runCLI(t, "directory", "sync", "--config", bad)
	require.ErrorContains(t, err, "directory.sync.dept_mapping")
}

// With a platform partly mapped, its other departments are reported by
// the dry run.
func TestDirectorySyncReportsUnmapped(t *testing.T) {
	t.Parallel()
	fs, _ := syncFakes(t)
	fs.SetContacts([]feishutest.ContactUser{{OpenID: "ou_boss", Name: "Boss", Email: "boss@corp.example", DepartmentIDs: []string{"od_hq"}}},
		[]feishutest.ContactDept{{OpenDepartmentID: "od_hq", Name: "HQ", LeaderUserID: "ou_boss"}, {OpenDepartmentID: "od_lab", Name: "Lab"}})
	dir := t.TempDir()
	db := filepath.Join(dir, "flowbot.db")
	cfg := writeFile(t, dir, "c.yaml", fmt.Sprintf(`database: {driver: sqlite, sqlite: %q}
directory:
  sync:
    dept_mapping: {"feishu:od_hq": hq}
    feishu: {app_id: cli_dir, app_secret: fs-secret, base_url: %q}
`, db, fs.URL))
	out, _, err := runCLI(t, "directory", "sync", "--dry-run", "--config", cfg)
	require.NoError(t, err)
	require.Contains(t, out, "? unmapped department feishu:od_lab (Lab): kept as feishu-od_lab")
}
