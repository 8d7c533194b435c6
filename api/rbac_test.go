package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/internal/testkit"
)

// Each role against each action, through the API with the user's own
// token. hanmeimei (eng) files a leave request that lilei (her manager,
// head of eng) must approve.
func TestRightsByRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// zhoufang becomes an auditor.
	users, depts := testkit.ExampleOrg(t)
	for _, u := range users {
		if u.ID == "zhoufang" {
			u.Roles = append(u.Roles, "auditor")
		}
	}
	require.NoError(t, b.store.ReplaceDirectory(ctx, users, depts))

	roles := map[string]string{
		"applicant": "hanmeimei", "assignee": "lilei", "employee": "zhangwei",
		"admin": "wangzong", "auditor": "zhoufang", "head of sales": "zhaomin",
	}
	tok := map[string]string{}
	for role, u := range roles {
		tok[role] = b.token(t, u, 0, "write")
	}
	file := func() (int64, int64) {
		r := b.do(t, "POST", "/api/v1/requests", tok["applicant"], map[string]any{"flow": "leave", "values": leave(2)})
		require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
		m := r.json(t)
		for _, x := range m["tasks"].([]any) {
			if x.(map[string]any)["assignee"] == "lilei" {
				return int64(m["id"].(float64)), int64(x.(map[string]any)["id"].(float64))
			}
		}
		t.Fatal("no task for lilei")
		return 0, 0
	}

	type action struct {
		name string
		call func(role string) int
	}
	actions := []action{
		{"see request", func(role string) int {
			id, _ := file()
			return b.do(t, "GET", fmt.Sprintf("/api/v1/requests/%d", id), tok[role], nil).Code
		}},
		{"decide", func(role string) int {
			_, task := file()
			return b.do(t, "POST", fmt.Sprintf("/api/v1/tasks/%d/decide", task), tok[role], map[string]any{"decision": "approve"}).Code
		}},
		{"withdraw", func(role string) int {
			id, _ := file()
			return b.do(t, "POST", fmt.Sprintf("/api/v1/requests/%d/withdraw", id), tok[role], map[string]any{"reason": "changed plans"}).Code
		}},
		{"statistics", func(role string) int { return b.do(t, "GET", "/api/v1/stats", tok[role], nil).Code }},
		{"everyone's requests", func(role string) int {
			return b.do(t, "GET", "/api/v1/requests?applicant=hanmeimei", tok[role], nil).Code
		}},
		{"audit trail export", func(role string) int { return b.do(t, "GET", "/api/v1/export/events", tok[role], nil).Code }},
		{"outbox (admin scope + admin role)", func(role string) int {
			return b.do(t, "GET", "/api/v1/admin/outbox", b.token(t, roles[role], 0, "admin"), nil).Code
		}},
	}
	const ok, no = http.StatusOK, http.StatusForbidden
	want := map[string]map[string]int{
		//                          applicant assignee employee admin auditor head of sales
		"see request":                       {"applicant": ok, "assignee": ok, "employee": no, "admin": ok, "auditor": ok, "head of sales": no},
		"decide":                            {"applicant": no, "assignee": ok, "employee": no, "admin": no, "auditor": no, "head of sales": no},
		"withdraw":                          {"applicant": ok, "assignee": no, "employee": no, "admin": no, "auditor": no, "head of sales": no},
		"statistics":                        {"applicant": no, "assignee": ok, "employee": no, "admin": ok, "auditor": ok, "head of sales": ok},
		"everyone's requests":               {"applicant": ok, "assignee": no, "employee": no, "admin": ok, "auditor": ok, "head of sales": no},
		"audit trail export":                {"applicant": no, "assignee": no, "employee": no, "admin": ok, "auditor": ok, "head of sales": no},
		"outbox (admin scope + admin role)": {"applicant": no, "assignee": no, "employee": no, "admin": ok, "auditor": no, "head of sales": no},
	}
	for _, a := range actions {
		for role := range roles {
			t.Run(a.name+"/"+role, func(t *testing.T) {
				require.Equal(t, want[a.name][role], a.call(role), "%s by %s (%s)", a.name, role, roles[role])
			})
		}
	}
}
