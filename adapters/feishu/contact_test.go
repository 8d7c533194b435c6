package feishu_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishudir"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

// contactBed is the example company on SQLite with its flows, the
// Feishu fake listing every employee with their open_id, one full sync
// done, and the adapter taking contact events into the directory.
type contactBed struct {
	*testBundle
	ctx    context.Context
	db     *sqlite.DB
	engine *flows.Engine
	dir    *dirsynctest.Applier
	byID   map[string]feishutest.ContactUser
}

func setupContacts(t *testing.T, mode string, fakeOpts ...feishutest.Option) *contactBed {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	clock := testkit.NewClock(time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC))
	engine := flows.New(flows.Config{Store: db, Clock: clock, Calendar: testkit.ExampleCalendar(t), Logger: slog.New(slog.DiscardHandler)})
	testkit.LoadExampleOrg(t, ctx, db)
	testkit.PublishExampleFlows(t, ctx, engine)
	dir := &dirsynctest.Applier{}
	b := &contactBed{testBundle: setup(t, setupOpts{mode: mode, dir: dir, fakeOpts: fakeOpts}), ctx: ctx, db: db, engine: engine, dir: dir, byID: map[string]feishutest.ContactUser{}}
	users, depts := testkit.ExampleOrg(t)
	open := map[string]string{}
	for _, u := range users {
		open[u.ID] = u.Platforms["feishu"]
	}
	var cus []feishutest.ContactUser
	for _, u := range users {
		cu := feishutest.ContactUser{OpenID: open[u.ID], Name: u.Name, Email: u.Email, DepartmentIDs: []string{"od_" + u.Dept}, LeaderUserID: open[u.Manager]}
		cus = append(cus, cu)
		b.byID[u.ID] = cu
	}
	var cds []feishutest.ContactDept
	for _, d := range depts {
		cd := feishutest.ContactDept{OpenDepartmentID: "od_" + d.ID, Name: d.Name, EnName: d.NameEN, LeaderUserID: open[d.Head]}
		if d.Parent != "" {
			cd.ParentID = "od_" + d.Parent
		}
		cds = append(cds, cd)
	}
	b.fake.SetContacts(cus, cds)
	src := feishudir.New(feishudir.Config{BaseURL: b.fake.URL, AppID: b.app.ID, AppSecret: b.app.Secret})
	dir.Start(t, db, engine, src)
	return b
}

func (b *contactBed) user(t *testing.T, id string) *flows.User {
	t.Helper()
	u, err := b.db.User(b.ctx, id)
	require.NoError(t, err)
	return u
}

// Feishu's contact events, signed and encrypted by the fake (or over the
// long connection), keep the directory current: a move, a rename, a new
// department, a new hire, and a departure that routes the leaver's open
// task; a redelivered event changes nothing.
func TestContactEventsKeepTheDirectory(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{feishu.ModeHTTP, feishu.ModeWebSocket} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := setupContacts(t, mode)
			ok := func(r feishutest.Result) {
				t.Helper()
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			}

			// A new department under Engineering, headed by Zhang Wei.
			r, _ := b.fake.ChangeDept(t, b.app.ID, feishutest.ContactDept{OpenDepartmentID: "od_qa", Name: "测试组", ParentID: "od_eng", LeaderUserID: b.byID["zhangwei"].OpenID})
			ok(r)
			// Tom moves there and reports to Zhang Wei.
			tom := b.byID["tom"]
			tom.DepartmentIDs, tom.LeaderUserID = []string{"od_qa"}, b.byID["zhangwei"].OpenID
			r, _ = b.fake.ChangeUser(t, b.app.ID, tom)
			ok(r)
			// Emily changes her name.
			emily := b.byID["emily"]
			emily.Name = "Emily Wang"
			r, renamed := b.fake.ChangeUser(t, b.app.ID, emily)
			ok(r)
			// A new hire.
			r, _ = b.fake.ChangeUser(t, b.app.ID, feishutest.ContactUser{OpenID: "ou_newhire", Name: "New Hire", Email: "new@example.com", DepartmentIDs: []string{"od_sales"}, LeaderUserID: b.byID["zhaomin"].OpenID})
			ok(r)

			u := b.user(t, "tom")
			require.Equal(t, "feishu-od_qa", u.Dept)
			require.Equal(t, "zhangwei", u.Manager)
			require.Equal(t, "Emily Wang", b.user(t, "emily").Name)
			n := b.user(t, "feishu-ou_newhire")
			require.Equal(t, "zhaomin", n.Manager)
			ds, err := b.db.Departments(b.ctx)
			require.NoError(t, err)
			var qa *flows.Department
			for _, d := range ds {
				if d.ID == "feishu-od_qa" {
					qa = d
				}
			}
			require.NotNil(t, qa)
			require.Equal(t, "zhangwei", qa.Head)
			require.Equal(t, "feishu-od_eng", qa.Parent)

			// Redelivery (Feishu retries until it gets a 200): same result.
			us, _ := b.db.Users(b.ctx)
			ok(b.fake.Push(t, b.app.ID, renamed))
			us2, _ := b.db.Users(b.ctx)
			require.Equal(t, us, us2, "a redelivered event changes nothing")

			// Han Meimei files a leave: Li Lei has the task. Li Lei leaves.
			out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
				"type": "annual", "period": map[string]any{"from": "2026-12-01", "to": "2026-12-02"}, "reason": "family",
			}})
			require.NoError(t, err)
			r, _ = b.fake.DeleteUser(t, b.app.ID, b.byID["lilei"].OpenID)
			ok(r)
			lilei := b.user(t, "lilei")
			require.True(t, lilei.Departed)
			require.Empty(t, lilei.Platforms)
			v, err := b.engine.View(b.ctx, out.Instance.ID)
			require.NoError(t, err)
			had := false
			for _, task := range v.Tasks {
				if task.Assignee == "lilei" {
					had = true
					require.NotEqual(t, flows.TaskPending, task.Status, "the leaver's task was routed")
				}
			}
			require.True(t, had, "Li Lei had the task")
			require.Empty(t, b.user(t, "zhangwei").Manager, "their manager left: none until Feishu names another")
		})
	}
}

// Contact events that are not what they claim are refused with a 4xx and
// change nothing; unsigned or forged ones never reach the decoder.
func TestContactEventsRefused(t *testing.T) {
	t.Parallel()
	b := setupContacts(t, feishu.ModeHTTP)
	us, ds := directory(t, b)
	for name, payload := range map[string][]byte{
		"NoOpenID":       b.fake.ContactEvent(b.app.ID, feishudir.EventUserUpdated, map[string]any{"name": "Nobody"}, nil),
		"NoDeptID":       b.fake.ContactEvent(b.app.ID, feishudir.EventDeptCreated, map[string]any{"name": "Ghost"}, nil),
		"WrongType":      b.fake.ContactEvent(b.app.ID, feishudir.EventUserCreated, map[string]any{"open_id": 42}, nil),
		"NoObject":       []byte(`{"schema":"2.0","header":{"event_id":"ev_x","event_type":"contact.user.deleted_v3","app_id":"` + b.app.ID + `","token":"` + b.app.VerificationToken + `"},"event":{}}`),
		"OwnParentDept":  b.fake.ContactEvent(b.app.ID, feishudir.EventDeptUpdated, map[string]any{"open_department_id": "od_eng", "parent_department_id": "od_eng"}, nil),
		"StatusNotAnObj": b.fake.ContactEvent(b.app.ID, feishudir.EventUserUpdated, map[string]any{"open_id": "ou_x", "status": "gone"}, nil),
	} {
		t.Run(name, func(t *testing.T) {
			r := b.fake.Push(t, b.app.ID, payload)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		})
	}
	// A forged signature.
	body, hdr, err := b.fake.Seal(b.app.ID, b.fake.ContactEvent(b.app.ID, feishudir.EventUserDeleted, map[string]any{"open_id": b.byID["wangzong"].OpenID}, nil), time.Now())
	require.NoError(t, err)
	sig := hdr.Get("X-Lark-Signature")
	if sig[0] == '0' {
		hdr.Set("X-Lark-Signature", "1"+sig[1:])
	} else {
		hdr.Set("X-Lark-Signature", "0"+sig[1:])
	}
	require.Equal(t, http.StatusUnauthorized, b.fake.Post(t, b.app.ID, body, hdr).Status)
	us2, ds2 := directory(t, b)
	require.Equal(t, us, us2, "refused events change nothing")
	require.Equal(t, ds, ds2)
	require.Zero(t, b.dir.Applied())
}

// Without a Directory the contact events are acknowledged and ignored.
func TestContactEventsIgnoredWithoutDirectory(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	r, _ := b.fake.DeleteUser(t, b.app.ID, "ou_someone")
	require.Equal(t, http.StatusOK, r.Status)
	require.Empty(t, b.rec.Events(), "no bots.Event for a contact event")
}

func directory(t *testing.T, b *contactBed) ([]*flows.User, []*flows.Department) {
	t.Helper()
	us, err := b.db.Users(b.ctx)
	require.NoError(t, err)
	ds, err := b.db.Departments(b.ctx)
	require.NoError(t, err)
	return us, ds
}

// Feishu retries an event it got no 200 for; by then a newer change of
// the same person may have been applied: the retry (older create_time)
// is acknowledged and changes nothing.
func TestContactEventRetryAfterNewerChange(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	offset := -10 * time.Second
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}
	b := setupContacts(t, feishu.ModeHTTP, feishutest.WithClock(clock))
	emily := b.byID["emily"]
	emily.Name = "Emily Old"
	older := b.fake.ContactEvent(b.app.ID, feishudir.EventUserUpdated, map[string]any{"open_id": emily.OpenID, "name": "Emily Old", "email": emily.Email, "department_ids": emily.DepartmentIDs, "leader_user_id": emily.LeaderUserID}, nil)
	mu.Lock()
	offset = 0
	mu.Unlock()
	emily.Name = "Emily New"
	r, _ := b.fake.ChangeUser(t, b.app.ID, emily)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = b.fake.Push(t, b.app.ID, older)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "Emily New", b.user(t, "emily").Name, "the older change does not overwrite the newer")
}
