// Package schedule turns time into work: it calls the engine's Tick for
// reminders, escalations and timeouts (default every 30 s), sends each
// manager a daily digest at 09:00 in the manager's own time zone, and
// sends admins a monthly process-health report. Digests and reports are
// written to the outbox as MsgText messages, so the notifier delivers them
// with its retries.
//
// With several replicas each job runs only on the replica holding its
// lock (bots.Locker, "flowbot:job:<name>"). The lease (LockTTL) is renewed
// every LockTTL/3 while the job runs; when a renewal fails the job's
// context is cancelled, so a job never runs on two replicas at once. A
// failing lock store (Redis down) is logged once at WARN, its recovery
// once at INFO; meanwhile no job runs.
//
// A bots.Deduper key per recipient and local date ("digest:<user>:<date>")
// skips digests already sent; the database has the last word: the key is
// numbered (Tx.NextNumber "sent:<key>") in the transaction that enqueues
// the message, so nobody gets a digest or report twice even when Redis
// restarts empty. Each job keeps its last run (in the StateStore when
// given): a recipient is due when their latest local scheduled time lies
// between the last run and now, so RunDue after a clock jump (the
// playground's "+1 day") sends exactly the digests that became due; of
// several missed days only the latest digest is sent. Without a last run
// (a fresh or emptied Redis) only the CatchUp window is looked at, so a
// digest due during a longer outage of Redis is skipped: run Redis with
// appendonly to keep the last runs.
//
// It owns cron expressions and digest texts, not due times (those live in
// the store). It imports bots and flows (flows/flowstats) only.
package schedule
