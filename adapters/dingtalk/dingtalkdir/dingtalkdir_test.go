package dingtalkdir_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalkdir"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/store/sqlite"
)

type platform struct {
	srv *dingtalktest.Server
	src *dingtalkdir.Source
}

func newPlatform(t *testing.T) dirsynctest.Platform {
	t.Helper()
	srv := dingtalktest.NewServer()
	t.Cleanup(srv.Close)
	srv.AddApp(dingtalktest.App{Key: "dingdir", Secret: "s3cret"})
	return &platform{srv: srv, src: dingtalkdir.New(dingtalkdir.Config{BaseURL: srv.URL, OAPIURL: srv.URL, AppKey: "dingdir", AppSecret: "s3cret", PageSize: 1})}
}

func (p *platform) Source() dirsync.Source { return p.src }
func (p *platform) FailAfter(n int)        { p.srv.FailOrgAfter(n) }
func (p *platform) RateLimitNext(n int)    { p.srv.RateLimitOrg(n) }
func (p *platform) PagesServed() int       { return p.srv.OrgPages() }

func id(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func (p *platform) SetDirectory(people []dirsync.Person, depts []dirsync.Dept) {
	var us []dingtalktest.OrgUser
	for _, x := range people {
		if !x.Active {
			continue // DingTalk lists current members only
		}
		var ds []int64
		for _, d := range x.Depts {
			ds = append(ds, id(d))
		}
		us = append(us, dingtalktest.OrgUser{UserID: x.ID, Name: x.Name, Email: x.Email, Mobile: x.Mobile, DeptIDs: ds, ManagerUserID: x.Manager})
	}
	var ds []dingtalktest.OrgDept
	for _, d := range depts {
		od := dingtalktest.OrgDept{ID: id(d.ID), Name: d.Name, ParentID: id(d.Parent)}
		if d.Head != "" {
			od.Managers = []string{d.Head}
		}
		ds = append(ds, od)
	}
	p.srv.SetOrg(us, ds)
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
	src := dingtalkdir.New(dingtalkdir.Config{BaseURL: p.srv.URL, OAPIURL: p.srv.URL, AppKey: "dingdir", AppSecret: "wrong"})
	_, err := src.Fetch(context.Background(), dirsync.Cursor{})
	require.ErrorContains(t, err, "access token")
	require.Zero(t, p.srv.OrgPages())
}

func TestForgedCursorRefused(t *testing.T) {
	t.Parallel()
	p := newPlatform(t).(*platform)
	for _, tok := range []string{"u:3:", "d:9", "u:0:-5", "nonsense"} {
		_, err := p.src.Fetch(context.Background(), dirsync.Cursor{Token: tok, Depts: []dirsync.Dept{{ID: "1"}}})
		require.Error(t, err, tok)
	}
	require.Zero(t, p.srv.OrgPages())
}

// FuzzFetch feeds arbitrary answers to the source: an error or a page,
// never a panic.
func FuzzFetch(f *testing.F) {
	f.Add([]byte(`{"errcode":0,"result":{"has_more":true,"next_cursor":1,"list":[{"userid":"a","dept_id_list":[1]}]}}`), "u:0:")
	f.Add([]byte(`{"errcode":0,"result":[{"dept_id":2}]}`), "")
	f.Add([]byte(`{"errcode":90018}`), "d:1")
	f.Fuzz(func(t *testing.T, body []byte, cursor string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "accessToken") {
				_, _ = w.Write([]byte(`{"accessToken":"t","expireIn":7200}`))
				return
			}
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		src := dingtalkdir.New(dingtalkdir.Config{BaseURL: srv.URL, OAPIURL: srv.URL, AppKey: "a", AppSecret: "b"})
		_, _ = src.Fetch(context.Background(), dirsync.Cursor{Token: cursor, Depts: []dirsync.Dept{{ID: "1"}, {ID: "2"}}})
	})
}
