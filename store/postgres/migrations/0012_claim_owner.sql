-- 0012: who claimed an outbox message. A process tags its claims with its
-- instance (stable across restarts of one replica) and its run (new at
-- every start); the next run of the same instance releases at start what
-- an earlier, killed run had claimed, instead of waiting out the lease.
-- Cleared when the message is delivered, retried or failed.

ALTER TABLE outbox ADD COLUMN claimed_by text;
ALTER TABLE outbox ADD COLUMN claimed_run text;
