package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/signin/oidctest"
)

// TestRightsByRoleEveryEntryPoint: each role against each action, through
// every entry point that offers the action: chat (a bots.Event, as every IM
// adapter hands it to the bot), the signed-in web playground, the REST API
// with the user's own token, and the dashboard. The same rules
// (flows/rights.go) must give the same answer everywhere. hanmeimei (eng)
// files an expense claim that lilei (her manager, head of eng) must
// approve; zhoufang is made an auditor; zhaomin heads sales.
func TestRightsByRoleEveryEntryPoint(t *testing.T) {
	t.Parallel()
	s := startSignedIn(t)
	ctx := context.Background()
	users, depts := testkit.ExampleOrg(t)
	for _, u := range users {
		if u.ID == "zhoufang" {
			u.Roles = append(u.Roles, flows.RoleAuditor)
		}
	}
	require.NoError(t, s.app.store.ReplaceDirectory(ctx, users, depts))

	roles := map[string]string{
		"applicant": "hanmeimei", "assignee": "lilei", "employee": "zhangwei",
		"admin": "wangzong", "auditor": "zhoufang", "head of sales": "zhaomin",
	}
	web := map[string]*browser{}
	tok := map[string]string{}
	for role, id := range roles {
		u, err := s.app.store.User(ctx, id)
		require.NoError(t, err)
		s.idp.AddAccount(oidctest.Account{Subject: "sub-" + id, Email: u.Email, EmailVerified: true, Name: u.Name})
		web[role] = s.signIn(t, "sub-"+id)
		tk, secret, err := tokens.New(tokens.NewParams{Name: "rbac " + id, Scopes: []string{tokens.ScopeWrite}, User: id, Now: s.app.clock.Now()})
		require.NoError(t, err)
		require.NoError(t, s.app.store.(interface{ Tokens() tokens.Store }).Tokens().CreateToken(ctx, tk))
		tok[role] = secret
	}

	// file returns a new request and lilei's task on it.
	file := func() (inst, task int64) {
		out, err := s.app.engine.Submit(ctx, flows.SubmitRequest{Actor: roles["applicant"], FlowID: "expense", Values: map[string]any{
			"amount": 100, "category": "travel", "description": "taxi"}})
		require.NoError(t, err)
		for _, tk := range out.Tasks {
			if tk.Assignee == roles["assignee"] {
				return out.Instance.ID, tk.ID
			}
		}
		t.Fatal("no task for lilei")
		return 0, 0
	}
	taskDecided := func(inst, task int64) bool {
		ts, err := s.app.store.Tasks(ctx, flows.TaskFilter{InstanceID: inst})
		require.NoError(t, err)
		for _, tk := range ts {
			if tk.ID == task {
				return tk.Status != flows.TaskPending
			}
		}
		t.Fatalf("task %d gone", task)
		return false
	}
	withdrawn := func(inst int64) bool {
		v, err := s.app.engine.View(ctx, inst)
		require.NoError(t, err)
		return v.Instance.Status == flows.StatusWithdrawn
	}
	var seq atomic.Int64
	webID := func(role string) string {
		u, err := s.app.store.User(ctx, roles[role])
		require.NoError(t, err)
		return webID(u)
	}
	value := func(inst, task int64) map[string]string {
		return map[string]string{"instance": strconv.FormatInt(inst, 10), "task": strconv.FormatInt(task, 10)}
	}
	// confirmed is the value of the confirm card's "Yes, withdraw it":
	// the card's Withdraw button itself only asks.
	confirmed := func(inst, task int64) map[string]string {
		v := value(inst, task)
		v["confirm"] = "yes"
		return v
	}
	// chat hands one event to the bot, as an IM adapter does.
	chat := func(role, action, text string, val map[string]string) bots.Reply {
		ev := bots.Event{Platform: "web", ID: fmt.Sprintf("rbac-%d", seq.Add(1)), UserID: webID(role), ChatID: webID(role), ChatType: "p2p",
			Text: text, At: s.app.clock.Now()}
		if action != "" {
			ev.Action = &bots.Action{Name: action, Value: val}
		}
		rep, err := s.app.bot.Handle(ctx, ev)
		require.NoError(t, err)
		return rep
	}
	type webReply struct {
		Messages []struct {
			Text string          `json:"text"`
			Card json.RawMessage `json:"card"`
		} `json:"messages"`
		Toast string `json:"toast"`
	}
	// click and say go through the signed-in playground.
	click := func(role, action string, val map[string]string) webReply {
		code, body := web[role].post(s.base+"/ui/api/action", map[string]any{"id": fmt.Sprintf("rbac-web-%d", seq.Add(1)), "action": action, "value": val}, web[role].csrf)
		require.Equal(t, http.StatusOK, code, body)
		var r webReply
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		return r
	}
	say := func(role, text string) string {
		code, body := web[role].post(s.base+"/ui/api/send", map[string]any{"id": fmt.Sprintf("rbac-web-%d", seq.Add(1)), "text": text}, web[role].csrf)
		require.Equal(t, http.StatusOK, code, body)
		return body
	}
	apiCall := func(role, method, path string, body any) int {
		var b string
		if body != nil {
			js, _ := json.Marshal(body)
			b = string(js)
		}
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok[role])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	refusedStats := func(text string) bool {
		for _, loc := range []string{"zh-CN", "en"} {
			if strings.Contains(text, bots.T(loc, "stats_forbidden", nil)) {
				return true
			}
		}
		return false
	}
	replyText := func(r bots.Reply) string {
		var sb strings.Builder
		sb.WriteString(r.Toast)
		for _, m := range r.Messages {
			sb.WriteString(m.Text)
			if m.Card != nil {
				js, _ := json.Marshal(m.Card)
				sb.Write(js)
			}
		}
		return sb.String()
	}

	// Each entry point answers "was it allowed?".
	type entry func(role string) bool
	actions := map[string]map[string]entry{
		"decide": {
			"chat": func(role string) bool {
				i, tk := file()
				chat(role, "approve", "", value(i, tk))
				return taskDecided(i, tk)
			},
			"web": func(role string) bool {
				i, tk := file()
				click(role, "approve", value(i, tk))
				return taskDecided(i, tk)
			},
			"api": func(role string) bool {
				i, tk := file()
				apiCall(role, "POST", fmt.Sprintf("/api/v1/tasks/%d/decide", tk), map[string]any{"decision": "approve"})
				return taskDecided(i, tk)
			},
		},
		"withdraw": {
			"chat": func(role string) bool {
				i, tk := file()
				chat(role, "withdraw", "", confirmed(i, tk))
				return withdrawn(i)
			},
			"web": func(role string) bool {
				i, tk := file()
				click(role, "withdraw", confirmed(i, tk))
				return withdrawn(i)
			},
			"api": func(role string) bool {
				i, _ := file()
				apiCall(role, "POST", fmt.Sprintf("/api/v1/requests/%d/withdraw", i), map[string]any{"reason": "changed plans"})
				return withdrawn(i)
			},
		},
		"see request": {
			"chat": func(role string) bool {
				i, tk := file()
				r := chat(role, "view", "", value(i, tk))
				return r.ToastKind != bots.ToastWarning && (r.Card != nil || len(r.Messages) > 0)
			},
			"web": func(role string) bool {
				i, tk := file()
				r := click(role, "view", value(i, tk))
				return len(r.Messages) > 0 && len(r.Messages[0].Card) > 0
			},
			"api": func(role string) bool {
				i, _ := file()
				return apiCall(role, "GET", fmt.Sprintf("/api/v1/requests/%d", i), nil) == http.StatusOK
			},
		},
		"statistics": {
			"chat": func(role string) bool { return !refusedStats(replyText(chat(role, "", "/stats", nil))) },
			"web":  func(role string) bool { return !refusedStats(say(role, "/stats")) },
			"api":  func(role string) bool { return apiCall(role, "GET", "/api/v1/stats", nil) == http.StatusOK },
			"dashboard": func(role string) bool {
				code, _ := web[role].get(s.base+"/ui/dashboard/?lang=en", "text/html")
				return code == http.StatusOK
			},
		},
	}
	const Y, N = true, false
	want := map[string]map[string]bool{
		//               applicant assignee employee admin auditor head of sales
		"see request": {"applicant": Y, "assignee": Y, "employee": N, "admin": Y, "auditor": Y, "head of sales": N},
		"decide":      {"applicant": N, "assignee": Y, "employee": N, "admin": N, "auditor": N, "head of sales": N},
		"withdraw":    {"applicant": Y, "assignee": N, "employee": N, "admin": N, "auditor": N, "head of sales": N},
		"statistics":  {"applicant": N, "assignee": Y, "employee": N, "admin": Y, "auditor": Y, "head of sales": Y},
	}
	// Give every department figures, so that a head's dashboard has
	// something to show for their own.
	_, err := s.app.engine.Submit(ctx, flows.SubmitRequest{Actor: "liuyang", FlowID: "expense", Values: map[string]any{"amount": 100, "category": "travel", "description": "taxi"}})
	require.NoError(t, err)
	file()
	for action, entries := range actions {
		for via, allowed := range entries {
			for role := range roles {
				require.Equal(t, want[action][role], allowed(role), "%s through %s by %s (%s)", action, via, role, roles[role])
			}
		}
	}
}
