package graphdir_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/teams/graphdir"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

type platform struct {
	srv *teamstest.Server
	src *graphdir.Source
}

func newPlatform(t *testing.T) dirsynctest.Platform {
	t.Helper()
	srv := teamstest.NewServer()
	t.Cleanup(srv.Close)
	return &platform{srv: srv, src: graphdir.New(graphdir.Config{LoginURL: srv.URL, GraphURL: srv.URL, Tenant: "contoso", ClientID: "app", ClientSecret: "s3cret", PageSize: 2})}
}

func (p *platform) Source() dirsync.Source { return p.src }
func (p *platform) FailAfter(n int)        { p.srv.FailGraphAfter(n) }
func (p *platform) RateLimitNext(n int)    { p.srv.ThrottleGraph(n) }
func (p *platform) PagesServed() int       { return p.srv.GraphPages() }

func (p *platform) SetDirectory(people []dirsync.Person, depts []dirsync.Dept) {
	name := map[string]string{}
	for _, d := range depts {
		name[d.ID] = d.Name
	}
	var us []teamstest.GraphUser
	for _, x := range people {
		u := teamstest.GraphUser{ID: x.ID, DisplayName: x.Name, Mail: x.Email, MobilePhone: x.Mobile, ManagerID: x.Manager, AccountEnabled: x.Active}
		if len(x.Depts) > 0 {
			u.Department = name[x.Depts[0]]
		}
		us = append(us, u)
	}
	p.srv.SetGraphUsers(us)
}

func newStore(t *testing.T) dirsync.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flowbot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestSuite(t *testing.T) {
	t.Parallel()
	dirsynctest.Run(t, dirsynctest.Caps{DeptsByName: true}, newPlatform, newStore)
}

func TestForeignNextLinkRefused(t *testing.T) {
	t.Parallel()
	p := newPlatform(t).(*platform)
	_, err := p.src.Fetch(context.Background(), dirsync.Cursor{Token: "https://evil.example/v1.0/users?$skiptoken=1"})
	require.ErrorContains(t, err, "is not a users page")
	require.Zero(t, p.srv.GraphPages())
}

func TestBotFrameworkTokenIsNotAGraphToken(t *testing.T) {
	t.Parallel()
	p := newPlatform(t).(*platform)
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/v1.0/users", nil)
	req.Header.Set("Authorization", "Bearer fake-access-0000")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// FuzzFetch feeds arbitrary answers to the source: an error or a page,
// never a panic.
func FuzzFetch(f *testing.F) {
	f.Add([]byte(`{"value":[{"id":"a","displayName":"A","department":"Sales","manager":{"id":"b"}}]}`), 200)
	f.Add([]byte(`{"error":{"code":"TooManyRequests"}}`), 429)
	f.Add([]byte(`{"value":[],"@odata.nextLink":"http://x/v1.0/users?$skiptoken=1"}`), 200)
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		if status < 100 || status > 599 {
			status = 200
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "token") {
				_, _ = w.Write([]byte(`{"access_token":"t","expires_in":3600}`))
				return
			}
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		src := graphdir.New(graphdir.Config{LoginURL: srv.URL, GraphURL: srv.URL, Tenant: "t", ClientID: "c", ClientSecret: "s"})
		_, _ = src.Fetch(context.Background(), dirsync.Cursor{})
	})
}

type departs struct{ ids []string }

func (d *departs) Depart(_ context.Context, user string) (*flows.DepartResult, error) {
	d.ids = append(d.ids, user)
	return &flows.DepartResult{}, nil
}

// The users delta query, polled: renames, moves, a new manager, a new
// user and a deletion reach the directory, a redelivered page changes
// nothing, and the deleted user's tasks are routed.
func TestDeltaPoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamstest.NewServer()
	t.Cleanup(srv.Close)
	src := graphdir.New(graphdir.Config{LoginURL: srv.URL, GraphURL: srv.URL, Tenant: "contoso", ClientID: "app", ClientSecret: "s3cret", PageSize: 2})
	boss := teamstest.GraphUser{ID: "b0ss", DisplayName: "Boss", Mail: "boss@corp.example", Department: "HQ", AccountEnabled: true}
	ann := teamstest.GraphUser{ID: "a11", DisplayName: "Ann", Mail: "ann@corp.example", Department: "Sales", ManagerID: "b0ss", AccountEnabled: true}
	bob := teamstest.GraphUser{ID: "b0b", DisplayName: "Bob", Mail: "bob@corp.example", Department: "Sales", ManagerID: "a11", AccountEnabled: true}
	srv.SetGraphUsers([]teamstest.GraphUser{boss, ann, bob})
	st := newStore(t)
	dep := &departs{}
	s := dirsync.New(dirsync.Config{Store: st, Sources: []dirsync.Source{src}, Rate: 1000, Departer: dep})
	_, err := s.Run(ctx)
	require.NoError(t, err)

	res, err := s.Poll(ctx, src)
	require.NoError(t, err)
	require.True(t, res.Started, "the first poll starts the feed")
	require.Zero(t, res.Applied, "the current state is the full sync's")

	ann.DisplayName, ann.Department = "Ann Li", "HQ"
	srv.UpdateGraphUser(ann, "DisplayName", "Department")
	bob.ManagerID = "b0ss"
	srv.UpdateGraphUser(bob, "ManagerID")
	srv.UpdateGraphUser(teamstest.GraphUser{ID: "c4t", DisplayName: "Cat", Mail: "cat@corp.example", Department: "R&D", ManagerID: "b0ss", AccountEnabled: true})
	srv.DeleteGraphUser("b0b")

	res, err = s.Poll(ctx, src)
	require.NoError(t, err)
	require.False(t, res.Started)
	require.Equal(t, 6, res.Applied, "four users, and the departments HQ and R&D they name")
	require.Equal(t, []string{"teams-b0b"}, dep.ids, "the deleted user's tasks are routed")

	fst := st.(flows.Store)
	u, err := fst.User(ctx, "teams-a11")
	require.NoError(t, err)
	require.Equal(t, "Ann Li", u.Name)
	require.Equal(t, "teams-HQ", u.Dept, "moved")
	require.Equal(t, "ann@corp.example", u.Email, "not in the delta: kept")
	require.Equal(t, "teams-b0ss", u.Manager, "not in the delta: kept")
	c, err := fst.User(ctx, "teams-c4t")
	require.NoError(t, err)
	require.Equal(t, "teams-R_D", c.Dept)
	require.Equal(t, "teams-b0ss", c.Manager)
	b, err := fst.User(ctx, "teams-b0b")
	require.NoError(t, err)
	require.True(t, b.Departed)

	// Nothing new: the poll applies nothing, changes nothing.
	before, err := st.Users(ctx)
	require.NoError(t, err)
	res, err = s.Poll(ctx, src)
	require.NoError(t, err)
	require.Zero(t, res.Applied)
	after, err := st.Users(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)

	// A full sync of the platform as it now is agrees with the events on
	// every user; it also removes the department nobody names any more
	// (Graph's departments are names on users: no event says one ended).
	p, err := s.Plan(ctx)
	require.NoError(t, err)
	require.Equal(t, []dirsync.Change{{Op: "-", Kind: "dept", ID: "teams-Sales", Name: "Sales"}}, p.Changes)
}

// A poll that fails mid-way resumes at the failed page; pages applied
// twice change nothing.
func TestDeltaPollResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamstest.NewServer()
	t.Cleanup(srv.Close)
	src := graphdir.New(graphdir.Config{LoginURL: srv.URL, GraphURL: srv.URL, Tenant: "contoso", ClientID: "app", ClientSecret: "s3cret", PageSize: 1})
	var users []teamstest.GraphUser
	for _, id := range []string{"u1", "u2", "u3"} {
		users = append(users, teamstest.GraphUser{ID: id, DisplayName: id, Department: "HQ", AccountEnabled: true})
	}
	srv.SetGraphUsers(users)
	st := newStore(t)
	s := dirsync.New(dirsync.Config{Store: st, Sources: []dirsync.Source{src}, Rate: 1000})
	_, err := s.Run(ctx)
	require.NoError(t, err)
	_, err = s.Poll(ctx, src)
	require.NoError(t, err)
	for i, u := range users {
		u.DisplayName = fmt.Sprintf("User %d", i+1)
		srv.UpdateGraphUser(u, "DisplayName")
	}
	srv.FailGraphAfter(1)
	_, err = s.Poll(ctx, src)
	require.ErrorContains(t, err, "503")
	served := srv.GraphDeltaPages()
	srv.FailGraphAfter(-1)
	res, err := s.Poll(ctx, src)
	require.NoError(t, err)
	require.Equal(t, 2, res.Applied, "resumed after the page applied before the failure")
	require.Equal(t, served+2, srv.GraphDeltaPages())
	for i := range users {
		u, err := st.(flows.Store).User(ctx, fmt.Sprintf("teams-u%d", i+1))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("User %d", i+1), u.Name)
	}
}

func TestDeltaLinkElsewhereRefused(t *testing.T) {
	t.Parallel()
	p := newPlatform(t).(*platform)
	_, err := p.src.Changes(context.Background(), "https://evil.example/v1.0/users/delta?$deltatoken=1")
	require.ErrorContains(t, err, "is not a users delta")
}

func TestDecodeDeltaRefusesMalformed(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"NotJSON":       `{`,
		"NoLink":        `{"value":[]}`,
		"BothLinks":     `{"value":[],"@odata.nextLink":"a","@odata.deltaLink":"b"}`,
		"NoID":          `{"value":[{"displayName":"x"}],"@odata.deltaLink":"b"}`,
		"WrongType":     `{"value":[{"id":"a","displayName":3}],"@odata.deltaLink":"b"}`,
		"BadEnabled":    `{"value":[{"id":"a","accountEnabled":"yes"}],"@odata.deltaLink":"b"}`,
		"BadManager":    `{"value":[{"id":"a","manager@delta":{"id":"m"}}],"@odata.deltaLink":"b"}`,
		"ValueNotArray": `{"value":{},"@odata.deltaLink":"b"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := graphdir.DecodeDelta([]byte(body))
			require.Error(t, err)
		})
	}
}

// FuzzDecodeDelta: any answer is a page or an error, never a panic, and a
// page's events are all applicable.
func FuzzDecodeDelta(f *testing.F) {
	f.Add([]byte(`{"value":[{"id":"a","displayName":"A","department":"Sales","manager@delta":[{"id":"b"}]},{"id":"c","@removed":{"reason":"deleted"}}],"@odata.deltaLink":"x"}`))
	f.Add([]byte(`{"value":[{"id":"a","accountEnabled":false}],"@odata.nextLink":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := graphdir.DecodeDelta(body)
		if err != nil {
			return
		}
		for _, ev := range page.Events {
			if ev.Person.ID == "" && ev.Dept.ID == "" {
				t.Fatalf("event without an id: %+v", ev)
			}
		}
	})
}

// The example company on Teams, its flows on SQLite: Li Lei is deleted
// from Entra ID, the next poll departs him and routes the leave request
// waiting on him.
func TestDeltaPollDepartureRoutesTasks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	clock := testkit.NewClock(time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC))
	engine := flows.New(flows.Config{Store: db, Clock: clock, Calendar: testkit.ExampleCalendar(t), Logger: slog.New(slog.DiscardHandler)})
	testkit.LoadExampleOrg(t, ctx, db)
	testkit.PublishExampleFlows(t, ctx, engine)
	srv := teamstest.NewServer()
	t.Cleanup(srv.Close)
	users, depts := testkit.ExampleOrg(t)
	deptName := map[string]string{}
	for _, d := range depts {
		deptName[d.ID] = d.NameEN
	}
	var gus []teamstest.GraphUser
	for _, u := range users {
		gu := teamstest.GraphUser{ID: u.Platforms["teams"], DisplayName: u.Name, Mail: u.Email, Department: deptName[u.Dept], AccountEnabled: true}
		for _, m := range users {
			if m.ID == u.Manager {
				gu.ManagerID = m.Platforms["teams"]
			}
		}
		gus = append(gus, gu)
	}
	srv.SetGraphUsers(gus)
	src := graphdir.New(graphdir.Config{LoginURL: srv.URL, GraphURL: srv.URL, Tenant: "contoso", ClientID: "app", ClientSecret: "s3cret"})
	s := dirsync.New(dirsync.Config{Store: db, Sources: []dirsync.Source{src}, Rate: 1000, Departer: engine, Logger: slog.New(slog.DiscardHandler)})
	p, err := s.Run(ctx)
	require.NoError(t, err)
	require.Empty(t, p.Departed)
	_, err = s.Poll(ctx, src)
	require.NoError(t, err)

	out, err := engine.Submit(ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": "2026-12-01", "to": "2026-12-02"}, "reason": "family",
	}})
	require.NoError(t, err)
	srv.DeleteGraphUser("29:1lileiAAD")
	res, err := s.Poll(ctx, src)
	require.NoError(t, err)
	require.Equal(t, []string{"lilei"}, res.Departed)
	lilei, err := db.User(ctx, "lilei")
	require.NoError(t, err)
	require.True(t, lilei.Departed)
	v, err := engine.View(ctx, out.Instance.ID)
	require.NoError(t, err)
	had := false
	for _, task := range v.Tasks {
		if task.Assignee == "lilei" {
			had = true
			require.NotEqual(t, flows.TaskPending, task.Status, "the leaver's task was routed")
		}
	}
	require.True(t, had)
	hm, err := db.User(ctx, "hanmeimei")
	require.NoError(t, err)
	require.Empty(t, hm.Manager, "her manager left: none until Entra ID names another")
}
