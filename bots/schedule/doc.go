// Package schedule turns time into work: it calls the engine's Tick for
// reminders, escalations and timeouts (default every 30 s), sends each
// manager a daily digest at 09:00 in the manager's own time zone, and
// sends admins a monthly process-health report. Digests and reports are
// written to the outbox as MsgText messages, so the notifier delivers them
// with its retries.
//
// With several replicas each job runs only on the replica holding its
// lock (bots.Locker, "flowbot:job:<name>"), and a bots.Deduper key per
// recipient and local date ("digest:<user>:<date>") makes sure nobody gets
// a digest twice, even across restarts. Each job keeps its last run (in
// the StateStore when given): a recipient is due when their latest local
// scheduled time lies between the last run and now, so RunDue after a
// clock jump (the playground's "+1 day") sends exactly the digests that
// became due; of several missed days only the latest digest is sent.
//
// It owns cron expressions and digest texts, not due times (those live in
// the store). It imports bots and flows (flows/flowstats) only.
package schedule
