package flows_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// setupExamples runs the example flows over the example company.
func setupExamples(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	testkit.LoadExampleOrg(t, ctx, db)
	b := &bundle{ctx: ctx, store: db, clock: testkit.NewClock(t0)}
	b.engine = flows.New(flows.Config{Store: db, Clock: b.clock})
	require.Len(t, testkit.PublishExampleFlows(t, ctx, b.engine), 5, "leave, leave_cancel, expense, purchase, onboarding")
	return b
}

// approveAll approves every pending task step by step and returns the
// approvers of each step in order, and the final outcome.
func approveAll(t *testing.T, b *bundle, out *flows.Outcome) ([][]string, *flows.Outcome) {
	t.Helper()
	var got [][]string
	for range 10 {
		p := pending(out)
		if len(p) == 0 {
			break
		}
		got = append(got, keys(p))
		for _, id := range keys(p) {
			o, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: id, TaskID: p[id].ID, Approve: true})
			if flows.ErrorCode(err) == flows.CodeConflict {
				continue // an any-step: the first approval decided it
			}
			require.NoError(t, err)
			out = o
		}
	}
	return got, out
}

func TestExampleFlowRouting(t *testing.T) {
	t.Parallel()
	b := setupExamples(t)
	period := func(from, to string) map[string]any { return map[string]any{"from": from, "to": to} }
	tests := []struct {
		name      string
		applicant string
		flow      string
		vals      map[string]any
		want      [][]string
		status    flows.Status
		atStep    string // the step it waits on, when not closed
	}{
		{"leave 2 days: manager", "hanmeimei", "请假", map[string]any{"type": "annual", "period": period("2026-12-01", "2026-12-02"), "reason": "家事"},
			[][]string{{"lilei"}}, flows.StatusApproved, ""},
		{"leave 5 days: manager then HR", "hanmeimei", "leave", map[string]any{"type": "annual", "period": period("2026-12-01", "2026-12-05")},
			[][]string{{"lilei"}, {"chenjing"}}, flows.StatusApproved, ""},
		{"leave of the HR head: her manager; she is not her own HR approver", "chenjing", "leave", map[string]any{"type": "sick", "period": period("2026-12-01", "2026-12-10")},
			[][]string{{"wangzong"}}, flows.StatusApproved, ""},
		{"leave of the CEO: nobody above, approved", "wangzong", "leave", map[string]any{"type": "personal", "period": period("2026-12-01", "2026-12-01")},
			nil, flows.StatusApproved, ""},
		{"expense 800: manager", "liuyang", "报销", map[string]any{"amount": "800", "category": "travel", "description": "客户拜访"},
			[][]string{{"zhaomin"}}, flows.StatusApproved, ""},
		{"expense 8,000: manager, then finance (any)", "liuyang", "expense", map[string]any{"amount": "8000", "category": "travel", "description": "展会"},
			[][]string{{"zhaomin"}, {"sunli", "zhoufang"}}, flows.StatusApproved, ""},
		{"expense 80,000: manager, finance, CFO", "emily", "expense", map[string]any{"amount": "¥80,000.00", "category": "travel", "description": "trade fair"},
			[][]string{{"zhaomin"}, {"sunli", "zhoufang"}, {"sunli"}}, flows.StatusApproved, ""},
		{"purchase: department head, then the ERP call", "zhangwei", "采购", map[string]any{"item": "显示器", "quantity": 2, "amount": "3000", "vendor": "京东"},
			[][]string{{"lilei"}}, flows.StatusPending, "erp"},
		{"purchase by a department head: the head above", "lilei", "purchase", map[string]any{"item": "laptop", "amount": "9000"},
			[][]string{{"wangzong"}}, flows.StatusPending, "erp"},
		{"onboarding: IT, HR and office together", "chenjing", "onboarding", map[string]any{"new_hire": "新同事", "start_date": "2026-12-07", "department": "eng", "manager": "lilei"},
			[][]string{{"wuqiang", "zhoufang"}}, flows.StatusApproved, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := b.submit(t, tt.applicant, tt.flow, tt.vals)
			got, out := approveAll(t, b, out)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.status, out.Instance.Status)
			if tt.atStep != "" {
				require.Equal(t, tt.atStep, out.Instance.StepID)
			}
		})
	}
}

func TestOnboardingNotifiesAfterApproval(t *testing.T) {
	t.Parallel()
	b := setupExamples(t)
	out := b.submit(t, "wuqiang", "onboarding", map[string]any{"new_hire": "Alex", "start_date": "2026-12-07", "department": "sales", "manager": "zhaomin"})
	require.Equal(t, []string{"chenjing", "zhoufang"}, keys(pending(out)), "the applicant (IT) is not their own approver")
	_, out = approveAll(t, b, out)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	// The notify step tells the new hire's manager and HR, once each.
	require.Subset(t, kinds(out.Outbox), []string{"cc:zhaomin", "cc:chenjing", "approved:wuqiang"})
	require.NotContains(t, kinds(out.Outbox), "cc:wangzong")
	n := 0
	for _, k := range kinds(out.Outbox) {
		if k == "cc:chenjing" {
			n++
		}
	}
	require.Equal(t, 1, n)
}

func TestStartRights(t *testing.T) {
	t.Parallel()
	b := setupExamples(t)
	_, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "onboarding",
		Values: map[string]any{"new_hire": "x", "start_date": "2026-12-07", "department": "eng", "manager": "lilei"}})
	require.Equal(t, flows.CodeForbidden, flows.ErrorCode(err))
}

func TestHTTPStepCallsTheERP(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []map[string]any
	var keysSeen []string
	fail := 1
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 { // the first attempt fails: the engine retries
			fail--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		bodies = append(bodies, m)
		keysSeen = append(keysSeen, r.Header.Get("Idempotency-Key"))
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"po":"PO-1"}`))
	}))
	defer erp.Close()
	b := setup(t)
	src := `
id: buy
name: {zh: 采购, en: Buy}
fields:
  - {id: item, type: text, label: {zh: 物品, en: Item}, required: true}
  - {id: amount, type: money, label: {zh: 金额, en: Amount}, required: true}
steps:
  - id: boss
    name: {zh: 上级, en: Boss}
    approvers: [{manager: 1}]
  - id: erp
    name: {zh: ERP, en: ERP}
    kind: http
    http:
      url: ` + erp.URL + `/po
      body: '{"number": {{ json .Instance.Number }}, "item": {{ json .Form.item }}, "cents": {{ json .Form.amount.Cents }}}'
      retries: 2
      timeout: 2s
`
	_, _, err := b.engine.PublishFlow(b.ctx, "buy.yaml", []byte(src))
	require.NoError(t, err)
	out := b.submit(t, "dev1", "buy", map[string]any{"item": "monitor", "amount": "1299.99"})
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, "erp", out.Instance.StepID)
	var msg *flows.OutboxMessage
	for _, m := range out.Outbox {
		if m.Kind == flows.MsgHTTP {
			msg = m
		}
	}
	require.NotNil(t, msg)
	require.NoError(t, b.engine.RunHTTP(b.ctx, msg))
	require.NoError(t, b.engine.RunHTTP(b.ctx, msg), "a redelivered message is harmless")
	require.Len(t, bodies, 1)
	require.Equal(t, map[string]any{"number": out.Instance.Number, "item": "monitor", "cents": float64(129999)}, bodies[0])
	require.Equal(t, out.Instance.Number+"/erp", keysSeen[0])
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, v.Instance.Status)
	var rec map[string]any
	for _, ev := range v.Events {
		if ev.Type == flows.EvHTTPCalled {
			require.NoError(t, json.Unmarshal(ev.Data, &rec))
		}
	}
	require.Equal(t, float64(201), rec["status"])
	require.Equal(t, float64(2), rec["attempts"])
	require.Contains(t, rec["body"], "PO-1")
	// Every copy of the request's cards is refreshed once the step moved
	// the request on (the approver's and applicant's copies showed the ERP
	// step as running).
	updates, err := b.store.Outbox(b.ctx, flows.OutboxPending, 100)
	require.NoError(t, err)
	n := 0
	for _, m := range updates {
		if m.Kind == flows.MsgCardUpdate && m.InstanceID == out.Instance.ID {
			n++
		}
	}
	require.GreaterOrEqual(t, n, 2, "the decision's card update and the http step's")
}

func TestHTTPStepFailureFailsTheRequest(t *testing.T) {
	t.Parallel()
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such vendor", http.StatusBadRequest)
	}))
	defer erp.Close()
	b := setup(t)
	src := `
id: buy2
name: {zh: 采购, en: Buy}
steps:
  - id: erp
    name: {zh: ERP, en: ERP}
    kind: http
    http: {url: "` + erp.URL + `", body: '{}', retries: 3, timeout: 2s}
`
	_, _, err := b.engine.PublishFlow(b.ctx, "buy2.yaml", []byte(src))
	require.NoError(t, err)
	out := b.submit(t, "dev1", "buy2", nil)
	require.NoError(t, b.engine.RunHTTP(b.ctx, out.Outbox[len(out.Outbox)-2]))
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusFailed, v.Instance.Status, "a 4xx is not retried and fails the request")
	msgs, err := b.store.Outbox(b.ctx, flows.OutboxPending, 100)
	require.NoError(t, err)
	var failed int
	for _, m := range msgs {
		if m.Kind == flows.MsgFailed && m.Recipient == "dev1" {
			failed++
		}
	}
	require.Equal(t, 1, failed)
}
