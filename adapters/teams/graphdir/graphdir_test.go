package graphdir_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/teams/graphdir"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
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
