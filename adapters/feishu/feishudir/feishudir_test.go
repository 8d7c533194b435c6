package feishudir_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishudir"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/store/sqlite"
)

type platform struct {
	srv *feishutest.Server
	src *feishudir.Source
}

func newPlatform(t *testing.T) dirsynctest.Platform {
	t.Helper()
	srv := feishutest.NewServer()
	t.Cleanup(srv.Close)
	srv.AddApp(feishutest.App{ID: "cli_dir", Secret: "s3cret"})
	return &platform{srv: srv, src: feishudir.New(feishudir.Config{BaseURL: srv.URL, AppID: "cli_dir", AppSecret: "s3cret", PageSize: 2})}
}

func (p *platform) Source() dirsync.Source { return p.src }
func (p *platform) FailAfter(n int)        { p.srv.FailContactsAfter(n) }
func (p *platform) RateLimitNext(n int)    { p.srv.RateLimitNext(n, 1) }
func (p *platform) PagesServed() int       { return p.srv.ContactPages() }

func (p *platform) SetDirectory(people []dirsync.Person, depts []dirsync.Dept) {
	var us []feishutest.ContactUser
	for _, x := range people {
		us = append(us, feishutest.ContactUser{OpenID: x.ID, Name: x.Name, Email: x.Email, Mobile: "+86" + x.Mobile,
			DepartmentIDs: x.Depts, LeaderUserID: x.Manager, Resigned: !x.Active})
	}
	var ds []feishutest.ContactDept
	for _, d := range depts {
		ds = append(ds, feishutest.ContactDept{OpenDepartmentID: d.ID, Name: d.Name, ParentID: d.Parent, LeaderUserID: d.Head})
	}
	p.srv.SetContacts(us, ds)
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
	srv := feishutest.NewServer()
	t.Cleanup(srv.Close)
	srv.AddApp(feishutest.App{ID: "cli_dir", Secret: "s3cret"})
	src := feishudir.New(feishudir.Config{BaseURL: srv.URL, AppID: "cli_dir", AppSecret: "wrong"})
	_, err := src.Fetch(context.Background(), dirsync.Cursor{})
	require.ErrorContains(t, err, "tenant token")
	require.Zero(t, srv.ContactPages())
}

func TestForgedCursorRefused(t *testing.T) {
	t.Parallel()
	p := newPlatform(t).(*platform)
	_, err := p.src.Fetch(context.Background(), dirsync.Cursor{Token: "u:7:"})
	require.ErrorContains(t, err, "department 7 of 1")
	_, err = p.src.Fetch(context.Background(), dirsync.Cursor{Token: "garbage"})
	require.ErrorContains(t, err, "bad directory cursor")
	require.Zero(t, p.srv.ContactPages())
}

// FuzzFetch feeds arbitrary answers to the source: an error or a page,
// never a panic.
func FuzzFetch(f *testing.F) {
	f.Add([]byte(`{"code":0,"data":{"has_more":true,"page_token":"2","items":[{"open_department_id":"od1","name":"A","parent_department_id":"0"}]}}`), "")
	f.Add([]byte(`{"code":0,"data":{"items":[{"open_id":"ou1","status":{"is_resigned":true}}]}}`), "u:0:")
	f.Add([]byte(`{"code":99991400}`), "d:3")
	f.Fuzz(func(t *testing.T, body []byte, cursor string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "tenant_access_token") {
				_, _ = w.Write([]byte(`{"code":0,"tenant_access_token":"t","expire":7200}`))
				return
			}
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		src := feishudir.New(feishudir.Config{BaseURL: srv.URL, AppID: "a", AppSecret: "b"})
		_, _ = src.Fetch(context.Background(), dirsync.Cursor{Token: cursor})
	})
}
