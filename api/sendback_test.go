package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// expenseAtFinance files a ¥6,000 claim of hanmeimei and has her manager
// approve it; it returns the pending finance task id of sunli.
func expenseAtFinance(t *testing.T, b *testBundle, svc string) (reqID, taskID int64) {
	t.Helper()
	r := b.do(t, "POST", "/api/v1/requests", svc, map[string]any{"flow": "expense", "applicant": "hanmeimei",
		"values": map[string]any{"amount": "6000", "category": "travel", "description": "flights"}})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	reqID = int64(r.json(t)["id"].(float64))
	task := func(user string) int64 {
		r := b.do(t, "GET", "/api/v1/tasks?assignee="+user, svc, nil)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		ts := r.json(t)["tasks"].([]any)
		require.Len(t, ts, 1, user)
		return int64(ts[0].(map[string]any)["id"].(float64))
	}
	r = b.do(t, "POST", fmt.Sprintf("/api/v1/tasks/%d/decide", task("lilei")), svc, map[string]any{"decision": "approve"}, "X-On-Behalf-Of", "lilei")
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	return reqID, task("sunli")
}

// The approver's choices through the API: each decision does what it
// names, and the send-back endpoint starts the earlier step again.
func TestDecideOutcomesAndSendBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path string
		body       map[string]any
		status     string // the request's
		step       string
		task       string
	}{
		{"end", "decide", map[string]any{"decision": "end", "comment": "not allowed"}, "rejected", "finance", "rejected"},
		{"reject is the step's plain reject", "decide", map[string]any{"decision": "reject", "comment": "not allowed"}, "rejected", "finance", "rejected"},
		{"return", "decide", map[string]any{"decision": "return", "comment": "receipt missing"}, "returned", "finance", "returned"},
		{"decide send_back", "decide", map[string]any{"decision": "send_back", "to_step": "manager", "comment": "manager must confirm"}, "pending", "manager", "sent_back"},
		{"send-back endpoint", "send-back", map[string]any{"to_step": "manager", "reason": "manager must confirm"}, "pending", "manager", "sent_back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			svc := b.token(t, "", 0, "write", "read")
			reqID, taskID := expenseAtFinance(t, b, svc)
			r := b.do(t, "POST", fmt.Sprintf("/api/v1/tasks/%d/%s", taskID, tc.path), svc, tc.body, "X-On-Behalf-Of", "sunli")
			require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
			out := r.json(t)
			require.Equal(t, tc.status, out["request"].(map[string]any)["status"])
			require.Equal(t, tc.step, out["request"].(map[string]any)["step_id"])
			require.Equal(t, tc.task, out["task"].(map[string]any)["status"])

			r = b.do(t, "GET", fmt.Sprintf("/api/v1/requests/%d", reqID), svc, nil)
			require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
			var types []string
			for _, e := range r.json(t)["events"].([]any) {
				types = append(types, e.(map[string]any)["type"].(string))
			}
			if tc.task == "sent_back" {
				require.Contains(t, types, "sent_back", "the audit trail records it")
				r = b.do(t, "GET", "/api/v1/tasks?assignee=lilei", svc, nil)
				require.Len(t, r.json(t)["tasks"], 1, "the manager decides again")
				r = b.do(t, "GET", "/api/v1/tasks?assignee=sunli&status=sent_back", svc, nil)
				require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
				require.Len(t, r.json(t)["tasks"], 1, "the task filter knows sent_back")
			}
			// A second click is refused and changes nothing.
			before := b.counts(t)
			r = b.do(t, "POST", fmt.Sprintf("/api/v1/tasks/%d/send-back", taskID), svc, map[string]any{"to_step": "manager", "reason": "again"}, "X-On-Behalf-Of", "sunli")
			require.Equal(t, http.StatusConflict, r.Code, "%s", r.Body)
			require.Equal(t, before, b.counts(t))
		})
	}
}

// A send-back to a step the request has not passed is refused with the
// reason, and changes nothing.
func TestSendBackToUnpassedStepRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.token(t, "", 0, "write", "read")
	_, taskID := expenseAtFinance(t, b, svc)
	before := b.counts(t)
	for _, step := range []string{"finance", "cfo", "nope"} {
		r := b.do(t, "POST", fmt.Sprintf("/api/v1/tasks/%d/send-back", taskID), svc, map[string]any{"to_step": step, "reason": "x"}, "X-On-Behalf-Of", "sunli")
		require.Equal(t, http.StatusBadRequest, r.Code, "%s: %s", step, r.Body)
		require.Equal(t, "invalid", r.errCode(t))
		require.Contains(t, string(r.Body), "has not passed that step", step)
	}
	require.Equal(t, before, b.counts(t))
}

// A reply to a comment through the API reaches the commenter and is in the
// audit trail; bad replies are refused and change nothing.
func TestReplyToCommentAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.token(t, "", 0, "write", "read")
	reqID, _ := expenseAtFinance(t, b, svc)
	path := fmt.Sprintf("/api/v1/requests/%d/comments", reqID)
	r := b.do(t, "POST", path, svc, map[string]any{"text": "which client?"}, "X-On-Behalf-Of", "lilei")
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)

	before := b.counts(t)
	for _, tc := range []struct {
		name string
		body any
		as   string
	}{
		{"to myself", map[string]any{"text": "x", "reply_to": "hanmeimei"}, "hanmeimei"},
		{"to an outsider", map[string]any{"text": "x", "reply_to": "zhangwei"}, "hanmeimei"},
		{"to SQL", map[string]any{"text": "x", "reply_to": "' OR 1=1 --"}, "hanmeimei"},
		{"empty text", map[string]any{"text": " ", "reply_to": "lilei"}, "hanmeimei"},
		{"wrong type", `{"text":"x","reply_to":7}`, "hanmeimei"},
	} {
		r := b.do(t, "POST", path, svc, tc.body, "X-On-Behalf-Of", tc.as)
		require.Equal(t, http.StatusBadRequest, r.Code, "%s: %s", tc.name, r.Body)
		require.Equal(t, "invalid", r.errCode(t), tc.name)
	}
	r = b.do(t, "POST", path, svc, map[string]any{"text": "x", "reply_to": "lilei"}, "X-On-Behalf-Of", "zhangwei")
	require.Equal(t, http.StatusForbidden, r.Code, "an outsider replies: %s", r.Body)
	require.Equal(t, before, b.counts(t), "refused replies change nothing")

	r = b.do(t, "POST", path, svc, map[string]any{"text": "ACME, Shanghai", "reply_to": "lilei"}, "X-On-Behalf-Of", "hanmeimei")
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	found := false
	for _, e := range r.json(t)["events"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == "commented" {
			if d, ok := ev["data"].(map[string]any); ok && d["reply_to"] == "lilei" {
				found = true
			}
		}
	}
	require.True(t, found, "the audit trail says whom the reply answers: %s", r.Body)
}
