package flows_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// cst is the directory's default time zone (users without tz).
var cst = time.FixedZone("CST", 8*3600)

// delegateCTO sets cto -> to for 2026-12-01..2026-12-10 at t0.
func (b *bundle) delegate(t *testing.T, from, to string, pending bool) *flows.DelegateResult {
	t.Helper()
	res, err := b.engine.Delegate(b.ctx, flows.DelegateRequest{Actor: from, To: to, Start: "2026-12-01", End: "2026-12-10", Pending: pending})
	require.NoError(t, err)
	return res
}

func eventData(t *testing.T, evs []*flows.Event, typ flows.EventType) map[string]any {
	t.Helper()
	for _, e := range evs {
		if e.Type == typ {
			var m map[string]any
			require.NoError(t, json.Unmarshal(e.Data, &m))
			return m
		}
	}
	t.Fatalf("no %s event among %d", typ, len(evs))
	return nil
}

func TestDelegationPeriod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		at        time.Time
		delegate  string // who delegates to cfo
		applicant string
		assignee  string
		obo       string
	}{
		{"Before", time.Date(2026, 11, 30, 23, 59, 0, 0, cst), "cto", "dev1", "cto", ""},
		{"FirstMinute", time.Date(2026, 12, 1, 0, 0, 0, 0, cst), "cto", "dev1", "cfo", "cto"},
		{"During", time.Date(2026, 12, 5, 10, 0, 0, 0, cst), "cto", "dev1", "cfo", "cto"},
		{"LastDay", time.Date(2026, 12, 10, 23, 59, 0, 0, cst), "cto", "dev1", "cfo", "cto"},
		{"After", time.Date(2026, 12, 11, 0, 0, 0, 0, cst), "cto", "dev1", "cto", ""},
		// cfo files an expense whose approver (manager) is ceo; ceo delegated to cfo:
		// the delegate never approves their own request.
		{"DelegateIsApplicant", time.Date(2026, 12, 5, 10, 0, 0, 0, cst), "ceo", "cfo", "ceo", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.delegate(t, tc.delegate, "cfo", false)
			b.clock.Set(tc.at)
			out := b.submit(t, tc.applicant, "请假", leave(2))
			got := pending(out)
			require.Len(t, got, 1, "one pending task")
			task := got[tc.assignee]
			require.NotNil(t, task, "task goes to %s, got %v", tc.assignee, got)
			require.Equal(t, tc.obo, task.OnBehalfOf)
			if tc.obo == "" {
				require.NotContains(t, kinds(out.Outbox), "cc:"+tc.delegate)
				return
			}
			require.Contains(t, kinds(out.Outbox), "task:"+tc.assignee)
			require.Contains(t, kinds(out.Outbox), "cc:"+tc.obo, "the approver who is away is told")
			// The decision's audit entry names both.
			out, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: tc.assignee, TaskID: task.ID, Approve: true})
			require.NoError(t, err)
			d := eventData(t, out.Events, flows.EvApproved)
			require.Equal(t, tc.obo, d["on_behalf_of"])
		})
	}
}

func TestDelegationOffStopsIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.delegate(t, "cto", "cfo", false)
	b.clock.Set(time.Date(2026, 12, 2, 9, 0, 0, 0, cst))
	n, err := b.engine.EndDelegations(b.ctx, "cto")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	out := b.submit(t, "dev1", "请假", leave(1))
	require.NotNil(t, pending(out)["cto"], "after /delegate off cto gets his tasks again")
	ds, err := b.engine.Delegations(b.ctx, "cto")
	require.NoError(t, err)
	require.Empty(t, ds)
	n, err = b.engine.EndDelegations(b.ctx, "cto")
	require.NoError(t, err)
	require.Zero(t, n, "a second off ends nothing")
}

func TestDelegationReplacesOverlapping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.delegate(t, "cto", "cfo", false)
	b.delegate(t, "cto", "hr1", false)
	ds, err := b.engine.Delegations(b.ctx, "cto")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "hr1", ds[0].To)
}

func TestDelegatePendingHandsOver(t *testing.T) {
	t.Parallel()
	b := setup(t)
	own := b.submit(t, "dev1", "请假", leave(1))  // cto approves
	mine := b.submit(t, "dev2", "请假", leave(1)) // cto approves
	res := b.delegate(t, "cto", "dev2", true)
	// dev2's own request stays with cto; dev1's goes to dev2.
	require.Len(t, res.Handed, 1)
	require.Equal(t, "dev2", res.Handed[0].Assignee)
	require.Equal(t, "cto", res.Handed[0].OnBehalfOf)
	require.Equal(t, own.Instance.ID, res.Handed[0].InstanceID)
	require.Len(t, res.Kept, 1)
	require.Equal(t, mine.Instance.ID, res.Kept[0].InstanceID)

	// cto can no longer decide the handed task; dev2 can, once.
	_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(own)["cto"].ID, Approve: true})
	require.Equal(t, flows.CodeConflict, flows.ErrorCode(err))
	out, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "dev2", TaskID: res.Handed[0].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, "cto", eventData(t, out.Events, flows.EvApproved)["on_behalf_of"])
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "dev2", TaskID: res.Handed[0].ID, Approve: true})
	require.Equal(t, flows.CodeConflict, flows.ErrorCode(err), "a second click changes nothing")
	// cto still decides dev2's own request.
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: res.Kept[0].ID, Approve: true})
	require.NoError(t, err)

	// The hand-over is in the audit trail.
	evs, err := b.store.Events(b.ctx, flows.EventFilter{InstanceID: own.Instance.ID, Types: []flows.EventType{flows.EvDelegated}})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, "cto", evs[0].Actor)
}

func TestDelegateBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  flows.DelegateRequest
		code flows.Code
	}{
		{"Self", flows.DelegateRequest{Actor: "cto", To: "cto", Start: "2026-12-01", End: "2026-12-02"}, flows.CodeInvalid},
		{"UnknownDelegate", flows.DelegateRequest{Actor: "cto", To: "nobody", Start: "2026-12-01", End: "2026-12-02"}, flows.CodeNotFound},
		{"UnknownActor", flows.DelegateRequest{Actor: "nobody", To: "cto", Start: "2026-12-01", End: "2026-12-02"}, flows.CodeNotFound},
		{"BadDate", flows.DelegateRequest{Actor: "cto", To: "cfo", Start: "12/01", End: "2026-12-02"}, flows.CodeInvalid},
		{"EndBeforeStart", flows.DelegateRequest{Actor: "cto", To: "cfo", Start: "2026-12-05", End: "2026-12-02"}, flows.CodeInvalid},
		{"Past", flows.DelegateRequest{Actor: "cto", To: "cfo", Start: "2026-11-01", End: "2026-11-02"}, flows.CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, err := b.engine.Delegate(b.ctx, tc.req)
			require.Equal(t, tc.code, flows.ErrorCode(err), "err %v", err)
			ds, err := b.engine.Delegations(b.ctx, "cto")
			require.NoError(t, err)
			require.Empty(t, ds, "nothing stored")
		})
	}
}

const leaveBackupYAML = `
id: leave2
name: {zh: 请假（含代理人）, en: Leave with backup}
fields:
  - id: period
    type: daterange
    label: {zh: 时间, en: Period}
    required: true
  - id: backup
    type: user
    label: {zh: 代理人, en: Backup}
on_approved: {delegate_field: backup}
steps:
  - id: manager
    approvers: [{manager: 1}]
`

func TestLeaveSetsDelegation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		backup  string
		approve bool
		want    string // delegate of cto on 2026-12-02, "" = none
	}{
		{"Approved", "cfo", true, "cfo"},
		{"Rejected", "cfo", false, ""},
		{"NoBackup", "", true, ""},
		{"BackupIsApplicant", "cto", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, _, err := b.engine.PublishFlow(b.ctx, "leave2.yaml", []byte(leaveBackupYAML))
			require.NoError(t, err)
			vals := map[string]any{"period": map[string]any{"from": "2026-12-01", "to": "2026-12-03"}}
			if tc.backup != "" {
				vals["backup"] = tc.backup
			}
			out := b.submit(t, "cto", "leave2", vals)
			_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "ceo", TaskID: pending(out)["ceo"].ID, Approve: tc.approve, Comment: "no"})
			require.NoError(t, err)
			b.clock.Set(time.Date(2026, 12, 2, 9, 0, 0, 0, cst))
			task := b.submit(t, "dev1", "请假", leave(1))
			want := tc.want
			if want == "" {
				want = "cto"
			}
			require.NotNil(t, pending(task)[want], "dev1's leave goes to %s", want)
			b.clock.Set(time.Date(2026, 12, 4, 9, 0, 0, 0, cst))
			task = b.submit(t, "dev2", "请假", leave(1))
			require.NotNil(t, pending(task)["cto"], "after the leave cto decides again")
		})
	}
}

// TestDelegationCacheFollowsChanges: the engine keeps approvers'
// delegations in memory; a delegation set or ended through the engine is
// followed by the next task at once, one set through another engine over
// the same database (a replica) within flows.Recheck.
func TestDelegationCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	replica := flows.New(flows.Config{Store: b.store, Clock: b.clock})
	b.clock.Set(time.Date(2026, 12, 2, 9, 0, 0, 0, cst))
	steps := []struct {
		name   string
		change func(t *testing.T)
		wait   bool // wait flows.Recheck before submitting
		want   string
		obo    string
	}{
		{"NoDelegation", func(*testing.T) {}, false, "cto", ""},
		{"SetHere", func(t *testing.T) { b.delegate(t, "cto", "cfo", false) }, false, "cfo", "cto"},
		{"EndedHere", func(t *testing.T) {
			_, err := b.engine.EndDelegations(b.ctx, "cto")
			require.NoError(t, err)
		}, false, "cto", ""},
		{"SetOnReplica", func(t *testing.T) {
			_, err := replica.Delegate(b.ctx, flows.DelegateRequest{Actor: "cto", To: "hr1", Start: "2026-12-01", End: "2026-12-10"})
			require.NoError(t, err)
		}, true, "hr1", "cto"},
		{"EndedOnReplica", func(t *testing.T) {
			_, err := replica.EndDelegations(b.ctx, "cto")
			require.NoError(t, err)
		}, true, "cto", ""},
		{"LeaveApprovedHere", func(t *testing.T) {
			// An approved leave request of cto with a backup sets cto -> cfo
			// inside a decision: the next task sees it at once.
			_, _, err := b.engine.PublishFlow(b.ctx, "leave2.yaml", []byte(leaveBackupYAML))
			require.NoError(t, err)
			vals := map[string]any{"period": map[string]any{"from": "2026-12-01", "to": "2026-12-03"}, "backup": "cfo"}
			out := b.submit(t, "cto", "leave2", vals)
			_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "ceo", TaskID: pending(out)["ceo"].ID, Approve: true})
			require.NoError(t, err)
			ds, err := b.engine.Delegations(b.ctx, "cto")
			require.NoError(t, err)
			require.Len(t, ds, 1, "the approved leave set a delegation")
		}, false, "cfo", "cto"},
	}
	for _, s := range steps {
		s.change(t)
		if s.wait {
			time.Sleep(flows.Recheck + 50*time.Millisecond)
		}
		out := b.submit(t, "dev1", "请假", leave(1))
		got := pending(out)
		require.NotNil(t, got[s.want], "%s: the task goes to %s, got %v", s.name, s.want, got)
		require.Equal(t, s.obo, got[s.want].OnBehalfOf, s.name)
	}
}
