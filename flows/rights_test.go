package flows_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

func TestRightsRules(t *testing.T) {
	t.Parallel()
	in := &flows.Instance{ID: 1, Applicant: "ann", Status: flows.StatusPending}
	tasks := []*flows.Task{{ID: 1, InstanceID: 1, Assignee: "bob", Status: flows.TaskPending}}
	cc, _ := json.Marshal(map[string]any{"to": []string{"cat"}})
	events := []*flows.Event{{InstanceID: 1, Type: flows.EvCC, Data: cc}}
	user := func(id string, roles ...string) *flows.User { return &flows.User{ID: id, Roles: roles} }
	depts := []*flows.Department{{ID: "eng", Head: "bob"}, {ID: "ops", Head: "dan"}}

	tests := []struct {
		who                 *flows.User
		see, decide, manage bool
		statsAll            bool
		statsDepts          []string
		statsRefused        bool
	}{
		{who: user("ann"), see: true, statsRefused: true},
		{who: user("bob"), see: true, decide: true, statsDepts: []string{"eng"}},
		{who: user("cat"), see: true, statsRefused: true},
		{who: user("dan"), statsDepts: []string{"ops"}},
		{who: user("eve"), statsRefused: true},
		{who: user("root", flows.RoleAdmin), see: true, manage: true, statsAll: true},
		{who: user("aud", flows.RoleAuditor), see: true, statsAll: true},
		{who: user("fa", flows.RoleFlowAdmin), manage: true, statsRefused: true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.see, flows.CanSee(tt.who, in, tasks, events) == nil, "%s sees", tt.who.ID)
		require.Equal(t, tt.decide, flows.CanDecide(tasks[0], tt.who.ID) == nil, "%s decides", tt.who.ID)
		require.Equal(t, tt.manage, flows.CanManage(tt.who) == nil, "%s manages", tt.who.ID)
		all, ds, err := flows.StatsScope(tt.who, flows.HeadedDepts(tt.who, depts))
		require.Equal(t, tt.statsRefused, err != nil, "%s statistics refused", tt.who.ID)
		if err != nil {
			require.Equal(t, flows.CodeForbidden, flows.ErrorCode(err))
			require.NotEqual(t, "stats_not_allowed", err.(*flows.Error).Message("zh-CN"), "a Chinese text exists")
		}
		require.Equal(t, tt.statsAll, all, "%s sees all statistics", tt.who.ID)
		require.Equal(t, tt.statsDepts, ds, "%s statistics departments", tt.who.ID)
	}
	require.Error(t, flows.CanSee(nil, in, tasks, events))
	require.Error(t, flows.CanManage(nil))
}
