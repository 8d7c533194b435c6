package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/api/tokens"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

const (
	maxPage   = 200
	maxString = 4000 // comments, reasons
)

func (s *Server) table() []route {
	R, W, A := tokens.ScopeRead, tokens.ScopeWrite, tokens.ScopeAdmin
	return []route{
		{"GET", "/api/v1/openapi.json", "", s.openAPI},
		{"GET", "/api/v1/docs", "", s.docs},
		{"GET", "/api/v1/flows", R, s.listFlows},
		{"POST", "/api/v1/flows", A, s.publishFlow},
		{"POST", "/api/v1/flows/validate", R, s.validateFlow},
		{"GET", "/api/v1/flows/{id}", R, s.getFlow},
		{"POST", "/api/v1/flows/{id}/dry-run", R, s.dryRun},
		{"GET", "/api/v1/requests", R, s.listRequests},
		{"POST", "/api/v1/requests", W, s.createRequest},
		{"GET", "/api/v1/requests/{id}", R, s.getRequest},
		{"POST", "/api/v1/requests/{id}/withdraw", W, s.withdraw},
		{"POST", "/api/v1/requests/{id}/comments", W, s.comment},
		{"GET", "/api/v1/tasks", R, s.listTasks},
		{"POST", "/api/v1/tasks/{id}/decide", W, s.decide},
		{"POST", "/api/v1/tasks/{id}/send-back", W, s.sendBack},
		{"POST", "/api/v1/tasks/{id}/transfer", W, s.transfer},
		{"POST", "/api/v1/tasks/{id}/signers", W, s.addSigner},
		{"GET", "/api/v1/users", R, s.listUsers},
		{"GET", "/api/v1/departments", R, s.listDepts},
		{"PUT", "/api/v1/users/{id}", A, s.putUser},
		{"DELETE", "/api/v1/users/{id}", A, s.deleteUser},
		{"PUT", "/api/v1/departments/{id}", A, s.putDept},
		{"GET", "/api/v1/directory/balances", R, s.listBalances},
		{"PUT", "/api/v1/directory/balances", A, s.putBalances},
		{"GET", "/api/v1/stats", R, s.stats},
		{"GET", "/api/v1/export/requests", R, s.exportRequests},
		{"GET", "/api/v1/export/events", R, s.exportEvents},
		{"GET", "/api/v1/admin/outbox", A, s.outbox},
		{"GET", "/api/v1/admin/webhooks/deliveries", A, s.webhookDeliveries},
		{"POST", "/api/v1/admin/webhooks/deliveries/{id}/replay", A, s.replayWebhook},
		{"GET", "/api/v1/admin/webhooks/subscriptions", A, s.listSubscriptions},
		{"POST", "/api/v1/admin/webhooks/subscriptions", A, s.createSubscription},
		{"PATCH", "/api/v1/admin/webhooks/subscriptions/{name}", A, s.updateSubscription},
		{"DELETE", "/api/v1/admin/webhooks/subscriptions/{name}", A, s.deleteSubscription},
	}
}

// decode reads one JSON object into v: unknown fields, wrong types,
// trailing data and oversized bodies are refused.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.As(err, &te):
			return errInvalid("字段 "+te.Field+" 的类型不对，应为 "+te.Type.String()+"。", "Field "+te.Field+" has the wrong type; want "+te.Type.String()+".")
		case errors.Is(err, io.EOF):
			return errInvalid("请求体为空，应为 JSON 对象。", "The body is empty; want a JSON object.")
		}
		return errInvalid("请求体不是合法的 JSON："+err.Error(), "The body is not valid JSON: "+err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errInvalid("JSON 对象后面还有多余内容。", "There is data after the JSON object.")
	}
	return nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errInvalid("路径中的 id 须为正整数。", "The id in the path must be a positive integer.")
	}
	return id, nil
}

func checkText(name, v string) error {
	if len(v) > maxString {
		return errInvalid(name+" 太长（最多 4000 字节）。", name+" is too long (at most 4000 bytes).")
	}
	return nil
}

// --- flows ---

type flowJSON struct {
	ID      string   `json:"id"`
	Version int      `json:"version"`
	Name    any      `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
}

func (s *Server) listFlows(w http.ResponseWriter, r *http.Request, c *caller) error {
	infos, err := s.cfg.Engine.FlowInfos(r.Context())
	if err != nil {
		return err
	}
	out := []flowJSON{}
	for _, fi := range infos {
		if c.tok.AllowsFlow(fi.Def.ID) {
			out = append(out, flowJSON{ID: fi.Def.ID, Version: fi.Version, Name: fi.Def.Name, Aliases: fi.Def.Aliases})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"flows": out})
	return nil
}

// --- requests ---

type createBody struct {
	Flow      string         `json:"flow"`
	Applicant string         `json:"applicant"`
	Values    map[string]any `json:"values"`
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request, c *caller) error {
	var b createBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if !idRe.MatchString(b.Flow) {
		return errInvalid("flow 必填，且须为流程 id。", "flow is required and must be a flow id.")
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 {
		return errInvalid("Idempotency-Key 太长（最多 200 字节）。", "Idempotency-Key is too long (at most 200 bytes).")
	}
	actor := b.Applicant
	switch {
	case c.user != nil && actor != "" && actor != c.user.ID:
		return errActAs
	case c.user != nil:
		actor = c.user.ID
	case actor == "":
		return errInvalid("服务令牌须在 applicant 里给出申请人。", "A service token must name the applicant.")
	}
	if !c.tok.AllowsFlow(b.Flow) {
		return errFlowScope
	}
	out, err := s.cfg.Engine.Submit(r.Context(), flows.SubmitRequest{Actor: actor, FlowID: b.Flow, Values: b.Values, Key: key})
	if err != nil {
		return err
	}
	if !c.tok.AllowsFlow(out.Instance.FlowID) { // an alias of another flow: refused before, never filed
		return errFlowScope
	}
	writeJSON(w, http.StatusCreated, requestOut(out.Instance, out.Tasks, out.Events))
	return nil
}

type requestJSON struct {
	*flows.Instance
	Form   json.RawMessage `json:"form"`
	Tasks  []*flows.Task   `json:"tasks,omitempty"`
	Events []*flows.Event  `json:"events,omitempty"`
	Route  any             `json:"route,omitempty"`
}

func requestOut(in *flows.Instance, ts []*flows.Task, evs []*flows.Event) requestJSON {
	return requestJSON{Instance: in, Form: in.Form, Tasks: ts, Events: evs}
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := parseRequestFilter(r.URL.Query(), maxPage)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("format") {
		return errInvalid("format 只用于导出。", "format is only for exports.")
	}
	if err := s.scopeFilter(c, &f); err != nil {
		return err
	}
	limit := cmpOr(f.Limit, 50)
	f.Limit = limit
	ins, err := s.cfg.Queries.Instances(r.Context(), f.InstanceFilter)
	if err != nil {
		return err
	}
	ins = s.inFlows(c, ins)
	resp := map[string]any{"requests": ins}
	if len(ins) == limit {
		last := ins[len(ins)-1]
		resp["next_cursor"] = encodeCursor(last.CreatedAt, last.ID)
	}
	if ins == nil {
		resp["requests"] = []any{}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// scopeFilter narrows a request listing to what the caller may see: a
// service token sees every request (of its flows); a user sees their own
// unless admin or auditor.
func (s *Server) scopeFilter(c *caller, f *requestFilter) error {
	if fs := c.tok.Flows(); len(fs) == 1 && f.FlowID == "" {
		f.FlowID = fs[0]
	}
	if f.FlowID != "" && !c.tok.AllowsFlow(f.FlowID) {
		return errFlowScope
	}
	if c.service() || c.user.HasRole(flows.RoleAdmin) || c.user.HasRole(flows.RoleAuditor) {
		return nil
	}
	if f.Applicant != "" && f.Applicant != c.user.ID {
		return flows.Errorf(flows.CodeForbidden, "not_participant", nil)
	}
	f.Applicant = c.user.ID
	return nil
}

func (s *Server) inFlows(c *caller, ins []*flows.Instance) []*flows.Instance {
	if c.tok.Flows() == nil {
		return ins
	}
	return slices.DeleteFunc(ins, func(in *flows.Instance) bool { return !c.tok.AllowsFlow(in.FlowID) })
}

// view loads request id and checks the caller may see it.
func (s *Server) view(r *http.Request, c *caller, id int64) (*flows.View, error) {
	v, err := s.cfg.Engine.View(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !c.tok.AllowsFlow(v.Instance.FlowID) {
		return nil, errFlowScope
	}
	if !c.service() {
		if err := flows.CanSee(c.user, v.Instance, v.Tasks, v.Events); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := s.view(r, c, id)
	if err != nil {
		return err
	}
	out := requestOut(v.Instance, v.Tasks, v.Events)
	out.Route = routeOut(v.Route)
	writeJSON(w, http.StatusOK, out)
	return nil
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (s *Server) withdraw(w http.ResponseWriter, r *http.Request, c *caller) error {
	var b reasonBody
	return s.requestText(w, r, c, &b, "reason", &b.Reason, http.StatusOK, s.cfg.Engine.Withdraw)
}

type commentBody struct {
	Text string `json:"text"`
	// ReplyTo answers a comment of this participant: it reaches them even
	// when they no longer hold a task of the request.
	ReplyTo string `json:"reply_to"`
}

func (s *Server) comment(w http.ResponseWriter, r *http.Request, c *caller) error {
	var b commentBody
	return s.requestText(w, r, c, &b, "text", &b.Text, http.StatusCreated, func(ctx context.Context, actor string, id int64, text string) (*flows.Outcome, error) {
		if b.ReplyTo == "" {
			return s.cfg.Engine.Comment(ctx, actor, id, text)
		}
		if !idRe.MatchString(b.ReplyTo) {
			return nil, errInvalid("reply_to 须为用户 id。", "reply_to must be a user id.")
		}
		return s.cfg.Engine.ReplyComment(ctx, actor, id, b.ReplyTo, text)
	})
}

// requestText runs an engine call that takes a request and one text
// (withdraw with its reason, a comment) for a caller who may see the
// request: body is decoded into, field names the text (pointed to by text)
// in errors, and the request is answered with status.
func (s *Server) requestText(w http.ResponseWriter, r *http.Request, c *caller, body any, field string, text *string, status int,
	call func(ctx context.Context, actor string, id int64, text string) (*flows.Outcome, error)) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := decode(r, body); err != nil {
		return err
	}
	if err := checkText(field, *text); err != nil {
		return err
	}
	actor, err := c.actor()
	if err != nil {
		return err
	}
	if _, err := s.view(r, c, id); err != nil {
		return err
	}
	out, err := call(r.Context(), actor, id, *text)
	if err != nil {
		return err
	}
	writeJSON(w, status, requestOut(out.Instance, out.Tasks, out.Events))
	return nil
}

// --- tasks ---

var taskStatuses = map[string]flows.TaskStatus{
	"queued": flows.TaskQueued, "pending": flows.TaskPending, "approved": flows.TaskApproved, "rejected": flows.TaskRejected, "returned": flows.TaskReturned, "sent_back": flows.TaskSentBack,
	"transferred": flows.TaskTransferred, "cancelled": flows.TaskCancelled, "expired": flows.TaskExpired,
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, c *caller) error {
	f := flows.TaskFilter{Status: []flows.TaskStatus{flows.TaskPending}, Limit: 100}
	for k, vs := range r.URL.Query() {
		if len(vs) != 1 {
			return errInvalid("参数 "+k+" 只能出现一次。", "Parameter "+k+" may appear once.")
		}
		v := vs[0]
		switch k {
		case "assignee":
			if !idRe.MatchString(v) {
				return errInvalid("assignee 不是合法的用户 id。", "assignee is not a valid user id.")
			}
			f.Assignee = v
		case "status":
			f.Status = nil
			for _, x := range strings.Split(v, ",") {
				st, ok := taskStatuses[x]
				if !ok {
					return errInvalid("status 不是合法的任务状态。", "status is not a task status.")
				}
				f.Status = append(f.Status, st)
			}
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxPage {
				return errInvalid("limit 须为 1 到 200 的整数。", "limit must be an integer from 1 to 200.")
			}
			f.Limit = n
		default:
			return errInvalid("未知参数 "+k+"。", "Unknown parameter "+k+".")
		}
	}
	switch {
	case c.user != nil && f.Assignee == "":
		f.Assignee = c.user.ID
	case c.user != nil && f.Assignee != c.user.ID && !c.user.HasRole(flows.RoleAdmin) && !c.user.HasRole(flows.RoleAuditor):
		return flows.Errorf(flows.CodeForbidden, "not_participant", nil)
	case c.user == nil && f.Assignee == "":
		return errInvalid("服务令牌须给出 assignee。", "A service token must give assignee.")
	}
	ts, err := s.cfg.Queries.Tasks(r.Context(), f)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []*flows.Task{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": ts})
	return nil
}

// taskInFlows checks a flow-limited token acts on a task of its flows.
func (s *Server) taskInFlows(r *http.Request, c *caller, actor string, id int64) error {
	if c.tok.Flows() == nil {
		return nil
	}
	ts, err := s.cfg.Queries.Tasks(r.Context(), flows.TaskFilter{Assignee: actor, Status: []flows.TaskStatus{flows.TaskPending, flows.TaskQueued}, Limit: 1000})
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == id {
			v, err := s.cfg.Engine.View(r.Context(), t.InstanceID)
			if err != nil {
				return err
			}
			if c.tok.AllowsFlow(v.Instance.FlowID) {
				return nil
			}
		}
	}
	return errFlowScope
}

type decideBody struct {
	// Decision is approve, reject (the step's plain reject: the first
	// outcome of its on_reject), end (reject for good), return (to the
	// applicant) or send_back (to ToStep).
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	ToStep   string `json:"to_step"`
}

// decisions maps a decision to the engine's outcome of a "no".
var decisions = map[string]flowdef.RejectAction{
	"reject": "", "end": flowdef.RejectEnd, "return": flowdef.RejectReturn, "send_back": flowdef.RejectSendBack,
}

// stepRe is a step id.
var stepRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

func (s *Server) decide(w http.ResponseWriter, r *http.Request, c *caller) error {
	var b decideBody
	return s.onTask(w, r, c, &b, http.StatusOK, func() error {
		if _, ok := decisions[b.Decision]; !ok && b.Decision != "approve" {
			return errInvalid("decision 只能是 approve、reject、end、return 或 send_back。", "decision must be approve, reject, end, return or send_back.")
		}
		if b.ToStep != "" && !stepRe.MatchString(b.ToStep) {
			return errInvalid("to_step 须为步骤 id。", "to_step must be a step id.")
		}
		return checkText("comment", b.Comment)
	}, func(ctx context.Context, actor string, id int64) (any, error) {
		req := flows.DecideRequest{Actor: actor, TaskID: id, Approve: b.Decision == "approve", Comment: b.Comment, ToStep: b.ToStep}
		if !req.Approve {
			req.Outcome = decisions[b.Decision]
		}
		out, err := s.cfg.Engine.Decide(ctx, req)
		if err != nil {
			return nil, err
		}
		return map[string]any{"task": out.Task, "request": out.Instance}, nil
	})
}

type sendBackBody struct {
	ToStep string `json:"to_step"`
	Reason string `json:"reason"`
}

// sendBack sends the task's request back to an earlier step it passed.
func (s *Server) sendBack(w http.ResponseWriter, r *http.Request, c *caller) error {
	var b sendBackBody
	return s.onTask(w, r, c, &b, http.StatusOK, func() error {
		if !stepRe.MatchString(b.ToStep) {
			return errInvalid("to_step 必填，且须为步骤 id。", "to_step is required and must be a step id.")
		}
		return checkText("reason", b.Reason)
	}, func(ctx context.Context, actor string, id int64) (any, error) {
		out, err := s.cfg.Engine.SendBack(ctx, actor, id, b.ToStep, b.Reason)
		if err != nil {
			return nil, err
		}
		return map[string]any{"task": out.Task, "request": out.Instance}, nil
	})
}

type transferBody struct {
	To     string `json:"to"`
	Reason string `json:"reason"`
}

func (s *Server) transfer(w http.ResponseWriter, r *http.Request, c *caller) error {
	var b transferBody
	return s.onTask(w, r, c, &b, http.StatusOK, func() error {
		if !idRe.MatchString(b.To) {
			return errInvalid("to 必填，且须为用户 id。", "to is required and must be a user id.")
		}
		return checkText("reason", b.Reason)
	}, func(ctx context.Context, actor string, id int64) (any, error) {
		out, err := s.cfg.Engine.Transfer(ctx, actor, id, b.To, b.Reason)
		if err != nil {
			return nil, err
		}
		return map[string]any{"task": out.Task, "request": out.Instance}, nil
	})
}

type signerBody struct {
	User     string `json:"user"`
	Position string `json:"position"` // before | after | alongside
	Note     string `json:"note"`
}

func (s *Server) addSigner(w http.ResponseWriter, r *http.Request, c *caller) error {
	var b signerBody
	return s.onTask(w, r, c, &b, http.StatusCreated, func() error {
		if !idRe.MatchString(b.User) {
			return errInvalid("user 必填，且须为用户 id。", "user is required and must be a user id.")
		}
		return checkText("note", b.Note)
	}, func(ctx context.Context, actor string, id int64) (any, error) {
		out, err := s.cfg.Engine.AddSigner(ctx, actor, id, b.User, flows.SignerPosition(b.Position), b.Note)
		if err != nil {
			return nil, err
		}
		return map[string]any{"task": out.Task, "request": out.Instance, "tasks": out.Tasks}, nil
	})
}

// onTask runs an action on the task in the path for the caller: the body
// is decoded into body and checked by check, the caller's actor must be
// allowed the task's flow, and call's result is written with status.
func (s *Server) onTask(w http.ResponseWriter, r *http.Request, c *caller, body any, status int,
	check func() error, call func(ctx context.Context, actor string, id int64) (any, error)) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := decode(r, body); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	actor, err := c.actor()
	if err != nil {
		return err
	}
	if err := s.taskInFlows(r, c, actor, id); err != nil {
		return err
	}
	out, err := call(r.Context(), actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

// --- directory ---

func noParams(r *http.Request) error {
	if len(r.URL.Query()) > 0 {
		return errInvalid("这个接口不接受参数。", "This endpoint takes no parameters.")
	}
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := noParams(r); err != nil {
		return err
	}
	us, err := s.cfg.Queries.Users(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": orEmpty(us)})
	return nil
}

func (s *Server) listDepts(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := noParams(r); err != nil {
		return err
	}
	ds, err := s.cfg.Queries.Departments(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"departments": orEmpty(ds)})
	return nil
}

func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// --- statistics ---

func (s *Server) stats(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := flowstats.Query{Now: s.cfg.Engine.Now()}
	for k, vs := range r.URL.Query() {
		if len(vs) != 1 {
			return errInvalid("参数 "+k+" 只能出现一次。", "Parameter "+k+" may appear once.")
		}
		switch k {
		case "since", "until":
			t, err := time.Parse(time.RFC3339, vs[0])
			if err != nil {
				return errInvalid(k+" 须为 RFC 3339 时间。", k+" must be an RFC 3339 time.")
			}
			if k == "since" {
				q.Since = t
			} else {
				q.Until = t
			}
		case "flow":
			if !idRe.MatchString(vs[0]) {
				return errInvalid("flow 不是合法的流程 id。", "flow is not a valid flow id.")
			}
			q.FlowID = vs[0]
		default:
			return errInvalid("未知参数 "+k+"。", "Unknown parameter "+k+".")
		}
	}
	if fs := c.tok.Flows(); fs != nil {
		if q.FlowID == "" && len(fs) == 1 {
			q.FlowID = fs[0]
		}
		if !c.tok.AllowsFlow(q.FlowID) {
			return errFlowScope
		}
	}
	if !c.service() {
		ds, err := s.cfg.Queries.Departments(r.Context())
		if err != nil {
			return err
		}
		all, heads, err := flows.StatsScope(c.user, flows.HeadedDepts(c.user, ds))
		if err != nil {
			return err
		}
		if !all {
			q.Depts = flowstats.ExpandDepts(ds, heads)
		}
	}
	rep, err := s.cfg.Stats(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// --- admin ---

func (s *Server) outbox(w http.ResponseWriter, r *http.Request, c *caller) error {
	status := flows.OutboxFailed
	limit := 100
	for k, vs := range r.URL.Query() {
		switch k {
		case "status":
			status = flows.OutboxStatus(vs[0])
			if status != flows.OutboxFailed && status != flows.OutboxPending && status != flows.OutboxDelivered {
				return errInvalid("status 只能是 failed、pending 或 delivered。", "status must be failed, pending or delivered.")
			}
		case "limit":
			n, err := strconv.Atoi(vs[0])
			if err != nil || n < 1 || n > 1000 {
				return errInvalid("limit 须为 1 到 1000 的整数。", "limit must be an integer from 1 to 1000.")
			}
			limit = n
		default:
			return errInvalid("未知参数 "+k+"。", "Unknown parameter "+k+".")
		}
	}
	if c.user != nil {
		if err := flows.CanManage(c.user); err != nil {
			return err
		}
	}
	msgs, err := s.cfg.Queries.Outbox(r.Context(), status, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": status, "messages": orEmpty(msgs)})
	return nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// routeStepJSON is a flows.RouteStep in the API's snake_case.
type routeStepJSON struct {
	StepID    string   `json:"step_id"`
	Name      any      `json:"name"`
	Kind      string   `json:"kind"`
	Mode      string   `json:"mode,omitempty"`
	Approvers []string `json:"approvers"`
	Status    string   `json:"status"`
}

func routeOut(rs []flows.RouteStep) []routeStepJSON {
	out := make([]routeStepJSON, len(rs))
	for i, s := range rs {
		out[i] = routeStepJSON{StepID: s.StepID, Name: s.Name, Kind: string(s.Kind), Mode: string(s.Mode), Approvers: orEmpty(s.Approvers), Status: s.Status}
	}
	return out
}
