package flows_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

// A small company: ceo <- cto <- dev1, dev2; ceo <- cfo <- fin1; hr1 (role hr) reports to ceo.
func testOrg() ([]*flows.User, []*flows.Department) {
	users := []*flows.User{
		{ID: "ceo", Name: "王总", Dept: "exec", Roles: []string{"admin"}, Locale: "zh-CN", Platforms: map[string]string{"web": "ceo"}},
		{ID: "cfo", Name: "钱财", Dept: "exec", Manager: "ceo", Roles: []string{"cfo"}, Platforms: map[string]string{"web": "cfo"}},
		{ID: "cto", Name: "李雷", Dept: "eng", Manager: "ceo", Platforms: map[string]string{"web": "cto"}},
		{ID: "dev1", Name: "韩梅梅", Dept: "eng", Manager: "cto", Platforms: map[string]string{"web": "dev1"}},
		{ID: "dev2", Name: "Tom", Dept: "eng", Manager: "cto", Locale: "en", Platforms: map[string]string{"web": "dev2"}},
		{ID: "fin1", Name: "张会计", Dept: "fin", Manager: "cfo", Roles: []string{"finance"}, Platforms: map[string]string{"web": "fin1"}},
		{ID: "fin2", Name: "赵出纳", Dept: "fin", Manager: "cfo", Roles: []string{"finance"}, Platforms: map[string]string{"web": "fin2"}},
		{ID: "hr1", Name: "刘人事", Dept: "hr", Manager: "ceo", Roles: []string{"hr"}, Platforms: map[string]string{"web": "hr1"}},
	}
	depts := []*flows.Department{
		{ID: "exec", Name: "总经办", Head: "ceo"},
		{ID: "eng", Name: "研发部", Head: "cto", Parent: "exec"},
		{ID: "fin", Name: "财务部", Head: "cfo", Parent: "exec"},
		{ID: "hr", Name: "人事部", Head: "hr1", Parent: "exec"},
	}
	return users, depts
}

const leaveYAML = `
id: leave
name: {zh: 请假, en: Leave}
aliases: [请假]
calendar: calendar
deadline:
  remind_after: 4h
  remind_every: 4h
  escalate_after: 24h
fields:
  - id: type
    type: select
    label: {zh: 类型, en: Type}
    required: true
    options:
      - {value: annual, label: {zh: 年假, en: Annual}}
      - {value: sick, label: {zh: 病假, en: Sick}}
  - id: period
    type: daterange
    label: {zh: 时间, en: Period}
    required: true
  - id: reason
    type: textarea
    label: {zh: 事由, en: Reason}
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
  - id: hr
    name: {zh: 人事审批, en: HR}
    when: period.days > 3
    approvers: [{role: hr}]
`

const expenseYAML = `
id: expense
name: {zh: 报销, en: Expense}
fields:
  - id: amount
    type: money
    label: {zh: 金额, en: Amount}
    required: true
steps:
  - id: manager
    name: {zh: 上级, en: Manager}
    approvers: [{manager: 1}]
  - id: finance
    name: {zh: 财务, en: Finance}
    when: amount > 5000
    approvers: [{role: finance}]
    mode: all
    on_reject: return
  - id: cfo
    name: {zh: CFO, en: CFO}
    when: amount > 50000
    approvers: [{role: cfo}]
`

// anyFinanceYAML is one any-mode (或签) step of both finance people.
const anyFinanceYAML = `
id: anyfin
name: {zh: 或签, en: Any}
steps:
  - id: fin
    name: {zh: 财务, en: Finance}
    approvers: [{role: finance}]
    mode: any
`

const seqYAML = `
id: seq
name: {zh: 依次, en: Sequence}
fields:
  - id: note
    type: text
    label: {zh: 说明, en: Note}
steps:
  - id: both
    name: {zh: 依次审批, en: In turn}
    mode: sequence
    approvers: [{user: cto}, {user: cfo}]
    deadline:
      timeout_after: 48h
      on_timeout: approve
`

// t0 is when the tests' clock starts.
var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

type bundle struct {
	ctx    context.Context
	store  *sqlite.DB
	engine *flows.Engine
	clock  *testkit.Clock
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	b := &bundle{ctx: ctx, store: db, clock: testkit.NewClock(t0)}
	b.engine = flows.New(flows.Config{Store: db, Clock: b.clock})
	users, depts := testOrg()
	require.NoError(t, db.ReplaceDirectory(ctx, users, depts))
	for _, src := range []string{leaveYAML, expenseYAML, seqYAML, anyFinanceYAML} {
		_, _, err := b.engine.PublishFlow(ctx, "test.yaml", []byte(src))
		require.NoError(t, err)
	}
	return b
}

func (b *bundle) submit(t testing.TB, actor, flow string, vals map[string]any) *flows.Outcome {
	t.Helper()
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: actor, FlowID: flow, Values: vals})
	require.NoError(t, err)
	return out
}

// pending returns the pending tasks of an outcome, by assignee.
func pending(out *flows.Outcome) map[string]*flows.Task {
	m := map[string]*flows.Task{}
	for _, t := range out.Tasks {
		if t.Status == flows.TaskPending {
			m[t.Assignee] = t
		}
	}
	return m
}

func kinds(msgs []*flows.OutboxMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Kind)+":"+m.Recipient)
	}
	return out
}

func leave(days int) map[string]any {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return map[string]any{"type": "annual", "period": map[string]any{
		"from": from.Format("2006-01-02"), "to": from.AddDate(0, 0, days-1).Format("2006-01-02")}, "reason": "family"}
}

func TestLeaveApprovedByManagerThenHR(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "请假", leave(5))
	in := out.Instance
	require.Equal(t, "LEAVE-20261126-0001", in.Number)
	require.Equal(t, flows.StatusPending, in.Status)
	require.ElementsMatch(t, []string{"task:cto", "submitted:dev1"}, kinds(out.Outbox))

	task := pending(out)["cto"]
	require.NotNil(t, task)
	out, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true, Comment: "ok"})
	require.NoError(t, err)
	require.Equal(t, "hr", out.Instance.StepID)
	require.ElementsMatch(t, []string{"card_update:", "progress:dev1", "task:hr1"}, kinds(out.Outbox))
	require.Equal(t, flows.TaskApproved, out.Task.Status)

	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "hr1", TaskID: pending(out)["hr1"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	require.ElementsMatch(t, []string{"card_update:", "approved:dev1"}, kinds(out.Outbox))

	// The second request of the day gets the next number.
	require.Equal(t, "LEAVE-20261126-0002", b.submit(t, "dev2", "leave", leave(1)).Instance.Number)
}

func TestRouting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name      string
		applicant string
		flow      string
		vals      map[string]any
		want      [][]string // approvers of each step that happens, in order
	}{
		{"short leave: manager only", "dev1", "leave", leave(2), [][]string{{"cto"}}},
		{"long leave: manager then hr", "dev1", "leave", leave(4), [][]string{{"cto"}, {"hr1"}}},
		{"hr's own long leave skips hr (applicant is not their own approver)", "hr1", "leave", leave(5), [][]string{{"ceo"}}},
		{"ceo has no manager: steps skipped, approved at once", "ceo", "leave", leave(1), nil},
		{"small expense: manager", "dev2", "expense", map[string]any{"amount": "120.50"}, [][]string{{"cto"}}},
		{"expense over 5000: finance all", "dev2", "expense", map[string]any{"amount": "5000.01"}, [][]string{{"cto"}, {"fin1", "fin2"}}},
		{"expense over 50000: finance and cfo", "dev2", "expense", map[string]any{"amount": "60000"}, [][]string{{"cto"}, {"fin1", "fin2"}, {"cfo"}}},
		{"sequence: one after another", "dev1", "seq", map[string]any{}, [][]string{{"cto"}, {"cfo"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := b.submit(t, tt.applicant, tt.flow, tt.vals)
			var got [][]string
			for range 10 {
				p := pending(out)
				if len(p) == 0 {
					break
				}
				var ids []string
				for id := range p {
					ids = append(ids, id)
				}
				got = append(got, sortStrings(ids))
				for id, task := range p {
					var err error
					out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: id, TaskID: task.ID, Approve: true})
					require.NoError(t, err)
				}
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, flows.StatusApproved, out.Instance.Status)
		})
	}
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestRejectEndsOrReturns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(1))
	_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: false})
	require.Equal(t, flows.CodeInvalid, flows.ErrorCode(err), "a rejection needs a reason")
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: false, Comment: "busy week"})
	require.NoError(t, err)
	require.Equal(t, flows.StatusRejected, out.Instance.Status)
	require.ElementsMatch(t, []string{"card_update:", "rejected:dev1"}, kinds(out.Outbox))

	// expense: finance rejects -> back to the applicant, who amends and resubmits.
	out = b.submit(t, "dev2", "expense", map[string]any{"amount": "6000"})
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "fin1", TaskID: pending(out)["fin1"].ID, Approve: false, Comment: "receipt missing"})
	require.NoError(t, err)
	require.Equal(t, flows.StatusReturned, out.Instance.Status)
	require.Empty(t, pending(out), "the other finance approver's task is cancelled")
	require.Contains(t, kinds(out.Outbox), "returned:dev2")

	out, err = b.engine.Resubmit(b.ctx, "dev2", out.Instance.ID, map[string]any{"amount": "4000"})
	require.NoError(t, err)
	require.Equal(t, flows.StatusPending, out.Instance.Status)
	require.Contains(t, pending(out), "cto")
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status, "4000 no longer needs finance")
}

func TestRefusedCallsChangeNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(1))
	task := pending(out)["cto"]
	in := out.Instance

	cases := []struct {
		name string
		call func() error
		code flows.Code
	}{
		{"unknown flow", func() error {
			_, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "nope"})
			return err
		}, flows.CodeNotFound},
		{"unknown user", func() error {
			_, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "ghost", FlowID: "leave", Values: leave(1)})
			return err
		}, flows.CodeNotFound},
		{"missing required field", func() error {
			_, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "leave", Values: map[string]any{"type": "annual"}})
			return err
		}, flows.CodeInvalid},
		{"wrong type", func() error {
			_, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "expense", Values: map[string]any{"amount": "lots"}})
			return err
		}, flows.CodeInvalid},
		{"option not allowed", func() error {
			v := leave(1)
			v["type"] = "holiday"
			_, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "leave", Values: v})
			return err
		}, flows.CodeInvalid},
		{"decide a task that is not yours", func() error {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "dev2", TaskID: task.ID, Approve: true})
			return err
		}, flows.CodeForbidden},
		{"decide an unknown task", func() error {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: 99999, Approve: true})
			return err
		}, flows.CodeNotFound},
		{"withdraw someone else's request", func() error { _, err := b.engine.Withdraw(b.ctx, "dev2", in.ID, ""); return err }, flows.CodeForbidden},
		{"urge someone else's request", func() error { _, err := b.engine.Urge(b.ctx, "dev2", in.ID); return err }, flows.CodeForbidden},
		{"comment by an outsider", func() error { _, err := b.engine.Comment(b.ctx, "fin1", in.ID, "hi"); return err }, flows.CodeForbidden},
		{"empty comment", func() error { _, err := b.engine.Comment(b.ctx, "dev1", in.ID, "  "); return err }, flows.CodeInvalid},
		{"transfer without reason", func() error { _, err := b.engine.Transfer(b.ctx, "cto", task.ID, "cfo", ""); return err }, flows.CodeInvalid},
		{"transfer to self", func() error { _, err := b.engine.Transfer(b.ctx, "cto", task.ID, "cto", "x"); return err }, flows.CodeInvalid},
		{"transfer to unknown user", func() error { _, err := b.engine.Transfer(b.ctx, "cto", task.ID, "ghost", "x"); return err }, flows.CodeNotFound},
		{"add the applicant as signer", func() error {
			_, err := b.engine.AddSigner(b.ctx, "cto", task.ID, "dev1", flows.SignAfter, "")
			return err
		}, flows.CodeInvalid},
	}
	before := snapshot(t, b)
	for _, c := range cases {
		err := c.call()
		require.Error(t, err, c.name)
		require.Equal(t, c.code, flows.ErrorCode(err), "%s: %v", c.name, err)
	}
	require.Equal(t, before, snapshot(t, b), "refused calls must write nothing")

	// Withdrawn: deciding its task is refused with "closed".
	_, err := b.engine.Withdraw(b.ctx, "dev1", in.ID, "plans changed")
	require.NoError(t, err)
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.Equal(t, flows.CodeConflict, flows.ErrorCode(err))
	var fe *flows.Error
	require.True(t, errors.As(err, &fe))
	require.Contains(t, fe.Message("en"), "closed")
	require.Contains(t, fe.Message("zh-CN"), "已结束")
}

// snapshot counts the rows a refused call could have written.
func snapshot(t *testing.T, b *bundle) [3]int {
	t.Helper()
	evs, err := b.store.Events(b.ctx, flows.EventFilter{Limit: 100000})
	require.NoError(t, err)
	depth, err := b.store.OutboxDepth(b.ctx)
	require.NoError(t, err)
	ins, err := b.store.Instances(b.ctx, flows.InstanceFilter{Limit: 100000})
	require.NoError(t, err)
	return [3]int{len(evs), depth, len(ins)}
}

func TestSecondClickSaysWhoDecided(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(1))
	task := pending(out)["cto"]
	_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)
	before := snapshot(t, b)
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	var fe *flows.Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, flows.CodeConflict, fe.Code)
	require.Contains(t, fe.Message("zh-CN"), "李雷")
	require.Equal(t, before, snapshot(t, b))
}

func TestConcurrentDecisions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// 50 goroutines decide the same task: one wins.
	out := b.submit(t, "dev1", "leave", leave(1))
	task := pending(out)["cto"]
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for range 50 {
		wg.Go(func() {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if flows.ErrorCode(err) == flows.CodeConflict {
				conflicts++
			} else {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, wins)
	require.Equal(t, 49, conflicts)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	approvals := 0
	for _, ev := range v.Events {
		if ev.Type == flows.EvApproved {
			approvals++
		}
	}
	require.Equal(t, 1, approvals)
	msgs, err := b.store.Outbox(b.ctx, flows.OutboxPending, 1000)
	require.NoError(t, err)
	approvedMsgs := 0
	for _, m := range msgs {
		if m.InstanceID == out.Instance.ID && m.Kind == flows.MsgApproved {
			approvedMsgs++
		}
	}
	require.Equal(t, 1, approvedMsgs, "one outcome, one set of messages")

	// 50 goroutines on different instances all succeed.
	var tasks []*flows.Task
	for range 50 {
		tasks = append(tasks, pending(b.submit(t, "dev2", "leave", leave(1)))["cto"])
	}
	errs := make(chan error, 50)
	for _, tk := range tasks {
		wg.Go(func() {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: tk.ID, Approve: true})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestTwoApproversOfAnyStepAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 10 {
		out := b.submit(t, "dev1", "anyfin", nil)
		p := pending(out)
		require.Len(t, p, 2)
		var wg sync.WaitGroup
		results := make(chan error, 2)
		for id, task := range p {
			wg.Go(func() {
				_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: id, TaskID: task.ID, Approve: true})
				results <- err
			})
		}
		wg.Wait()
		close(results)
		ok, lost := 0, 0
		for err := range results {
			if err == nil {
				ok++
			} else {
				require.Equal(t, flows.CodeConflict, flows.ErrorCode(err), "%v", err)
				lost++
			}
		}
		require.Equal(t, 1, ok)
		require.Equal(t, 1, lost)
	}
}

func TestTransferAddSignerCommentUrge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(1))
	task := pending(out)["cto"]

	out, err := b.engine.Transfer(b.ctx, "cto", task.ID, "cfo", "on holiday")
	require.NoError(t, err)
	require.Equal(t, flows.TaskTransferred, out.Task.Status)
	require.Contains(t, kinds(out.Outbox), "task:cfo")
	cfoTask := pending(out)["cfo"]
	require.NotNil(t, cfoTask)

	// add a signer before me: fin1 decides first, then cfo again.
	out, err = b.engine.AddSigner(b.ctx, "cfo", cfoTask.ID, "fin1", flows.SignBefore, "check budget")
	require.NoError(t, err)
	require.Equal(t, []string{"fin1"}, keys(pending(out)))
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "fin1", TaskID: pending(out)["fin1"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, []string{"cfo"}, keys(pending(out)))

	// comment by the applicant reaches the current approver.
	out, err = b.engine.Comment(b.ctx, "dev1", out.Instance.ID, "thanks!")
	require.NoError(t, err)
	require.Equal(t, []string{"comment:cfo"}, kinds(out.Outbox))

	// urge: once (and every copy of the cards shows it), then rate-limited until the interval passed.
	out, err = b.engine.Urge(b.ctx, "dev1", out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"urge:cfo", "card_update:"}, kinds(out.Outbox))
	_, err = b.engine.Urge(b.ctx, "dev1", out.Instance.ID)
	require.Equal(t, flows.CodeRateLimited, flows.ErrorCode(err))
	b.clock.Add(61 * time.Minute)
	_, err = b.engine.Urge(b.ctx, "dev1", out.Instance.ID)
	require.NoError(t, err)

	// add a signer after me.
	out, err = b.engine.AddSigner(b.ctx, "cfo", pending(out)["cfo"].ID, "ceo", flows.SignAfter, "")
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cfo", TaskID: pending(out)["cfo"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, []string{"ceo"}, keys(pending(out)))
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "ceo", TaskID: pending(out)["ceo"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sortStrings(out)
}

func TestTickRemindsEscalatesAndTimesOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(1))
	id := out.Instance.ID

	res, err := b.engine.Tick(b.ctx, b.clock.Add(3*time.Hour))
	require.NoError(t, err)
	require.Equal(t, flows.TickResult{}, res, "nothing due before 4h")

	res, err = b.engine.Tick(b.ctx, b.clock.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, res.Reminded)
	res, err = b.engine.Tick(b.ctx, b.clock.Now())
	require.NoError(t, err)
	require.Equal(t, flows.TickResult{}, res, "a reminder is sent once")

	// A jump of a day: one reminder (not five) and the escalation to the manager's manager.
	res, err = b.engine.Tick(b.ctx, b.clock.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, flows.TickResult{Reminded: 1, Escalated: 1}, res)
	msgs, err := b.store.Outbox(b.ctx, flows.OutboxPending, 100)
	require.NoError(t, err)
	var got []string
	for _, m := range msgs {
		if m.InstanceID == id && (m.Kind == flows.MsgReminder || m.Kind == flows.MsgEscalation) {
			got = append(got, string(m.Kind)+":"+m.Recipient)
		}
	}
	require.ElementsMatch(t, []string{"reminder:cto", "reminder:cto", "escalation:ceo"}, got)

	// Timeout with auto-approve, recorded as automatic.
	out = b.submit(t, "dev1", "seq", nil)
	_, err = b.engine.Tick(b.ctx, b.clock.Add(49*time.Hour))
	require.NoError(t, err)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	var auto *flows.Event
	for _, ev := range v.Events {
		if ev.Type == flows.EvApproved {
			auto = ev
		}
	}
	require.NotNil(t, auto)
	require.True(t, auto.Auto)
	require.Equal(t, flows.System, auto.Actor)
	require.Equal(t, "both", v.Instance.StepID, "the next approver of the sequence now has the task")
}

func TestRestartKeepsDueWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flowbot.db")
	clk := testkit.NewClock(t0)
	db := testkit.OpenSQLiteFile(t, path)
	users, depts := testOrg()
	require.NoError(t, db.ReplaceDirectory(ctx, users, depts))
	e := flows.New(flows.Config{Store: db, Clock: clk})
	_, _, err := e.PublishFlow(ctx, "leave.yaml", []byte(leaveYAML))
	require.NoError(t, err)
	_, err = e.Submit(ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "leave", Values: leave(1)})
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db = testkit.OpenSQLiteFile(t, path)
	e = flows.New(flows.Config{Store: db, Clock: clk})
	res, err := e.Tick(ctx, clk.Add(5*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, res.Reminded)
	res, err = e.Tick(ctx, clk.Now())
	require.NoError(t, err)
	require.Equal(t, 0, res.Reminded, "written exactly once")
	msgs, err := db.Outbox(ctx, flows.OutboxPending, 100)
	require.NoError(t, err)
	n := 0
	for _, m := range msgs {
		if m.Kind == flows.MsgReminder {
			n++
		}
	}
	require.Equal(t, 1, n)
}

func TestFlowVersionsPinInstances(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(5))
	require.Equal(t, 1, out.Instance.FlowVersion)
	// A new version drops the HR step; the running request keeps it.
	v2 := leaveYAML[:len(leaveYAML)-len(`  - id: hr
    name: {zh: 人事审批, en: HR}
    when: period.days > 3
    approvers: [{role: hr}]
`)]
	_, ver, err := b.engine.PublishFlow(b.ctx, "leave.yaml", []byte(v2))
	require.NoError(t, err)
	require.Equal(t, 2, ver)
	_, ver, err = b.engine.PublishFlow(b.ctx, "leave.yaml", []byte(v2))
	require.NoError(t, err)
	require.Equal(t, 2, ver, "unchanged source keeps its version")
	require.NoError(t, b.engine.DeleteFlow(b.ctx, "leave"))

	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, "hr", out.Instance.StepID, "the instance follows version 1")
	_, err = b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "leave", Values: leave(1)})
	require.Equal(t, flows.CodeNotFound, flows.ErrorCode(err), "a deleted flow cannot be started")
}

func TestViewRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev2", "expense", map[string]any{"amount": "60000"})
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	var got []string
	for _, r := range v.Route {
		got = append(got, r.StepID+":"+r.Status)
	}
	require.Equal(t, []string{"manager:current", "finance:upcoming", "cfo:upcoming"}, got)
	require.Equal(t, []string{"fin1", "fin2"}, v.Route[1].Approvers)
	var form map[string]any
	require.NoError(t, json.Unmarshal(out.Instance.Form, &form))
	require.NotNil(t, form["amount"])
}
