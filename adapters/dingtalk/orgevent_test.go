package dingtalk_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalkdir"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

type orgBed struct {
	*testBundle
	ctx    context.Context
	db     *sqlite.DB
	engine *flows.Engine
	dir    *dirsynctest.Applier
	users  map[string]dingtalktest.OrgUser
	depts  map[string]int64
}

// setupOrg: the example company on SQLite with its flows, the DingTalk
// fake's organisation holding every employee, one full sync done, and the
// adapter's Stream connection taking organisation events.
func setupOrg(t *testing.T) *orgBed {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	clock := testkit.NewClock(time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC))
	engine := flows.New(flows.Config{Store: db, Clock: clock, Calendar: testkit.ExampleCalendar(t), Logger: slog.New(slog.DiscardHandler)})
	testkit.LoadExampleOrg(t, ctx, db)
	testkit.PublishExampleFlows(t, ctx, engine)
	dir := &dirsynctest.Applier{}
	b := &orgBed{testBundle: setup(t, setupOpts{mode: dingtalk.ModeStream, dir: dir}), ctx: ctx, db: db, engine: engine, dir: dir,
		users: map[string]dingtalktest.OrgUser{}, depts: map[string]int64{}}
	users, depts := testkit.ExampleOrg(t)
	did := map[string]string{}
	for _, u := range users {
		did[u.ID] = u.Platforms["dingtalk"]
	}
	for i, d := range depts {
		b.depts[d.ID] = int64(i + 1)
	}
	var ods []dingtalktest.OrgDept
	for _, d := range depts {
		ods = append(ods, dingtalktest.OrgDept{ID: b.depts[d.ID], Name: d.Name, ParentID: b.depts[d.Parent], Managers: []string{did[d.Head]}})
	}
	var ous []dingtalktest.OrgUser
	for _, u := range users {
		ou := dingtalktest.OrgUser{UserID: did[u.ID], Name: u.Name, Email: u.Email, DeptIDs: []int64{b.depts[u.Dept]}, ManagerUserID: did[u.Manager]}
		ous = append(ous, ou)
		b.users[u.ID] = ou
	}
	b.fake.SetOrg(ous, ods)
	src := dingtalkdir.New(dingtalkdir.Config{BaseURL: b.fake.URL, OAPIURL: b.fake.URL, AppKey: b.app.Key, AppSecret: b.app.Secret})
	dir.Start(t, db, engine, src)
	return b
}

func (b *orgBed) user(t *testing.T, id string) *flows.User {
	t.Helper()
	u, err := b.db.User(b.ctx, id)
	require.NoError(t, err)
	return u
}

func (b *orgBed) directory(t *testing.T) ([]*flows.User, []*flows.Department) {
	t.Helper()
	us, err := b.db.Users(b.ctx)
	require.NoError(t, err)
	ds, err := b.db.Departments(b.ctx)
	require.NoError(t, err)
	return us, ds
}

// success checks that an event was acknowledged SUCCESS:
// success(t)(fake.ChangeUser(...)).
func success(t *testing.T) func(dingtalktest.Ack, error) {
	return func(ack dingtalktest.Ack, err error) {
		t.Helper()
		require.NoError(t, err)
		require.Equal(t, "SUCCESS", ack.Status(), "%s", ack.Data)
	}
}

// DingTalk's organisation events over the Stream connection name only
// ids: the directory reads each person or department back from the
// platform and stays current (a new department, a move, a rename, a new
// hire, a departure that routes the leaver's open task); a redelivered
// event changes nothing.
func TestOrgEventsKeepTheDirectory(t *testing.T) {
	t.Parallel()
	b := setupOrg(t)
	key := b.app.Key

	success(t)(b.fake.ChangeDept(key, dingtalktest.OrgDept{ID: 9, Name: "测试组", ParentID: b.depts["eng"], Managers: []string{b.users["zhangwei"].UserID}}))
	tom := b.users["tom"]
	tom.DeptIDs, tom.ManagerUserID = []int64{9}, b.users["zhangwei"].UserID
	success(t)(b.fake.ChangeUser(key, tom))
	emily := b.users["emily"]
	emily.Name = "Emily Wang"
	success(t)(b.fake.ChangeUser(key, emily))
	success(t)(b.fake.ChangeUser(key, dingtalktest.OrgUser{UserID: "user0099", Name: "New Hire", Email: "new@example.com", DeptIDs: []int64{b.depts["sales"]}, ManagerUserID: b.users["zhaomin"].UserID}))

	u := b.user(t, "tom")
	require.Equal(t, "dingtalk-9", u.Dept)
	require.Equal(t, "zhangwei", u.Manager)
	require.Equal(t, "Emily Wang", b.user(t, "emily").Name)
	require.Equal(t, "zhaomin", b.user(t, "dingtalk-user0099").Manager)
	_, ds := b.directory(t)
	var qa *flows.Department
	for _, d := range ds {
		if d.ID == "dingtalk-9" {
			qa = d
		}
	}
	require.NotNil(t, qa)
	require.Equal(t, "zhangwei", qa.Head)
	require.Equal(t, "dingtalk-2", qa.Parent)

	// The same event delivered again (same eventId): nothing changes.
	us, ds := b.directory(t)
	success(t)(b.fake.OrgEvent(key, dingtalkdir.EventUserModify, "ev-again", map[string]any{"userId": []string{emily.UserID}}))
	success(t)(b.fake.OrgEvent(key, dingtalkdir.EventUserModify, "ev-again", map[string]any{"userId": []string{emily.UserID}}))
	us2, ds2 := b.directory(t)
	require.Equal(t, us, us2)
	require.Equal(t, ds, ds2)

	// Han Meimei files a leave: Li Lei has the task. Li Lei leaves.
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": "2026-12-01", "to": "2026-12-02"}, "reason": "family",
	}})
	require.NoError(t, err)
	success(t)(b.fake.RemoveUser(key, b.users["lilei"].UserID))
	require.True(t, b.user(t, "lilei").Departed)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	had := false
	for _, task := range v.Tasks {
		if task.Assignee == "lilei" {
			had = true
			require.NotEqual(t, flows.TaskPending, task.Status, "the leaver's task was routed")
		}
	}
	require.True(t, had)

	// A department removed.
	success(t)(b.fake.RemoveDept(key, 9))
	_, ds = b.directory(t)
	for _, d := range ds {
		require.NotEqual(t, "dingtalk-9", d.ID)
	}
}

// Malformed organisation events are acknowledged without effect (DingTalk
// would only send them again); other events are acknowledged and ignored;
// a failing platform answers LATER so that DingTalk delivers again.
func TestOrgEventsRefused(t *testing.T) {
	t.Parallel()
	b := setupOrg(t)
	us, ds := b.directory(t)
	for name, tc := range map[string]struct {
		typ  string
		data any
	}{
		"NoIDs":        {dingtalkdir.EventUserModify, map[string]any{"userId": []string{}}},
		"UserIDNumber": {dingtalkdir.EventUserAdd, map[string]any{"userId": []int{1}}},
		"BadDeptID":    {dingtalkdir.EventDeptRemove, map[string]any{"deptId": []string{"x"}}},
		"ZeroDeptID":   {dingtalkdir.EventDeptCreate, map[string]any{"deptId": []int{0}}},
		"NotAnObject":  {dingtalkdir.EventUserLeave, []string{"user0003"}},
		"OtherEvent":   {"chat_update_title", map[string]any{"chatId": "c1"}},
	} {
		t.Run(name, func(t *testing.T) {
			success(t)(b.fake.OrgEvent(b.app.Key, tc.typ, "", tc.data))
		})
	}
	us2, ds2 := b.directory(t)
	require.Equal(t, us, us2)
	require.Equal(t, ds, ds2)
	require.Zero(t, b.dir.Applied())

	b.fake.RateLimitOrg(100) // DingTalk's flow control on every call
	ack, err := b.fake.OrgEvent(b.app.Key, dingtalkdir.EventUserModify, "", map[string]any{"userId": []string{b.users["emily"].UserID}})
	require.NoError(t, err)
	require.Equal(t, "LATER", ack.Status(), "%s", ack.Data)
	us3, _ := b.directory(t)
	require.Equal(t, us, us3)
}
