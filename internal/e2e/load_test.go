package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
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
	// redelivered counts the events sent again after a refusal or a cut
	// (same id), and repeated counts the user's repeats (new id) when the
	// redelivery was dropped as a duplicate held by the killed replica.
	redelivered atomic.Int64
	repeated    atomic.Int64
	nextK       atomic.Int64
	killed      atomic.Bool

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

// sendFunc sends one event with id to r.
type sendFunc func(r *replica, id string) (reply, error)

// try sends one event to r and reports whether it was acknowledged (200).
func (l *loadGen) try(r *replica, what, id string, do sendFunc) (reply, bool) {
	l.events.Add(1)
	rp, err := do(r, id)
	// 503 asks the platform to deliver the event again later (e.g. its
	// duplicate is still being handled on the other replica): do as a
	// platform does, with the same id, for up to 15 s (a platform goes on
	// for hours; on a loaded 2-core CI machine under the race detector a
	// handler holding the duplicate has taken over 4 s).
	for n := 0; err == nil && rp.Status == http.StatusServiceUnavailable && n < 150; n++ {
		time.Sleep(100 * time.Millisecond)
		l.redelivered.Add(1)
		rp, err = do(r, id)
	}
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

// deliver sends one event to r; when it is refused or cut (tolerate: a
// replica was killed) it is settled on the live replicas.
func (l *loadGen) deliver(ctx context.Context, r *replica, what, id string, do sendFunc) (reply, bool) {
	rp, ok := l.try(r, what, id, do)
	if ok || !l.tolerate {
		return rp, ok
	}
	return l.settle(ctx, what, id, do)
}

// empty reports whether rp is the bot's answer to a dropped duplicate.
func (rp reply) empty() bool {
	return len(rp.Messages) == 0 && rp.Toast == "" && rp.Updated == nil && rp.Error == ""
}

// settle gets a refused or cut event handled the way the platform and the
// user would: the platform redelivers it (same id) to a live replica; an
// empty answer means the id is still held by the killed replica, which may
// or may not have handled it, so the user repeats the action (new id).
func (l *loadGen) settle(ctx context.Context, what, id string, do sendFunc) (reply, bool) {
	repeat := 0
	for attempt := 0; attempt < 30 && ctx.Err() == nil; attempt++ {
		rs := l.live()
		if len(rs) == 0 {
			break
		}
		r, eid := rs[attempt%len(rs)], id
		if repeat > 0 {
			eid = fmt.Sprintf("%s-again-%d", id, repeat)
			l.repeated.Add(1)
		} else {
			l.redelivered.Add(1)
		}
		rp, err := do(r, eid)
		switch {
		case err == nil && rp.Status == 200 && !rp.empty():
			l.acked.Add(1)
			return rp, true
		case err == nil && rp.Status == 200:
			repeat++ // dropped as a duplicate: the user clicks again
		default:
			time.Sleep(250 * time.Millisecond) // back off before the next redelivery
		}
	}
	l.t.Errorf("%s (event %s): not handled by a live replica after redeliveries", what, id)
	return reply{}, false
}

// deliverTwice delivers the same event (same id) to two replicas, the way
// a platform redelivers; the answer kept is the one that was not dropped
// as a duplicate. When neither copy got through it is settled.
func (l *loadGen) deliverTwice(ctx context.Context, rs []*replica, what, id string, do sendFunc) (reply, bool) {
	if len(rs) < 2 {
		return l.deliver(ctx, rs[0], what, id, do)
	}
	var rps [2]reply
	var oks [2]bool
	if l.concurrentDups {
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() { rps[i], oks[i] = l.try(rs[i], what+" (copy "+strconv.Itoa(i)+")", id, do) })
		}
		wg.Wait()
	} else {
		rps[0], oks[0] = l.try(rs[0], what, id, do)
		rps[1], oks[1] = l.try(rs[1], what+" (redelivery)", id, do)
	}
	for i := range 2 {
		if oks[i] && !rps[i].empty() {
			return rps[i], true
		}
	}
	if !oks[0] && !oks[1] && l.tolerate {
		return l.settle(ctx, what, id, do)
	}
	return rps[0], oks[0] || oks[1]
}

// doubleClick sends two clicks (two event ids) to two replicas at once and
// reports whether one was acknowledged; either answer with content is kept.
func (l *loadGen) doubleClick(ctx context.Context, rs []*replica, what, id string, do sendFunc) (reply, bool) {
	var rps [2]reply
	var oks [2]bool
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			rps[i], oks[i] = l.deliver(ctx, rs[i%len(rs)], what+" (double click)", id+"-"+strconv.Itoa(i+1), do)
		})
	}
	wg.Wait()
	for i := range 2 {
		if oks[i] && !rps[i].empty() {
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
		if l.submit(ctx, c) {
			l.decide(ctx, c)
		}
	}
}

// submit files the claim: "/expense amount=.. category=.. description=.."
// then a click on the summary card's submit button.
func (l *loadGen) submit(ctx context.Context, c *cycle) bool {
	rs := l.pick(c.k)
	if rs == nil {
		return false
	}
	text := fmt.Sprintf("/expense amount=%d category=travel description=%s", 100+c.k%900, c.description())
	send := func(r *replica, id string) (reply, error) {
		return r.send(ctx, c.applicant, id, text)
	}
	var rp reply
	var ok bool
	sendID := fmt.Sprintf("e2e-%d-send", c.k)
	if c.k%4 == 0 && !l.plain {
		rp, ok = l.deliverTwice(ctx, rs, "send", sendID, send)
	} else {
		rp, ok = l.deliver(ctx, rs[0], "send", sendID, send)
	}
	if !ok {
		return false
	}
	val, found := rp.button("submit")
	if !found {
		l.t.Errorf("cycle %d: no submit button in the answer to %q: %s", c.k, text, rp.text())
		return false
	}
	click := func(r *replica, id string) (reply, error) {
		return r.action(ctx, c.applicant, id, "submit", val, nil)
	}
	rs = l.pick(c.k + 1)
	if rs == nil {
		return false
	}
	clickID := fmt.Sprintf("e2e-%d-submit", c.k)
	var sub reply // the answer to the submit click
	switch {
	case l.plain:
		sub, ok = l.deliver(ctx, rs[0], "submit", clickID, click)
	case c.k%4 == 1: // the platform delivers the click twice
		sub, ok = l.deliverTwice(ctx, rs, "submit", clickID, click)
	case c.k%4 == 2: // the applicant double-clicks Submit
		sub, ok = l.doubleClick(ctx, rs, "submit", clickID, click)
	default:
		sub, ok = l.deliver(ctx, rs[0], "submit", clickID, click)
	}
	c.submitAcked = ok
	if !ok {
		return false
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// By the cycle's own description, not by "newer than the applicant's
	// last request": ids are taken ahead in blocks per replica's batch
	// transaction, so a request filed later on one replica can have a
	// smaller id than one filed earlier on the other.
	err := l.pool.QueryRow(qctx, `SELECT i.id, t.id FROM instances i JOIN tasks t ON t.instance_id = i.id
		WHERE i.applicant = $1 AND convert_from(i.form, 'UTF8')::jsonb->>'description' = $2`,
		c.applicant, c.description()).Scan(&c.instanceID, &c.taskID)
	if err != nil {
		l.t.Errorf("cycle %d: acknowledged submit of %s (event %s, answered %q) left no request: %v", c.k, c.applicant, clickID, sub.text(), err)
		return false
	}
	return true
}

// description is the claim's description, unique to the cycle.
func (c *cycle) description() string { return "e2e-" + strconv.Itoa(c.k) }

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
	click := func(r *replica, id string) (reply, error) {
		return r.action(ctx, assignee, id, action, value, inputs)
	}
	rs := l.pick(c.k + rand.IntN(2))
	if rs == nil {
		return
	}
	id := fmt.Sprintf("e2e-%d-%s", c.k, action)
	if c.k%3 != 0 || len(rs) < 2 || l.plain {
		_, c.decideAcked = l.deliver(ctx, rs[0], action, id, click)
		return
	}
	_, c.decideAcked = l.doubleClick(ctx, rs, action, id, click)
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
		// Refused and cut events were settled, so every decision taken
		// was acknowledged in the end.
		if got != want[c.plan] || (c.plan != planLeave && !c.decideAcked) {
			bad++
			if bad <= 10 {
				t.Errorf("cycle %d (%s, plan %d, decision acked %v): request %d is %q, want %q",
					c.k, c.applicant, c.plan, c.decideAcked, c.instanceID, got, want[c.plan])
			}
		}
	}
	require.Zero(t, bad, "requests not in the state their events imply")
	require.Len(t, status, acked, "got %d requests, want one per acknowledged submit (%d): a duplicate delivery or a double click filed twice?", len(status), acked)
	require.Zero(t, count(t, l.pool, `SELECT count(*) FROM (SELECT convert_from(form, 'UTF8')::jsonb->>'description' d
		FROM instances GROUP BY d HAVING count(*) > 1) x`), "a claim filed twice (same description)")
	// One task per request, and at most one outcome message per request.
	require.Zero(t, count(t, l.pool, `SELECT count(*) FROM (SELECT instance_id FROM tasks GROUP BY instance_id HAVING count(*) <> 1) x`),
		"a request with more or fewer than one task")
	require.Zero(t, count(t, l.pool, `SELECT count(*) FROM (SELECT instance_id, kind FROM outbox
		WHERE kind IN ('approved', 'rejected', 'submitted', 'task') GROUP BY instance_id, kind HAVING count(*) > 1) x`),
		"an outcome written twice (double click or duplicate delivery decided twice)")
	require.Equal(t, count(t, l.pool, `SELECT count(*) FROM instances WHERE status = 'approved'`),
		count(t, l.pool, `SELECT count(*) FROM outbox WHERE kind = 'approved'`), "one approved message per approved request")
}

// checkDeliveries checks each delivered outbox message against the
// Feishu create calls, counted before the fake de-duplicates them by uuid:
// each message was created at least once and is shown once; every create
// call carries the uuid of a delivered outbox message (so a message never
// went out under two uuids, nor without one) and one recipient; and a
// message was created more than once (a same-uuid resend, which Feishu
// swallows) only if it was created before resendsUntil, when a replica
// was killed (zero: never). It returns the create calls, the distinct
// uuids and the resent uuids.
func checkDeliveries(t testing.TB, pool *pgxpool.Pool, fake *feishuFake, resendsUntil time.Time) (total, distinct, resent int) {
	t.Helper()
	require.Zero(t, count(t, pool, `SELECT count(*) FROM outbox WHERE status = 'failed'`), "failed outbox messages")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Replies into a chat (and confirmations of requests filed in chat) are
	// sent with the plain outbox key; messages to a person with the key of
	// the platform they go to.
	rows, err := pool.Query(ctx, `SELECT id, created_at, kind = 'reply' OR coalesce(convert_from(data, 'UTF8'), '') LIKE '%"reply_to"%' FROM outbox
		WHERE status = 'delivered' AND kind NOT IN ('card_update', 'http')
		AND NOT ((kind = 'reply' OR coalesce(convert_from(data, 'UTF8'), '') LIKE '%"reply_to"%') AND convert_from(data, 'UTF8') NOT LIKE '%"Platform":"feishu"%')`)
	require.NoError(t, err)
	type msg struct {
		id      int64
		created time.Time
	}
	want := map[string]msg{}
	for rows.Next() {
		var m msg
		var inChat bool
		require.NoError(t, rows.Scan(&m.id, &m.created, &inChat))
		if inChat {
			want[replyUUID(m.id)] = m
		} else {
			want[outboxUUID(m.id)] = m
		}
	}
	require.NoError(t, rows.Err())
	calls, recipients := fake.creates.snapshot()
	shown := map[string]int{}
	for _, m := range fake.Messages() {
		shown[m.UUID]++
	}
	var missing, unknown, forked, badResend int
	for u, m := range want {
		switch {
		case calls[u] == 0:
			missing++
			if missing <= 5 {
				t.Errorf("outbox message %d is delivered but no Feishu create call has its uuid", m.id)
			}
		case shown[u] != 1:
			missing++
			t.Errorf("outbox message %d: Feishu shows it %d times, want 1", m.id, shown[u])
		case calls[u] > 1 && (resendsUntil.IsZero() || !m.created.Before(resendsUntil)):
			badResend++
			if badResend <= 5 {
				t.Errorf("outbox message %d (created %s) was created %d times on Feishu; only a message claimed by the killed replica may be resent",
					m.id, m.created.Format(time.RFC3339Nano), calls[u])
			}
		}
	}
	for u, n := range calls {
		total += n
		distinct++
		if n > 1 {
			resent++
		}
		if _, ok := want[u]; !ok {
			unknown++
			if unknown <= 5 {
				t.Errorf("%d Feishu create call(s) with uuid %q of no delivered outbox message", n, u)
			}
		}
		if recipients[u] != 1 {
			forked++
			t.Errorf("uuid %q was sent to %d recipients", u, recipients[u])
		}
	}
	require.Zero(t, missing+unknown+forked+badResend,
		"Feishu create calls vs delivered outbox messages: %d missing or not shown once, %d unknown uuids, %d uuids to several recipients, %d resends not explained by the kill (of %d)",
		missing, unknown, forked, badResend, len(want))
	return total, distinct, resent
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
