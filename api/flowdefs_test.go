package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

func TestFlowEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.token(t, "", 0, "admin")
	reader := b.token(t, "", 0, "read")
	wangzong := b.token(t, "wangzong", 0, "admin") // role admin
	lilei := b.token(t, "lilei", 0, "admin")       // admin scope, but an employee
	src := string(testkit.ExampleFlow(t, "flows/leave.yaml"))

	r := b.do(t, "GET", "/api/v1/flows/leave", reader, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	require.EqualValues(t, 1, r.json(t)["version"])
	require.Len(t, r.json(t)["versions"], 1)

	r = b.do(t, "POST", "/api/v1/flows/validate", reader, "id: broken\nsteps: 7\n")
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	require.Equal(t, false, r.json(t)["valid"])
	require.NotEmpty(t, r.json(t)["errors"])
	r = b.do(t, "POST", "/api/v1/flows/validate", reader, src)
	require.Equal(t, true, r.json(t)["valid"], "%s", r.Body)

	changed := strings.Replace(src, "max: 500", "max: 800", 1)
	require.NotEqual(t, src, changed)
	r = b.do(t, "POST", "/api/v1/flows", reader, changed)
	require.Equal(t, http.StatusForbidden, r.Code, "read scope cannot publish")
	r = b.do(t, "POST", "/api/v1/flows", lilei, changed)
	require.Equal(t, http.StatusForbidden, r.Code, "an employee cannot publish, whatever the scope")
	r = b.do(t, "POST", "/api/v1/flows", admin, "id: broken\nsteps: 7\n")
	require.Equal(t, http.StatusBadRequest, r.Code)
	require.Equal(t, "invalid", r.errCode(t))
	r = b.do(t, "POST", "/api/v1/flows", wangzong, changed)
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	require.EqualValues(t, 2, r.json(t)["version"])
	r = b.do(t, "GET", "/api/v1/flows/leave", reader, nil)
	require.Len(t, r.json(t)["versions"], 2)
	r = b.do(t, "GET", "/api/v1/flows/nope", reader, nil)
	require.Equal(t, http.StatusNotFound, r.Code)

	// Dry run: 5 days go to HR too, 2 days only to the manager; nothing filed.
	before := b.counts(t)
	route := func(days int) []string {
		r := b.do(t, "POST", "/api/v1/flows/leave/dry-run", reader, map[string]any{"applicant": "hanmeimei", "values": leave(days)})
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var got []string
		for _, s := range r.json(t)["route"].([]any) {
			m := s.(map[string]any)
			got = append(got, m["step_id"].(string)+":"+m["status"].(string))
		}
		return got
	}
	require.Equal(t, []string{"manager:upcoming", "hr:upcoming"}, route(5))
	require.Equal(t, []string{"manager:upcoming", "hr:skipped"}, route(2))
	require.Equal(t, before, b.counts(t))
	r = b.do(t, "POST", "/api/v1/flows/leave/dry-run", reader, map[string]any{"applicant": "hanmeimei", "values": map[string]any{"type": "cruise"}})
	require.Equal(t, http.StatusBadRequest, r.Code)
	require.Equal(t, "invalid", r.errCode(t))
}

func TestDirectoryEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	admin := b.token(t, "", 0, "admin")
	employee := b.token(t, "zhangwei", 0, "admin")

	r := b.do(t, "PUT", "/api/v1/users/newbie", admin, map[string]any{"name": "New Bie", "dept": "eng", "manager": "lilei", "roles": []string{"employee"}})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	u, err := b.store.User(ctx, "newbie")
	require.NoError(t, err)
	require.Equal(t, "lilei", u.Manager)
	r = b.do(t, "PUT", "/api/v1/users/newbie", admin, map[string]any{"name": "New Bie", "dept": "sales"})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	r = b.do(t, "PUT", "/api/v1/users/newbie", admin, map[string]any{"name": "x", "dept": "nowhere"})
	require.Equal(t, http.StatusBadRequest, r.Code)
	r = b.do(t, "PUT", "/api/v1/users/newbie", admin, map[string]any{"name": 5})
	require.Equal(t, http.StatusBadRequest, r.Code)
	r = b.do(t, "PUT", "/api/v1/users/newbie", employee, map[string]any{"name": "x"})
	require.Equal(t, http.StatusForbidden, r.Code)
	r = b.do(t, "PUT", "/api/v1/departments/qa", admin, map[string]any{"name": "质量部", "name_en": "QA", "parent": "eng"})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	d, err := b.store.Department(ctx, "qa")
	require.NoError(t, err)
	require.Equal(t, "QA", d.NameEN)

	newbie := b.token(t, "newbie", 0, "read")
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/api/v1/tasks", newbie, nil).Code)
	r = b.do(t, "DELETE", "/api/v1/users/newbie", admin, nil)
	require.Equal(t, http.StatusNoContent, r.Code, "%s", r.Body)
	r = b.do(t, "GET", "/api/v1/tasks", newbie, nil)
	require.Equal(t, http.StatusForbidden, r.Code, "a deactivated user's token stops working")
	r = b.do(t, "DELETE", "/api/v1/users/newbie", admin, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	r = b.do(t, "GET", "/api/v1/users", admin, nil)
	require.NotContains(t, string(r.Body), `"newbie"`)
}

// A directory change through the API takes the directory lock shared with
// the other replicas and the directory sync: while another writer holds it
// too long the call is refused with 503 and changes nothing; the lock is
// released after each change.
func TestDirectoryChangeTakesTheDirectoryLock(t *testing.T) {
	t.Parallel()
	var busy atomic.Bool
	var held, released atomic.Int32
	b := setup(t, func(c *api.Config) {
		c.DirectoryLock = func(ctx context.Context) (func(), error) {
			if busy.Load() {
				return nil, fmt.Errorf("sync running: %w", api.ErrDirectoryBusy)
			}
			held.Add(1)
			return func() { released.Add(1) }, nil
		}
	})
	ctx := context.Background()
	admin := b.token(t, "", 0, "admin")

	busy.Store(true)
	r := b.do(t, "PUT", "/api/v1/users/newbie", admin, map[string]any{"name": "New Bie", "dept": "eng"})
	require.Equal(t, http.StatusServiceUnavailable, r.Code, "%s", r.Body)
	require.Contains(t, string(r.Body), `"unavailable"`)
	_, err := b.store.User(ctx, "newbie")
	require.ErrorIs(t, err, flows.ErrNotFound, "a refused change wrote nothing")

	busy.Store(false)
	r = b.do(t, "PUT", "/api/v1/users/newbie", admin, map[string]any{"name": "New Bie", "dept": "eng"})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	r = b.do(t, "DELETE", "/api/v1/users/newbie", admin, nil)
	require.Equal(t, http.StatusNoContent, r.Code, "%s", r.Body)
	require.Equal(t, int32(2), held.Load())
	require.Equal(t, int32(2), released.Load(), "every change gives the lock back")
}
