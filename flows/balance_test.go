package flows_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// bleaveYAML counts leave against balances: annual leave needs the days
// left; personal leave that is short goes to HR too; sick leave is free.
const bleaveYAML = `
id: bleave
name: {zh: 请假, en: Leave}
fields:
  - id: type
    type: select
    label: {zh: 类型, en: Type}
    required: true
    options:
      - {value: annual, label: {zh: 年假, en: Annual leave}}
      - {value: personal, label: {zh: 事假, en: Personal leave}}
      - {value: sick, label: {zh: 病假, en: Sick leave}}
  - id: period
    type: daterange
    label: {zh: 时间, en: Period}
    required: true
balance:
  type: type
  days: period
  require: type != "annual" || balance(type) >= period.workdays
cancel:
  flow: bleave_cancel
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
  - id: hr
    name: {zh: 人事审批, en: HR}
    when: type == "personal" && balance(type) < period.workdays
    approvers: [{role: hr}]
`

const bleaveCancelYAML = `
id: bleave_cancel
name: {zh: 销假, en: Cancel leave}
fields:
  - id: request
    type: text
    label: {zh: 请假单, en: Leave request}
    required: true
  - id: reason
    type: textarea
    label: {zh: 原因, en: Reason}
on_approved:
  cancel_field: request
steps:
  - id: manager
    name: {zh: 上级确认, en: Manager}
    approvers: [{manager: 1}]
`

func setupBalance(t *testing.T, bals ...flows.BalanceUpdate) *bundle {
	t.Helper()
	b := setup(t)
	for _, src := range []string{bleaveYAML, bleaveCancelYAML} {
		_, _, err := b.engine.PublishFlow(b.ctx, "bleave.yaml", []byte(src))
		require.NoError(t, err)
	}
	require.NoError(t, b.engine.SetBalances(b.ctx, "ceo", bals))
	return b
}

// bleave is a leave of typ from Tuesday 2026-12-01 for workdays working days (up to 4).
func bleave(typ string, workdays int) map[string]any {
	to := []string{"", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"}[workdays]
	return map[string]any{"type": typ, "period": map[string]any{"from": "2026-12-01", "to": to}}
}

func (b *bundle) balance(t *testing.T, user, typ string) *flows.Balance {
	t.Helper()
	bs, err := b.store.Balances(b.ctx, flows.BalanceFilter{User: user, Type: typ, Year: 2026})
	require.NoError(t, err)
	require.Len(t, bs, 1)
	return bs[0]
}

func (b *bundle) countInstances(t *testing.T) int {
	t.Helper()
	ins, err := b.store.Instances(b.ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	return len(ins)
}

func annual(user string, total float64) flows.BalanceUpdate {
	return flows.BalanceUpdate{User: user, Type: "annual", Year: 2026, Total: total}
}

func TestBalanceCheckedAtFiling(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		bals      []flows.BalanceUpdate
		form      map[string]any
		wantZH    string // refusal; "" = filed
		wantEN    string
		wantSteps string // the step the request waits on
	}{
		{name: "enough", bals: []flows.BalanceUpdate{annual("dev1", 5)}, form: bleave("annual", 3), wantSteps: "manager"},
		{name: "exactly enough", bals: []flows.BalanceUpdate{annual("dev1", 3)}, form: bleave("annual", 3), wantSteps: "manager"},
		{name: "short", bals: []flows.BalanceUpdate{annual("dev1", 2)}, form: bleave("annual", 3),
			wantZH: "年假余额不足：剩余 2 天，本次申请 3 天。", wantEN: "Not enough Annual leave: 2 day(s) left, this request takes 3."},
		{name: "half day short", bals: []flows.BalanceUpdate{{User: "dev1", Type: "annual", Year: 2026, Total: 5, Used: ptr(2.5)}}, form: bleave("annual", 3),
			wantZH: "年假余额不足：剩余 2.5 天，本次申请 3 天。", wantEN: "Not enough Annual leave: 2.5 day(s) left, this request takes 3."},
		{name: "no balance row: not counted", form: bleave("annual", 1), wantSteps: "manager"},
		{name: "another year's balance does not count", bals: []flows.BalanceUpdate{{User: "dev1", Type: "annual", Year: 2027, Total: 20}, {User: "dev1", Type: "annual", Year: 2026, Total: 1}}, form: bleave("annual", 2),
			wantZH: "年假余额不足：剩余 1 天，本次申请 2 天。", wantEN: "Not enough Annual leave: 1 day(s) left, this request takes 2."},
		{name: "sick leave is not checked", bals: []flows.BalanceUpdate{{User: "dev1", Type: "sick", Year: 2026, Total: 0}}, form: bleave("sick", 4), wantSteps: "manager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupBalance(t, tc.bals...)
			out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "bleave", Values: tc.form})
			if tc.wantZH == "" {
				require.NoError(t, err)
				require.Equal(t, tc.wantSteps, out.Instance.StepID)
				return
			}
			var fe *flows.Error
			require.True(t, errors.As(err, &fe), "got %v, want a refusal", err)
			require.Equal(t, flows.CodeInvalid, fe.Code)
			require.Equal(t, tc.wantZH, fe.Message("zh-CN"))
			require.Equal(t, tc.wantEN, fe.Message("en"))
			require.Zero(t, b.countInstances(t), "a refused request files nothing")
		})
	}
}

func TestBalanceConditionRoutes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		total float64
		want  []string // steps with tasks, in order of approval
	}{
		{"enough personal leave: manager only", 10, []string{"manager"}},
		{"short personal leave: HR too", 1, []string{"manager", "hr"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupBalance(t, flows.BalanceUpdate{User: "dev1", Type: "personal", Year: 2026, Total: tc.total})
			out := b.submit(t, "dev1", "bleave", bleave("personal", 2))
			var steps []string
			for out.Instance.Status == flows.StatusPending {
				steps = append(steps, out.Instance.StepID)
				for who, task := range pending(out) {
					var err error
					out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: who, TaskID: task.ID, Approve: true})
					require.NoError(t, err)
				}
			}
			require.Equal(t, tc.want, steps)
			require.Equal(t, flows.StatusApproved, out.Instance.Status)
			require.Equal(t, 2.0, b.balance(t, "dev1", "personal").Used, "an approved short request still takes its days")
		})
	}
}

// approveEvery approves every pending task of out, returning the last outcome.
func approveEvery(t *testing.T, b *bundle, out *flows.Outcome) *flows.Outcome {
	t.Helper()
	for out.Instance.Status == flows.StatusPending {
		for who, task := range pending(out) {
			var err error
			out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: who, TaskID: task.ID, Approve: true})
			require.NoError(t, err)
		}
	}
	return out
}

func TestBalanceUsedOnceOnApproval(t *testing.T) {
	t.Parallel()
	b := setupBalance(t, annual("dev1", 10))
	out := b.submit(t, "dev1", "bleave", bleave("annual", 3))
	require.Equal(t, 0.0, b.balance(t, "dev1", "annual").Used, "filing takes nothing")
	task := pending(out)["cto"]
	out, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	bal := b.balance(t, "dev1", "annual")
	require.Equal(t, 3.0, bal.Used)
	require.Equal(t, 7.0, bal.Left())
	var used int
	for _, ev := range out.Events {
		if ev.Type == flows.EvBalanceUsed {
			used++
			require.JSONEq(t, `{"type":"annual","year":2026,"days":3}`, string(ev.Data))
		}
	}
	require.Equal(t, 1, used, "the approval's events include balance_used")

	// The same click again (a replay, a second tab) changes nothing.
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	var fe *flows.Error
	require.True(t, errors.As(err, &fe), "got %v, want a refusal", err)
	require.Equal(t, flows.CodeConflict, fe.Code)
	require.Equal(t, 3.0, b.balance(t, "dev1", "annual").Used, "no double decrement")
}

func TestBalanceNotUsed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		act  func(b *bundle, out *flows.Outcome) error
	}{
		{"rejected", func(b *bundle, out *flows.Outcome) error {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: false, Comment: "busy"})
			return err
		}},
		{"withdrawn", func(b *bundle, out *flows.Outcome) error {
			_, err := b.engine.Withdraw(b.ctx, "dev1", out.Instance.ID, "")
			return err
		}},
		{"still pending", func(*bundle, *flows.Outcome) error { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupBalance(t, annual("dev1", 10))
			out := b.submit(t, "dev1", "bleave", bleave("annual", 3))
			require.NoError(t, tc.act(b, out))
			require.Equal(t, 0.0, b.balance(t, "dev1", "annual").Used)
		})
	}
}

func TestCancelApprovedLeave(t *testing.T) {
	t.Parallel()
	b := setupBalance(t, annual("dev1", 10))
	leave := approveEvery(t, b, b.submit(t, "dev1", "bleave", bleave("annual", 3))).Instance
	require.Equal(t, 3.0, b.balance(t, "dev1", "annual").Used)

	out, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: leave.Number, Reason: "plans changed"})
	require.NoError(t, err)
	cancel := out.Instance
	require.Equal(t, "bleave_cancel", cancel.FlowID)
	require.NotNil(t, pending(out)["cto"], "the cancel flow's approver decides")
	require.Equal(t, 3.0, b.balance(t, "dev1", "annual").Used, "asking gives nothing back yet")

	task := pending(out)["cto"]
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	v, err := b.engine.View(b.ctx, leave.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusCancelled, v.Instance.Status)
	require.Equal(t, 0.0, b.balance(t, "dev1", "annual").Used, "cancelled: the days are back")
	var types []flows.EventType
	for _, ev := range v.Events {
		types = append(types, ev.Type)
	}
	require.Subset(t, types, []flows.EventType{flows.EvBalanceUsed, flows.EvCancelled, flows.EvBalanceRestored})

	// Replaying the cancel approval, or asking again, gives nothing back twice.
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.Error(t, err)
	_, err = b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: leave.Number})
	var fe *flows.Error
	require.True(t, errors.As(err, &fe), "got %v", err)
	require.Equal(t, flows.CodeConflict, fe.Code)
	require.Equal(t, "LEAVE-X 当前已取消，只有已通过的申请可以撤销。", replaceNumber(fe.Message("zh-CN"), leave.Number))
	require.Equal(t, 0.0, b.balance(t, "dev1", "annual").Used)
}

func TestCancelRejectedKeepsLeave(t *testing.T) {
	t.Parallel()
	b := setupBalance(t, annual("dev1", 10))
	leave := approveEvery(t, b, b.submit(t, "dev1", "bleave", bleave("annual", 2))).Instance
	out, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: leave.Number})
	require.NoError(t, err)
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: false, Comment: "no"})
	require.NoError(t, err)
	v, err := b.engine.View(b.ctx, leave.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, v.Instance.Status)
	require.Equal(t, 2.0, b.balance(t, "dev1", "annual").Used)
}

func replaceNumber(s, number string) string {
	for i := 0; i+len(number) <= len(s); i++ {
		if s[i:i+len(number)] == number {
			return s[:i] + "LEAVE-X" + s[i+len(number):]
		}
	}
	return s
}

func TestCancelRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// ask builds the cancel request from the approved leave's and a
		// pending request's numbers.
		ask      func(b *bundle, approved, open, expense string) error
		wantCode flows.Code
		wantEN   string
	}{
		{"someone else's request", func(b *bundle, approved, _, _ string) error {
			_, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev2", Number: approved})
			return err
		}, flows.CodeForbidden, "Only the applicant may cancel LEAVE-X."},
		{"still pending", func(b *bundle, _, open, _ string) error {
			_, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: open})
			return err
		}, flows.CodeConflict, "LEAVE-X is pending; only an approved request can be cancelled."},
		{"flow without a cancel rule", func(b *bundle, _, _, expense string) error {
			_, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: expense})
			return err
		}, flows.CodeInvalid, `"Expense" has no cancel rule: an approved request cannot be cancelled.`},
		{"unknown number", func(b *bundle, _, _, _ string) error {
			_, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: "LEAVE-20991231-9999"})
			return err
		}, flows.CodeNotFound, "Give the number of the request to cancel, e.g. LEAVE-20261205-0001."},
		{"empty number", func(b *bundle, _, _, _ string) error {
			_, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: "  "})
			return err
		}, flows.CodeInvalid, "Give the number of the request to cancel, e.g. LEAVE-20261205-0001."},
		{"cancel flow filed for another flow's request", func(b *bundle, _, _, expense string) error {
			_, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "bleave_cancel", Values: map[string]any{"request": expense}})
			return err
		}, flows.CodeInvalid, "LEAVE-X cannot be cancelled through \"Cancel leave\"."},
		{"second cancel while one is open", func(b *bundle, approved, _, _ string) error {
			if _, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: approved}); err != nil {
				return err
			}
			_, err := b.engine.RequestCancel(b.ctx, flows.CancelRequest{Actor: "dev1", Number: approved})
			return err
		}, flows.CodeConflict, "LEAVE-X already has a cancel request, BLEAVECANCEL-20261126-0001, pending."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupBalance(t, annual("dev1", 10))
			approved := approveEvery(t, b, b.submit(t, "dev1", "bleave", bleave("annual", 2))).Instance
			open := b.submit(t, "dev1", "bleave", bleave("sick", 1)).Instance
			expense := approveEvery(t, b, b.submit(t, "dev1", "expense", map[string]any{"amount": 100})).Instance
			before := b.countInstances(t)
			err := tc.ask(b, approved.Number, open.Number, expense.Number)
			var fe *flows.Error
			require.True(t, errors.As(err, &fe), "got %v, want a refusal", err)
			require.Equal(t, tc.wantCode, fe.Code)
			msg := fe.Message("en")
			for _, n := range []string{approved.Number, open.Number, expense.Number} {
				msg = replaceNumber(msg, n)
			}
			require.Equal(t, tc.wantEN, msg)
			require.NotEmpty(t, fe.Message("zh-CN"))
			require.NotEqual(t, fe.Message("zh-CN"), fe.Message("en"))
			after := b.countInstances(t)
			if tc.name == "second cancel while one is open" {
				before++ // the first one was filed
			}
			require.Equal(t, before, after, "a refused cancel files nothing")
			v, err := b.engine.View(b.ctx, approved.ID)
			require.NoError(t, err)
			require.Equal(t, flows.StatusApproved, v.Instance.Status)
			require.Equal(t, 2.0, b.balance(t, "dev1", "annual").Used)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A returned leave amended to more days than are left is refused too.
func TestBalanceCheckedAtResubmit(t *testing.T) {
	t.Parallel()
	b := setupBalance(t, annual("dev1", 3))
	src := strings.Replace(bleaveYAML, "id: bleave\n", "id: rleave\n", 1)
	src = strings.Replace(src, "  flow: bleave_cancel\n", "  flow: rleave_cancel\n", 1)
	src = strings.Replace(src, "    approvers: [{manager: 1}]\n", "    approvers: [{manager: 1}]\n    on_reject: return\n", 1)
	_, _, err := b.engine.PublishFlow(b.ctx, "rleave.yaml", []byte(src))
	require.NoError(t, err)
	out := b.submit(t, "dev1", "rleave", bleave("annual", 2))
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: false, Comment: "dates?"})
	require.NoError(t, err)
	require.Equal(t, flows.StatusReturned, out.Instance.Status)
	_, err = b.engine.Resubmit(b.ctx, "dev1", out.Instance.ID, bleave("annual", 4))
	var fe *flows.Error
	require.True(t, errors.As(err, &fe), "got %v, want a refusal", err)
	require.Equal(t, "Not enough Annual leave: 3 day(s) left, this request takes 4.", fe.Message("en"))
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusReturned, v.Instance.Status, "nothing changed")
	_, err = b.engine.Resubmit(b.ctx, "dev1", out.Instance.ID, bleave("annual", 3))
	require.NoError(t, err)
}
