package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Every bad call is refused with the right status and error body, and
// changes nothing.
func TestBadCallsChangeNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	svc := b.token(t, "", 0, "write")
	r := b.do(t, "POST", "/api/v1/requests", svc, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(2)})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	reqID := int64(r.json(t)["id"].(float64))
	ts, err := b.store.Tasks(ctx, flows.TaskFilter{Assignee: "lilei"})
	require.NoError(t, err)
	require.Len(t, ts, 1)
	task := fmt.Sprintf("/api/v1/tasks/%d/decide", ts[0].ID)
	approve := map[string]any{"decision": "approve"}
	sendBack := fmt.Sprintf("/api/v1/tasks/%d/send-back", ts[0].ID)

	reader := b.token(t, "", 0, "read")
	expenseOnly := b.token(t, "", 0, "write", "flow:expense")
	hanmeimei := b.token(t, "hanmeimei", 0, "write") // the applicant, not the approver
	zhangwei := b.token(t, "zhangwei", 0, "write")   // neither
	revoked := b.token(t, "lilei", 0, "write")
	tok, err := b.store.Tokens().Tokens(ctx)
	require.NoError(t, err)
	for _, x := range tok {
		if x.Name == "test lilei" {
			require.NoError(t, b.store.Tokens().RevokeToken(ctx, x.ID, b.clock.Now()))
		}
	}
	expired := b.token(t, "lilei", time.Minute, "write")
	b.clock.Add(2 * time.Minute)
	huge := strings.Repeat("x", 10000)
	sqlish := "' OR 1=1; DROP TABLE instances; --"

	tests := []struct {
		name, method, path, secret string
		body                       any
		hdr                        []string
		status                     int
		code                       string
	}{
		{"no token", "POST", task, "", approve, nil, 401, "unauthorized"},
		{"not bearer", "POST", task, "", approve, []string{"Authorization", "Basic Zm9vOmJhcg=="}, 401, "unauthorized"},
		{"unknown token", "POST", task, "fbt_forged", approve, nil, 401, "unauthorized"},
		{"huge token", "POST", task, huge, approve, nil, 401, "unauthorized"},
		{"revoked", "POST", task, revoked, approve, nil, 401, "unauthorized"},
		{"expired", "POST", task, expired, approve, nil, 401, "unauthorized"},
		{"read scope writes", "POST", "/api/v1/requests", reader, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(1)}, nil, 403, "forbidden"},
		{"read scope admin", "GET", "/api/v1/admin/outbox", reader, nil, nil, 403, "forbidden"},
		{"other flow scope files", "POST", "/api/v1/requests", expenseOnly, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(1)}, nil, 403, "forbidden"},
		{"other flow scope reads", "GET", fmt.Sprintf("/api/v1/requests/%d", reqID), expenseOnly, nil, nil, 403, "forbidden"},
		{"other flow scope lists", "GET", "/api/v1/requests?flow=leave", expenseOnly, nil, nil, 403, "forbidden"},
		{"A decides B's task", "POST", task, hanmeimei, approve, nil, 403, "forbidden"},
		{"user token acts for another", "POST", task, hanmeimei, approve, []string{"X-On-Behalf-Of", "lilei"}, 403, "forbidden"},
		{"user token files for another", "POST", "/api/v1/requests", zhangwei, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": leave(1)}, nil, 403, "forbidden"},
		{"stranger reads request", "GET", fmt.Sprintf("/api/v1/requests/%d", reqID), zhangwei, nil, nil, 403, "forbidden"},
		{"stranger withdraws", "POST", fmt.Sprintf("/api/v1/requests/%d/withdraw", reqID), zhangwei, map[string]any{}, nil, 403, "forbidden"},
		{"stranger lists another's requests", "GET", "/api/v1/requests?applicant=hanmeimei", zhangwei, nil, nil, 403, "forbidden"},
		{"stranger lists another's tasks", "GET", "/api/v1/tasks?assignee=lilei", zhangwei, nil, nil, 403, "forbidden"},
		{"employee sees statistics", "GET", "/api/v1/stats", zhangwei, nil, nil, 403, "forbidden"},
		{"employee exports audit trail", "GET", "/api/v1/export/events", zhangwei, nil, nil, 403, "forbidden"},
		{"on behalf of unknown user", "POST", task, svc, approve, []string{"X-On-Behalf-Of", "nobody"}, 403, "forbidden"},
		{"service token without actor", "POST", task, svc, approve, nil, 400, "invalid"},
		{"unknown task", "POST", "/api/v1/tasks/999999/decide", svc, approve, []string{"X-On-Behalf-Of", "lilei"}, 404, "not_found"},
		{"unknown request", "GET", "/api/v1/requests/999999", svc, nil, nil, 404, "not_found"},
		{"path id not a number", "POST", "/api/v1/tasks/1%20OR%201/decide", svc, approve, nil, 400, "invalid"},
		{"path id negative", "GET", "/api/v1/requests/-1", svc, nil, nil, 400, "invalid"},
		{"bad cursor", "GET", "/api/v1/requests?cursor=bm90LWEtY3Vyc29y", svc, nil, nil, 400, "invalid"},
		{"cursor not base64", "GET", "/api/v1/requests?cursor=%27%22%3B", svc, nil, nil, 400, "invalid"},
		{"huge cursor", "GET", "/api/v1/requests?cursor=" + huge, svc, nil, nil, 400, "invalid"},
		{"limit too big", "GET", "/api/v1/requests?limit=99999999999999999999", svc, nil, nil, 400, "invalid"},
		{"limit negative", "GET", "/api/v1/requests?limit=-1", svc, nil, nil, 400, "invalid"},
		{"unknown parameter", "GET", "/api/v1/requests?sort=id", svc, nil, nil, 400, "invalid"},
		{"repeated parameter", "GET", "/api/v1/requests?flow=leave&flow=expense", svc, nil, nil, 400, "invalid"},
		{"since not a time", "GET", "/api/v1/requests?since=yesterday", svc, nil, nil, 400, "invalid"},
		{"oversized body", "POST", "/api/v1/requests", svc, `{"flow":"leave","applicant":"hanmeimei","values":{"reason":"` + strings.Repeat("x", 2<<20) + `"}}`, nil, 413, "too_large"},
		{"not JSON", "POST", "/api/v1/requests", svc, "flow=leave", nil, 400, "invalid"},
		{"empty body", "POST", task, svc, "", []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"trailing data", "POST", task, svc, `{"decision":"approve"} {"decision":"reject"}`, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"unknown field", "POST", task, svc, `{"decision":"approve","actor":"lilei"}`, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"decision wrong type", "POST", task, svc, `{"decision":true}`, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"decision unknown", "POST", task, svc, `{"decision":"maybe"}`, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"values wrong type", "POST", "/api/v1/requests", svc, `{"flow":"leave","applicant":"hanmeimei","values":"days=3"}`, nil, 400, "invalid"},
		{"flow wrong type", "POST", "/api/v1/requests", svc, `{"flow":7,"applicant":"hanmeimei"}`, nil, 400, "invalid"},
		{"form field wrong type", "POST", "/api/v1/requests", svc, map[string]any{"flow": "leave", "applicant": "hanmeimei", "values": map[string]any{"type": []int{1}, "period": 3}}, nil, 400, "invalid"},
		{"huge comment", "POST", task, svc, map[string]any{"decision": "reject", "comment": huge}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"reject without reason", "POST", task, svc, map[string]any{"decision": "reject"}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"decision send_back on a step without it", "POST", task, svc, map[string]any{"decision": "send_back", "comment": "x", "to_step": "manager"}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"decision return on a step without it", "POST", task, svc, map[string]any{"decision": "return", "comment": "x"}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"approve with to_step", "POST", task, svc, map[string]any{"decision": "approve", "to_step": "manager"}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"to_step SQL", "POST", task, svc, map[string]any{"decision": "send_back", "comment": "x", "to_step": sqlish}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"send-back no token", "POST", sendBack, "", map[string]any{"to_step": "manager", "reason": "x"}, nil, 401, "unauthorized"},
		{"send-back read scope", "POST", sendBack, reader, map[string]any{"to_step": "manager", "reason": "x"}, []string{"X-On-Behalf-Of", "lilei"}, 403, "forbidden"},
		{"send-back by the applicant", "POST", sendBack, hanmeimei, map[string]any{"to_step": "manager", "reason": "x"}, nil, 403, "forbidden"},
		{"send-back by a stranger", "POST", sendBack, zhangwei, map[string]any{"to_step": "manager", "reason": "x"}, nil, 403, "forbidden"},
		{"send-back other flow scope", "POST", sendBack, expenseOnly, map[string]any{"to_step": "manager", "reason": "x"}, []string{"X-On-Behalf-Of", "lilei"}, 403, "forbidden"},
		{"send-back unknown task", "POST", "/api/v1/tasks/999999/send-back", svc, map[string]any{"to_step": "manager", "reason": "x"}, []string{"X-On-Behalf-Of", "lilei"}, 404, "not_found"},
		{"send-back without step", "POST", sendBack, svc, map[string]any{"reason": "x"}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"send-back step SQL", "POST", sendBack, svc, map[string]any{"to_step": sqlish, "reason": "x"}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"send-back huge step", "POST", sendBack, svc, map[string]any{"to_step": huge, "reason": "x"}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"send-back huge reason", "POST", sendBack, svc, map[string]any{"to_step": "manager", "reason": huge}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"send-back unknown field", "POST", sendBack, svc, `{"to_step":"manager","reason":"x","actor":"lilei"}`, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"send-back wrong type", "POST", sendBack, svc, `{"to_step":1,"reason":"x"}`, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"send-back not offered by the step", "POST", sendBack, svc, map[string]any{"to_step": "manager", "reason": "x"}, []string{"X-On-Behalf-Of", "lilei"}, 400, "invalid"},
		{"unknown applicant", "POST", "/api/v1/requests", svc, map[string]any{"flow": "leave", "applicant": "ghost", "values": leave(1)}, nil, 404, "not_found"},
		{"unknown flow", "POST", "/api/v1/requests", svc, map[string]any{"flow": "nope", "applicant": "hanmeimei", "values": leave(1)}, nil, 404, "not_found"},
	}
	for _, f := range []string{"flow", "applicant", "status", "since", "limit", "cursor"} {
		for _, v := range []string{sqlish, huge, "%00", "\x00"} {
			tests = append(tests, struct {
				name, method, path, secret string
				body                       any
				hdr                        []string
				status                     int
				code                       string
			}{"filter " + f + " " + v[:min(len(v), 8)], "GET", "/api/v1/requests?" + f + "=" + url.QueryEscape(v), svc, nil, nil, 400, "invalid"})
		}
		tests = append(tests, struct {
			name, method, path, secret string
			body                       any
			hdr                        []string
			status                     int
			code                       string
		}{"export filter " + f, "GET", "/api/v1/export/requests?" + f + "=" + url.QueryEscape(sqlish), svc, nil, nil, 400, "invalid"})
	}
	for _, f := range []string{"assignee", "status", "limit"} {
		tests = append(tests, struct {
			name, method, path, secret string
			body                       any
			hdr                        []string
			status                     int
			code                       string
		}{"task filter " + f, "GET", "/api/v1/tasks?" + f + "=" + url.QueryEscape(sqlish), svc, nil, nil, 400, "invalid"})
	}

	before := b.counts(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, tt.method, tt.path, tt.secret, tt.body, tt.hdr...)
			require.Equal(t, tt.status, r.Code, "got %d, want %d: %s", r.Code, tt.status, r.Body)
			require.Equal(t, tt.code, r.errCode(t))
			require.Equal(t, before, b.counts(t), "state changed")
		})
	}
	// The task is still open and the right approver can still decide it.
	r = b.do(t, "POST", task, svc, approve, "X-On-Behalf-Of", "lilei")
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
}
