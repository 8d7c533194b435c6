package wecomdir_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/wecom/wecomdir"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/store/sqlite"
)

type platform struct {
	srv *wecomtest.Server
	src *wecomdir.Source
}

func newPlatform(t *testing.T) dirsynctest.Platform {
	t.Helper()
	srv := wecomtest.NewServer()
	t.Cleanup(srv.Close)
	srv.AddApp(wecomtest.App{CorpID: "ww1", AgentID: 1000002, Secret: "s3cret"})
	return &platform{srv: srv, src: wecomdir.New(wecomdir.Config{BaseURL: srv.URL, CorpID: "ww1", Secret: "s3cret"})}
}

func (p *platform) Source() dirsync.Source { return p.src }
func (p *platform) FailAfter(n int)        { p.srv.FailAddressBookAfter(n) }
func (p *platform) RateLimitNext(n int)    { p.srv.RateLimitAddressBook(n) }
func (p *platform) PagesServed() int       { return p.srv.AddressBookPages() }

func id(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func (p *platform) SetDirectory(people []dirsync.Person, depts []dirsync.Dept) {
	var ms []wecomtest.Member
	for _, x := range people {
		m := wecomtest.Member{UserID: x.ID, Name: x.Name, Email: x.Email, Mobile: x.Mobile, Status: 1}
		if !x.Active {
			m.Status = 5
		}
		for _, d := range x.Depts {
			m.Departments = append(m.Departments, id(d))
		}
		if len(m.Departments) > 0 {
			m.MainDepartment = m.Departments[0]
		}
		if x.Manager != "" {
			m.DirectLeader = []string{x.Manager}
		}
		ms = append(ms, m)
	}
	var ds []wecomtest.Department
	for _, d := range depts {
		wd := wecomtest.Department{ID: id(d.ID), Name: d.Name, ParentID: id(d.Parent)}
		if d.Head != "" {
			wd.Leaders = []string{d.Head}
		}
		ds = append(ds, wd)
	}
	p.srv.SetAddressBook(ms, ds)
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
	dirsynctest.Run(t, dirsynctest.Caps{}, newPlatform, newStore)
}

func TestBadSecretIsAnError(t *testing.T) {
	t.Parallel()
	p := newPlatform(t).(*platform)
	src := wecomdir.New(wecomdir.Config{BaseURL: p.srv.URL, CorpID: "ww1", Secret: "wrong"})
	_, err := src.Fetch(context.Background(), dirsync.Cursor{})
	require.ErrorContains(t, err, "access token")
	require.Zero(t, p.srv.AddressBookPages())
}

func TestQuitMemberInactive(t *testing.T) {
	t.Parallel()
	p := newPlatform(t).(*platform)
	p.SetDirectory([]dirsync.Person{{ID: "q", Name: "Quit", Depts: []string{"1"}}}, []dirsync.Dept{{ID: "1", Name: "Root"}})
	pg, err := p.src.Fetch(context.Background(), dirsync.Cursor{Token: "u:0:", Depts: []dirsync.Dept{{ID: "1"}}})
	require.NoError(t, err)
	require.Len(t, pg.People, 1)
	require.False(t, pg.People[0].Active)
}

func TestForgedCursorRefused(t *testing.T) {
	t.Parallel()
	p := newPlatform(t).(*platform)
	for _, tok := range []string{"u:3:", "d:9", "u:0:x", "nonsense"} {
		_, err := p.src.Fetch(context.Background(), dirsync.Cursor{Token: tok, Depts: []dirsync.Dept{{ID: "1"}}})
		require.Error(t, err, tok)
	}
	require.Zero(t, p.srv.AddressBookPages())
}

// FuzzFetch feeds arbitrary answers to the source: an error or a page,
// never a panic.
func FuzzFetch(f *testing.F) {
	f.Add([]byte(`{"errcode":0,"department":[{"id":1,"name":"R","department_leader":["a"]}]}`), "")
	f.Add([]byte(`{"errcode":0,"userlist":[{"userid":"a","department":[1],"status":5}]}`), "u:0:")
	f.Add([]byte(`{"errcode":45009}`), "u:1:")
	f.Fuzz(func(t *testing.T, body []byte, cursor string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "gettoken") {
				_, _ = w.Write([]byte(`{"errcode":0,"access_token":"t","expires_in":7200}`))
				return
			}
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		src := wecomdir.New(wecomdir.Config{BaseURL: srv.URL, CorpID: "c", Secret: "s"})
		_, _ = src.Fetch(context.Background(), dirsync.Cursor{Token: cursor, Depts: []dirsync.Dept{{ID: "1"}, {ID: "2"}}})
	})
}
