package wecom_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/wecom/wecomdir"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

type contactBed struct {
	*testBundle
	db      *sqlite.DB
	engine  *flows.Engine
	dir     *dirsynctest.Applier
	members map[string]wecomtest.Member
	depts   map[string]int64
}

// setupContacts: the example company on SQLite with its flows, the WeCom
// fake's address book holding every employee, one full sync done, and the
// adapter taking change_contact into the directory.
func setupContacts(t *testing.T) *contactBed {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	clock := testkit.NewClock(time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC))
	engine := flows.New(flows.Config{Store: db, Clock: clock, Calendar: testkit.ExampleCalendar(t), Logger: slog.New(slog.DiscardHandler)})
	testkit.LoadExampleOrg(t, ctx, db)
	testkit.PublishExampleFlows(t, ctx, engine)
	dir := &dirsynctest.Applier{}
	b := &contactBed{testBundle: setup(t, setupOpts{dir: dir}), db: db, engine: engine, dir: dir, members: map[string]wecomtest.Member{}, depts: map[string]int64{}}
	users, depts := testkit.ExampleOrg(t)
	wid := map[string]string{}
	for _, u := range users {
		wid[u.ID] = u.Platforms["wecom"]
	}
	var wds []wecomtest.Department
	for i, d := range depts {
		b.depts[d.ID] = int64(i + 1)
	}
	for _, d := range depts {
		wds = append(wds, wecomtest.Department{ID: b.depts[d.ID], Name: d.Name, NameEN: d.NameEN, ParentID: b.depts[d.Parent], Leaders: []string{wid[d.Head]}})
	}
	var ms []wecomtest.Member
	for _, u := range users {
		m := wecomtest.Member{UserID: wid[u.ID], Name: u.Name, Email: u.Email, Departments: []int64{b.depts[u.Dept]}, MainDepartment: b.depts[u.Dept], Status: 1}
		if u.Manager != "" {
			m.DirectLeader = []string{wid[u.Manager]}
		}
		ms = append(ms, m)
		b.members[u.ID] = m
	}
	b.fake.SetAddressBook(ms, wds)
	src := wecomdir.New(wecomdir.Config{BaseURL: b.fake.URL, CorpID: b.app.CorpID, Secret: b.app.Secret})
	dir.Start(t, db, engine, src)
	return b
}

func (b *contactBed) user(t *testing.T, id string) *flows.User {
	t.Helper()
	u, err := b.db.User(b.ctx, id)
	require.NoError(t, err)
	return u
}

func (b *contactBed) directory(t *testing.T) ([]*flows.User, []*flows.Department) {
	t.Helper()
	us, err := b.db.Users(b.ctx)
	require.NoError(t, err)
	ds, err := b.db.Departments(b.ctx)
	require.NoError(t, err)
	return us, ds
}

// WeCom's change_contact callbacks, encrypted and signed by the fake,
// keep the directory current: update_user with only the changed fields
// (a move, a rename), a new userid, a new department, a new member, and a
// departure that routes the leaver's open task; a retried callback
// changes nothing.
func TestChangeContactKeepsTheDirectory(t *testing.T) {
	t.Parallel()
	b := setupContacts(t)
	ctx := b.ctx
	ok := func(r wecomtest.Response, s wecomtest.Sealed, err error) wecomtest.Sealed {
		t.Helper()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return s
	}
	corp, agent := b.app.CorpID, b.app.AgentID

	// A new department under Engineering.
	ok(b.fake.ChangeDepartment(ctx, corp, agent, wecomtest.Department{ID: 9, Name: "测试组", ParentID: b.depts["eng"]}))
	// Tom moves there and reports to Zhang Wei: only those fields sent.
	tom := b.members["tom"]
	tom.Departments, tom.MainDepartment, tom.DirectLeader = []int64{9}, 9, []string{b.members["zhangwei"].UserID}
	ok(b.fake.ChangeMember(ctx, corp, agent, tom, "Department", "DirectLeader"))
	// Emily's name changes.
	emily := b.members["emily"]
	emily.Name = "Emily Wang"
	renamed := ok(b.fake.ChangeMember(ctx, corp, agent, emily, "Name"))
	// Liu Yang gets a new userid.
	ok(b.fake.RenameMember(ctx, corp, agent, b.members["liuyang"].UserID, "YangLiu"))
	// A new member.
	ok(b.fake.ChangeMember(ctx, corp, agent, wecomtest.Member{UserID: "NewHire", Name: "New Hire", Email: "new@example.com",
		Departments: []int64{b.depts["sales"]}, MainDepartment: b.depts["sales"], DirectLeader: []string{b.members["zhaomin"].UserID}, Status: 1}))

	u := b.user(t, "tom")
	require.Equal(t, "wecom-9", u.Dept)
	require.Equal(t, "zhangwei", u.Manager)
	require.Equal(t, "tom@example.com", u.Email, "not in the callback: kept")
	require.Equal(t, "Emily Wang", b.user(t, "emily").Name)
	require.Equal(t, "emily@example.com", b.user(t, "emily").Email)
	ly := b.user(t, "liuyang")
	require.False(t, ly.Departed, "a new userid is no departure")
	require.Equal(t, "YangLiu", ly.Platforms["wecom"])
	require.Equal(t, "zhaomin", b.user(t, "wecom-NewHire").Manager)
	_, ds := b.directory(t)
	var qa *flows.Department
	for _, d := range ds {
		if d.ID == "wecom-9" {
			qa = d
		}
	}
	require.NotNil(t, qa)
	require.Equal(t, "wecom-2", qa.Parent)

	// WeCom retries a callback it got no answer to: same directory.
	us, ds := b.directory(t)
	r, err := wecomtest.Post(ctx, b.app.Webhook, renamed)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	us2, ds2 := b.directory(t)
	require.Equal(t, us, us2)
	require.Equal(t, ds, ds2)

	// Han Meimei files a leave: Li Lei has the task. Li Lei leaves.
	out, err := b.engine.Submit(ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": "2026-12-01", "to": "2026-12-02"}, "reason": "family",
	}})
	require.NoError(t, err)
	ok(b.fake.DeleteMember(ctx, corp, agent, b.members["lilei"].UserID))
	lilei := b.user(t, "lilei")
	require.True(t, lilei.Departed)
	v, err := b.engine.View(ctx, out.Instance.ID)
	require.NoError(t, err)
	had := false
	for _, task := range v.Tasks {
		if task.Assignee == "lilei" {
			had = true
			require.NotEqual(t, flows.TaskPending, task.Status, "the leaver's task was routed")
		}
	}
	require.True(t, had)

	// A full sync of the address book as it now is agrees.
	src := wecomdir.New(wecomdir.Config{BaseURL: b.fake.URL, CorpID: corp, Secret: b.app.Secret})
	p, err := dirsync.New(dirsync.Config{Store: b.db, Sources: []dirsync.Source{src}, Rate: 1000}).Plan(ctx)
	require.NoError(t, err)
	require.Empty(t, p.Changes)
}

// Malformed change_contact callbacks are refused with 400 and change
// nothing; tag changes are acknowledged and ignored; a forged signature
// never reaches the decoder.
func TestChangeContactRefused(t *testing.T) {
	t.Parallel()
	b := setupContacts(t)
	us, ds := b.directory(t)
	a := b.app
	now := time.Now()
	for name, tc := range map[string]struct {
		plain  []byte
		status int
	}{
		"NoUserID":        {wecomtest.ChangeContactXML(a, "update_user", [][2]string{{"Name", "x"}}, now), http.StatusBadRequest},
		"BadDepartment":   {wecomtest.ChangeContactXML(a, "update_user", [][2]string{{"UserID", "LiLei"}, {"Department", "1,x"}}, now), http.StatusBadRequest},
		"BadStatus":       {wecomtest.ChangeContactXML(a, "update_user", [][2]string{{"UserID", "LiLei"}, {"Status", "gone"}}, now), http.StatusBadRequest},
		"NegativePartyID": {wecomtest.ChangeContactXML(a, "delete_party", [][2]string{{"Id", "-1"}}, now), http.StatusBadRequest},
		"OwnParent":       {wecomtest.ChangeContactXML(a, "update_party", [][2]string{{"Id", "2"}, {"ParentId", "2"}}, now), http.StatusBadRequest},
		"TagChange":       {wecomtest.ChangeContactXML(a, "update_tag", [][2]string{{"TagId", "1"}, {"AddUserItems", "LiLei"}}, now), http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			r := b.post(t, b.seal(t, tc.plain, now))
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
		})
	}
	s := b.seal(t, wecomtest.ChangeContactXML(a, "delete_user", [][2]string{{"UserID", "WangZong"}}, now), now)
	s.Query.Set("msg_signature", flipFirst(s.Query.Get("msg_signature")))
	require.Equal(t, http.StatusUnauthorized, b.post(t, s).Status)
	us2, ds2 := b.directory(t)
	require.Equal(t, us, us2)
	require.Equal(t, ds, ds2)
	require.Zero(t, b.dir.Applied())
}

// Without a Directory change_contact is acknowledged and ignored.
func TestChangeContactIgnoredWithoutDirectory(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	r, _, err := b.fake.DeleteMember(b.ctx, b.app.CorpID, b.app.AgentID, "someone")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	require.Empty(t, b.rec.Events())
}

// flipFirst changes the first hex digit of a signature.
func flipFirst(sig string) string {
	if sig[0] == '0' {
		return "1" + sig[1:]
	}
	return "0" + sig[1:]
}
