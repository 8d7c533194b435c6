package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// applicants of the example company who have a manager (wangzong has
// none, so his expense claim has no approver).
var applicants = []string{"sunli", "lilei", "hanmeimei", "zhangwei", "tom", "zhaomin", "liuyang", "emily", "chenjing", "zhoufang", "wuqiang"}

type plan int

const (
	planApprove plan = iota
	planReject
	planLeave // left undecided: reminded after the flow's remind_after
)

// cycle is one expense claim: submit (message + summary card click), then
// a decision on its task.
type cycle struct {
	k           int
	applicant   string
	plan        plan
	submitAcked bool // the submit click was answered 200
	instanceID  int64
	taskID      int64
	decideAcked bool // a decision click was answered 200
	afterKill   bool // started after a replica was killed
}

// loadGen drives applicants through the playground API of live replicas.
type loadGen struct {
	t    testing.TB
	pool *pgxpool.Pool
	// target is how many HTTP events to send in all (duplicates included).
	target int64
	// concurrentDups delivers duplicate events to two replicas at once;
	// otherwise the duplicate follows the first answer.
	concurrentDups bool
	// tolerate transport errors and non-200 answers (a replica is killed).
	tolerate bool
	// plain: no duplicates, double clicks, rejections or undecided
	// requests (benchmarks).
	plain bool

	events  atomic.Int64
	acked   atomic.Int64
	refused atomic.Int64
	nextK   atomic.Int64
	killed  atomic.Bool

	mu       sync.Mutex
	replicas []*replica
	cycles   []*cycle
}

func (l *loadGen) live() []*replica {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.replicas)
}

// drop stops sending to r (it is about to be killed).
func (l *loadGen) drop(r *replica) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.replicas = slices.DeleteFunc(l.replicas, func(x *replica) bool { return x == r })
	l.killed.Store(true)
}

// deliver sends one event through do to r and reports whether it was
// acknowledged (200).
func (l *loadGen) deliver(r *replica, what string, do func(r *replica) (reply, error)) (reply, bool) {
	l.events.Add(1)
	rp, err := do(r)
	if err == nil && rp.Status == 200 {
		l.acked.Add(1)
		return rp, true
	}
	l.refused.Add(1)
	if !l.tolerate {
		l.t.Errorf("%s on %s: status %d, err %v, error %q", what, r.name, rp.Status, err, rp.Error)
	}
	return rp, false
}

// deliverTwice delivers the same event (same id) to two replicas, the way
// a platform redelivers; the answer kept is the one that was not dropped
// as a duplicate.
func (l *loadGen) deliverTwice(rs []*replica, what string, do func(r *replica) (reply, error)) (reply, bool) {
	if len(rs) < 2 {
		return l.deliver(rs[0], what, do)
	}
	var rps [2]reply
	var oks [2]bool
	if l.concurrentDups {
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() { rps[i], oks[i] = l.deliver(rs[i], what+" (copy "+strconv.Itoa(i)+")", do) })
		}
		wg.Wait()
	} else {
		rps[0], oks[0] = l.deliver(rs[0], what, do)
		rps[1], oks[1] = l.deliver(rs[1], what+" (redelivery)", do)
	}
	for i := range 2 {
		if oks[i] && (len(rps[i].Messages) > 0 || rps[i].Toast != "" || rps[i].Updated != nil) {
			return rps[i], true
		}
	}
	return rps[0], oks[0] || oks[1]
}

// pick returns the live replicas rotated by k (first = where to send).
func (l *loadGen) pick(k int) []*replica {
	rs := l.live()
	if len(rs) == 0 {
		return nil
	}
	i := k % len(rs)
	return append(rs[i:], rs[:i]...)
}

// run runs one worker per applicant until target events were sent.
func (l *loadGen) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, a := range applicants {
		wg.Go(func() { l.worker(ctx, a) })
	}
	wg.Wait()
}

func (l *loadGen) worker(ctx context.Context, applicant string) {
	var lastInstance int64
	for l.events.Load() < l.target && ctx.Err() == nil {
		k := int(l.nextK.Add(1))
		c := &cycle{k: k, applicant: applicant, afterKill: l.killed.Load()}
		switch {
		case l.plain:
		case k%5 == 0:
			c.plan = planLeave
		case k%7 == 3:
			c.plan = planReject
		}
		l.mu.Lock()
		l.cycles = append(l.cycles, c)
		l.mu.Unlock()
		if id, ok := l.submit(ctx, c, lastInstance); ok {
			lastInstance = id
			l.decide(ctx, c)
		}
	}
}

// submit files the claim: "/expense amount=.. category=.. description=.."
// then a click on the summary card's submit button.
func (l *loadGen) submit(ctx context.Context, c *cycle, after int64) (int64, bool) {
	rs := l.pick(c.k)
	if rs == nil {
		return 0, false
	}
	text := fmt.Sprintf("/expense amount=%d category=travel description=e2e-%d", 100+c.k%900, c.k)
	send := func(r *replica) (reply, error) {
		return r.send(ctx, c.applicant, fmt.Sprintf("e2e-%d-send", c.k), text)
	}
	var rp reply
	var ok bool
	if c.k%4 == 0 && !l.plain {
		rp, ok = l.deliverTwice(rs, "send", send)
	} else {
		rp, ok = l.deliver(rs[0], "send", send)
	}
	if !ok {
		return 0, false
	}
	val, found := rp.button("submit")
	if !found {
		if !l.tolerate {
			l.t.Errorf("cycle %d: no submit button in the answer to %q: %s", c.k, text, rp.text())
		}
		return 0, false
	}
	click := func(r *replica) (reply, error) {
		return r.action(ctx, c.applicant, fmt.Sprintf("e2e-%d-submit", c.k), "submit", val, nil)
	}
	rs = l.pick(c.k + 1)
	if rs == nil {
		return 0, false
	}
	if c.k%4 == 1 && !l.plain {
		_, ok = l.deliverTwice(rs, "submit", click)
	} else {
		_, ok = l.deliver(rs[0], "submit", click)
	}
	c.submitAcked = ok
	if !ok {
		return 0, false
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := l.pool.QueryRow(qctx, `SELECT i.id, t.id FROM instances i JOIN tasks t ON t.instance_id = i.id
		WHERE i.applicant = $1 AND i.id > $2 ORDER BY i.id DESC LIMIT 1`, c.applicant, after).Scan(&c.instanceID, &c.taskID)
	if err != nil {
		l.t.Errorf("cycle %d: acknowledged submit of %s left no request: %v", c.k, c.applicant, err)
		return 0, false
	}
	return c.instanceID, true
}

// decide approves or rejects the task as its assignee; every third
// approval is double-clicked (two event ids, two replicas, at once).
func (l *loadGen) decide(ctx context.Context, c *cycle) {
	if c.plan == planLeave {
		return
	}
	var assignee string
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := l.pool.QueryRow(qctx, `SELECT assignee FROM tasks WHERE id = $1`, c.taskID).Scan(&assignee)
	cancel()
	if err != nil {
		l.t.Errorf("cycle %d: task %d: %v", c.k, c.taskID, err)
		return
	}
	action, inputs := "approve", map[string]string(nil)
	if c.plan == planReject {
		action, inputs = "reject", map[string]string{"comment": "e2e: not this time"}
	}
	value := map[string]string{"task": strconv.FormatInt(c.taskID, 10), "instance": strconv.FormatInt(c.instanceID, 10)}
	click := func(n int) func(r *replica) (reply, error) {
		return func(r *replica) (reply, error) {
			return r.action(ctx, assignee, fmt.Sprintf("e2e-%d-%s-%d", c.k, action, n), action, value, inputs)
		}
	}
	rs := l.pick(c.k + rand.IntN(2))
	if rs == nil {
		return
	}
	if c.k%3 != 0 || len(rs) < 2 || l.plain {
		_, c.decideAcked = l.deliver(rs[0], action, click(1))
		return
	}
	var wg sync.WaitGroup
	var oks [2]bool
	for i := range 2 {
		wg.Go(func() { _, oks[i] = l.deliver(rs[i], action+" (double click)", click(i+1)) })
	}
	wg.Wait()
	c.decideAcked = oks[0] || oks[1]
}

// checkStates checks that every request is in the state its acknowledged
// events imply, and that no decision was taken twice.
func (l *loadGen) checkStates(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status := map[int64]string{}
	rows, err := l.pool.Query(ctx, `SELECT id, status FROM instances`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		var s string
		require.NoError(t, rows.Scan(&id, &s))
		status[id] = s
	}
	require.NoError(t, rows.Err())
	want := map[plan]string{planApprove: "approved", planReject: "rejected", planLeave: "pending"}
	acked, bad := 0, 0
	for _, c := range l.cycles {
		if c.instanceID == 0 {
			continue
		}
		acked++
		got := status[c.instanceID]
		ok := got == want[c.plan] || (!c.decideAcked && got == "pending")
		if !ok {
			bad++
			if bad <= 10 {
				t.Errorf("cycle %d (%s, plan %d, decision acked %v): request %d is %q, want %q",
					c.k, c.applicant, c.plan, c.decideAcked, c.instanceID, got, want[c.plan])
			}
		}
	}
	require.Zero(t, bad, "requests not in the state their events imply")
	if !l.tolerate {
		require.Len(t, status, acked, "got %d requests, want one per acknowledged submit (%d): a duplicate delivery filed twice?", len(status), acked)
	} else {
		require.GreaterOrEqual(t, len(status), acked, "fewer requests than acknowledged submits")
	}
	// One task per request, and at most one outcome message per request.
	require.Zero(t, count(t, l.pool, `SELECT count(*) FROM (SELECT instance_id FROM tasks GROUP BY instance_id HAVING count(*) <> 1) x`),
		"a request with more or fewer than one task")
	require.Zero(t, count(t, l.pool, `SELECT count(*) FROM (SELECT instance_id, kind FROM outbox
		WHERE kind IN ('approved', 'rejected', 'submitted', 'task') GROUP BY instance_id, kind HAVING count(*) > 1) x`),
		"an outcome written twice (double click or duplicate delivery decided twice)")
	require.Equal(t, count(t, l.pool, `SELECT count(*) FROM instances WHERE status = 'approved'`),
		count(t, l.pool, `SELECT count(*) FROM outbox WHERE kind = 'approved'`), "one approved message per approved request")
}

// checkDeliveries checks that each outbox message was shown exactly once
// on Feishu and none failed; it returns the create calls (retries
// included) and the distinct uuids.
func checkDeliveries(t testing.TB, pool *pgxpool.Pool, fake *feishuFake) (total, distinct int) {
	t.Helper()
	require.Zero(t, count(t, pool, `SELECT count(*) FROM outbox WHERE status = 'failed'`), "failed outbox messages")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := pool.Query(ctx, `SELECT id FROM outbox WHERE status = 'delivered' AND kind NOT IN ('card_update', 'http')`)
	require.NoError(t, err)
	want := map[string]int64{}
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		want[outboxUUID(id)] = id
	}
	require.NoError(t, rows.Err())
	shown := map[string]int{}
	for _, m := range fake.Messages() {
		shown[m.UUID]++
	}
	missing, extra, twice := 0, 0, 0
	for u, id := range want {
		switch shown[u] {
		case 1:
		case 0:
			missing++
			if missing <= 5 {
				t.Errorf("outbox message %d is delivered but no Feishu message has its uuid", id)
			}
		default:
			twice++
		}
	}
	for u := range shown {
		if _, ok := want[u]; !ok {
			extra++
			if extra <= 5 {
				t.Errorf("Feishu shows a message (uuid %q) of no delivered outbox message", u)
			}
		}
	}
	require.Zero(t, missing+extra+twice, "Feishu messages vs delivered outbox messages: %d missing, %d extra, %d shown twice (of %d)", missing, extra, twice, len(want))
	for _, n := range fake.creates.snapshot() {
		total += n
		distinct++
	}
	return total, distinct
}

// checkReminders checks one reminder per due task: each task's reminder
// count equals its reminder messages, and is at most one (the flow has no
// remind_every).
func checkReminders(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	require.Zero(t, count(t, pool, `SELECT count(*) FROM tasks t WHERE t.reminders > 1 OR t.reminders <>
		(SELECT count(*) FROM outbox o WHERE o.task_id = t.id AND o.kind = 'reminder')`),
		"a task reminded more than once, or reminders and reminder messages disagree")
	return count(t, pool, `SELECT count(*) FROM outbox WHERE kind = 'reminder'`)
}

// waitLeftReminded waits until every request left undecided was reminded.
func (l *loadGen) waitLeftReminded(t testing.TB, timeout time.Duration) []int64 {
	t.Helper()
	var tasks []int64
	for _, c := range l.cycles {
		if c.plan == planLeave && c.taskID != 0 {
			tasks = append(tasks, c.taskID)
		}
	}
	require.NotEmpty(t, tasks, "no request was left undecided: reminders untested")
	eventually(t, timeout, "every undecided task reminded", func() (bool, string) {
		n := count(t, l.pool, `SELECT count(*) FROM tasks WHERE id = ANY($1) AND reminders = 0`, tasks)
		return n == 0, fmt.Sprintf("%d of %d not reminded", n, len(tasks))
	})
	return tasks
}
