package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sharedDeployment starts two replicas sharing a fresh database, a Redis
// prefix and the Feishu fake. The second starts once the first has
// migrated the schema and imported the example company.
func sharedDeployment(t *testing.T, remindAfter string) (*loadGen, *feishuFake, []*replica) {
	pgURL, pool := freshPostgres(t)
	prefix := redisPrefix(t)
	fake := newFeishuFake(t)
	cfg := replicaConfig(pgURL, prefix, flowDir(t, remindAfter), feishuOnlyOrg(t), fake.config())
	a := startReplica(t, "replica-a", cfg)
	b := startReplica(t, "replica-b", cfg)
	l := &loadGen{t: t, pool: pool, replicas: []*replica{a, b}}
	return l, fake, []*replica{a, b}
}

func TestReplicasShareTheWork(t *testing.T) {
	t.Parallel()
	l, fake, _ := sharedDeployment(t, "3s")
	l.target, l.concurrentDups = 2000, true
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	start := time.Now()
	l.run(ctx)
	require.NoError(t, ctx.Err(), "load did not finish in time")
	t.Logf("%d events (%d acknowledged) in %s, %d requests", l.events.Load(), l.acked.Load(), time.Since(start).Round(time.Millisecond), len(l.cycles))
	require.GreaterOrEqual(t, l.events.Load(), int64(2000))
	require.Equal(t, l.events.Load(), l.acked.Load(), "every event answered 200")

	l.waitLeftReminded(t, 30*time.Second)
	waitOutboxDrained(t, l.pool, 60*time.Second)
	l.checkStates(t)
	reminders := checkReminders(t, l.pool)
	total, distinct, _ := checkDeliveries(t, l.pool, fake, time.Time{}) // no replica died: no resend
	t.Logf("Feishu: %d message create calls, %d distinct uuids, %d messages shown; %d reminders", total, distinct, len(fake.Messages()), reminders)
	require.Equal(t, distinct, total, "every message created exactly once")
	requireCardUpdatesDrained(t, l.pool, 20*time.Second)
}

func TestReplicaKilledMidLoad(t *testing.T) {
	t.Parallel()
	l, fake, rs := sharedDeployment(t, "2s")
	l.target, l.tolerate = 900, true
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(ctx)
	}()
	// Kill replica b with SIGKILL in the middle of the load.
	eventually(t, 60*time.Second, "first half of the load", func() (bool, string) {
		return l.events.Load() >= l.target*2/5, "events sent"
	})
	killedAt := time.Now()
	l.drop(rs[1])
	rs[1].kill()
	require.False(t, rs[1].alive())
	deadAt := time.Now() // nothing created after this was claimed by the killed replica
	<-done
	require.NoError(t, ctx.Err(), "load did not finish in time")
	t.Logf("%d events, %d acknowledged, %d refused or cut by the kill, settled by %d redeliveries and %d repeats by the user, %d requests",
		l.events.Load(), l.acked.Load(), l.refused.Load(), l.redelivered.Load(), l.repeated.Load(), len(l.cycles))

	tasks := l.waitLeftReminded(t, 30*time.Second)
	waitOutboxDrained(t, l.pool, 60*time.Second)
	l.checkStates(t)
	checkReminders(t, l.pool)
	after := count(t, l.pool, `SELECT count(*) FROM outbox WHERE kind = 'reminder' AND created_at > $1`, killedAt.Add(2*time.Second))
	require.Positive(t, after, "no reminder after the kill: the survivor did not take over the scheduler (%d undecided tasks)", len(tasks))
	total, distinct, resent := checkDeliveries(t, l.pool, fake, deadAt)
	t.Logf("Feishu: %d message create calls, %d distinct uuids (%d resent after the crash, same uuid), %d shown; %d reminders after the kill",
		total, distinct, resent, len(fake.Messages()), after)
	code, body := rs[0].get("/readyz")
	require.Equal(t, 200, code, "survivor /readyz: %s", body)
	requireCardUpdatesDrained(t, l.pool, 20*time.Second)
}
