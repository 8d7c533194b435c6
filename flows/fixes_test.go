package flows_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

func TestSubmitKeyFilesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := flows.SubmitRequest{Actor: "dev1", FlowID: "leave", Values: leave(1), Key: "conv-123"}
	var wg sync.WaitGroup
	var ok, dup atomic.Int32
	for range 10 { // a double (ten-fold) click on Submit
		wg.Go(func() {
			_, err := b.engine.Submit(b.ctx, req)
			switch {
			case err == nil:
				ok.Add(1)
			case flows.ErrorCode(err) == flows.CodeConflict:
				dup.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), ok.Load())
	require.Equal(t, int32(9), dup.Load())
	ins, err := b.store.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	require.Len(t, ins, 1)
	// Another key, or another applicant with the same key, files anew.
	req.Key = "conv-456"
	_, err = b.engine.Submit(b.ctx, req)
	require.NoError(t, err)
	_, err = b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev2", FlowID: "leave", Values: leave(1), Key: "conv-123"})
	require.NoError(t, err)
}

func TestDepartedUsersDoNotBlockTick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	gone := b.submit(t, "dev1", "leave", leave(1)) // dev1 will leave the company
	stays := b.submit(t, "dev2", "leave", leave(1))
	users, depts := testOrg()
	var kept []*flows.User
	for _, u := range users {
		if u.ID != "dev1" {
			kept = append(kept, u)
		}
	}
	require.NoError(t, b.store.ReplaceDirectory(b.ctx, kept, depts))

	res, err := b.engine.Tick(b.ctx, b.clock.Add(5*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, res.Reminded, "both requests' approvers are reminded")
	// The departed applicant's request can still be decided.
	out, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(gone)["cto"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(stays)["cto"].ID, Approve: true})
	require.NoError(t, err)
}

func TestNobodyApprovesTheirOwnRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := `
id: fb
name: {zh: 兜底, en: Fallback}
steps:
  - id: boss
    name: {zh: 上级, en: Boss}
    approvers: [{manager: 1}]
    on_empty: fallback
    fallback: [{role: admin}]
`
	_, _, err := b.engine.PublishFlow(b.ctx, "fb.yaml", []byte(src))
	require.NoError(t, err)
	// The CEO has no manager and is the only admin: the fallback finds only
	// himself, so the step is skipped rather than given to him.
	out := b.submit(t, "ceo", "fb", nil)
	require.Empty(t, pending(out))
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	// The CFO's manager is the CEO; with no manager the fallback applies.
	out = b.submit(t, "cfo", "fb", nil)
	require.Equal(t, []string{"ceo"}, keys(pending(out)))

	// Transfer to the applicant is refused and changes nothing.
	out = b.submit(t, "dev1", "leave", leave(1))
	before := snapshot(t, b)
	_, err = b.engine.Transfer(b.ctx, "cto", pending(out)["cto"].ID, "dev1", "you decide")
	var fe *flows.Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, flows.CodeInvalid, fe.Code)
	require.Contains(t, fe.Message("zh-CN"), "申请人不能审批自己的申请")
	require.Equal(t, before, snapshot(t, b))
}

func TestAnyStepDecidedWhileASignerWaits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "anyfin", nil)
	// fin1 asks the CFO to look first; meanwhile fin2 approves: the step is
	// decided, the CFO's and fin1's tasks end.
	out, err := b.engine.AddSigner(b.ctx, "fin1", pending(out)["fin1"].ID, "cfo", flows.SignBefore, "budget?")
	require.NoError(t, err)
	require.Equal(t, []string{"cfo", "fin2"}, keys(pending(out)))
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "fin2", TaskID: pending(out)["fin2"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	for _, tk := range out.Tasks {
		require.False(t, tk.Open(), "task of %s still open", tk.Assignee)
	}
	// The other way round: the signer approves and hands back to fin1.
	out = b.submit(t, "dev1", "anyfin", nil)
	out, err = b.engine.AddSigner(b.ctx, "fin1", pending(out)["fin1"].ID, "cfo", flows.SignBefore, "")
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cfo", TaskID: pending(out)["cfo"].ID, Approve: true})
	require.NoError(t, err)
	require.Equal(t, flows.StatusPending, out.Instance.Status)
	require.Equal(t, []string{"fin1", "fin2"}, keys(pending(out)))
}

func TestAnyTaskUnderFiftyClicks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "anyfin", nil)
	p := pending(out)
	var wg sync.WaitGroup
	var wins atomic.Int32
	msgs := make(chan string, 50)
	for i := range 50 { // both finance approvers click, 25 times each
		id := []string{"fin1", "fin2"}[i%2]
		wg.Go(func() {
			_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: id, TaskID: p[id].ID, Approve: true})
			if err == nil {
				wins.Add(1)
				return
			}
			var fe *flows.Error
			if !errorAs(err, &fe) || fe.Code != flows.CodeConflict {
				t.Errorf("unexpected error: %v", err)
				return
			}
			msgs <- fe.Message("zh-CN")
		})
	}
	wg.Wait()
	close(msgs)
	require.Equal(t, int32(1), wins.Load())
	n := 0
	for m := range msgs {
		n++
		require.Regexp(t, `已由 (张会计|赵出纳) 处理（已同意）`, m)
	}
	require.Equal(t, 49, n)
	all, err := b.store.Outbox(b.ctx, flows.OutboxPending, 1000)
	require.NoError(t, err)
	approved := 0
	for _, m := range all {
		if m.InstanceID == out.Instance.ID && m.Kind == flows.MsgApproved {
			approved++
		}
	}
	require.Equal(t, 1, approved, "one outcome, one message")
}

func TestTimeoutAutoRejectIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := `
id: strict
name: {zh: 限时, en: Strict}
steps:
  - id: boss
    name: {zh: 上级, en: Boss}
    approvers: [{manager: 1}]
    deadline: {timeout_after: 24h, on_timeout: reject}
`
	_, _, err := b.engine.PublishFlow(b.ctx, "strict.yaml", []byte(src))
	require.NoError(t, err)
	out := b.submit(t, "dev1", "strict", nil)
	res, err := b.engine.Tick(b.ctx, b.clock.Add(23*time.Hour))
	require.NoError(t, err)
	require.Zero(t, res.TimedOut)
	res, err = b.engine.Tick(b.ctx, b.clock.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, res.TimedOut)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Equal(t, flows.StatusRejected, v.Instance.Status)
	var rejected *flows.Event
	for _, ev := range v.Events {
		if ev.Type == flows.EvRejected {
			rejected = ev
		}
	}
	require.NotNil(t, rejected)
	require.True(t, rejected.Auto, "an automatic rejection is marked as such")
	require.Equal(t, flows.System, rejected.Actor)
}

func TestUrgeWaitIsInMinutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", "leave", leave(1))
	_, err := b.engine.Urge(b.ctx, "dev1", out.Instance.ID)
	require.NoError(t, err)
	b.clock.Add(time.Hour - 15*time.Second)
	_, err = b.engine.Urge(b.ctx, "dev1", out.Instance.ID)
	var fe *flows.Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "刚催办过，请 1 分钟后再试。", fe.Message("zh-CN"))
	require.Equal(t, "You urged recently; try again in 1 min.", fe.Message("en"))
}

// conflictOnce makes the first UpdateInstance of every operation lose the
// optimistic race, as a concurrent writer on another replica would.
type conflictOnce struct {
	flows.Store
	armed atomic.Bool
}

func (s *conflictOnce) Update(ctx context.Context, fn func(tx flows.Tx) error) error {
	return s.Store.Update(ctx, func(tx flows.Tx) error { return fn(&conflictTx{Tx: tx, s: s}) })
}

type conflictTx struct {
	flows.Tx
	s *conflictOnce
}

func (t *conflictTx) UpdateInstance(in *flows.Instance) error {
	if t.s.armed.CompareAndSwap(true, false) {
		return flows.ErrConflict
	}
	return t.Tx.UpdateInstance(in)
}

func TestLostRaceIsRetriedWhole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cs := &conflictOnce{Store: b.store}
	e := flows.New(flows.Config{Store: cs, Clock: b.clock})
	decide := func(conflict bool) (*flows.Outcome, [3]int) {
		out, err := e.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "leave", Values: leave(1)})
		require.NoError(t, err)
		cs.armed.Store(conflict)
		before := snapshot(t, b)
		out, err = e.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
		require.NoError(t, err, "a lost race is retried")
		require.False(t, cs.armed.Load(), "the conflict happened")
		after := snapshot(t, b)
		return out, [3]int{after[0] - before[0], after[1] - before[1], after[2] - before[2]}
	}
	_, plain := decide(false)
	out, raced := decide(true)
	require.Equal(t, flows.StatusApproved, out.Instance.Status)
	require.Equal(t, plain, raced, "a retried operation writes exactly what one clean attempt writes")
	require.Positive(t, plain[0])
}

func errorAs(err error, target any) bool { return errors.As(err, target) }
