-- 0014: outbox_status (status, id) took one index entry per message
-- inserted and one more at each claim, delivery and retry, for the
-- outbox page's list by status only. Pending messages are listed through
-- outbox_pending_next, delivered ones (nearly all) by a backward scan of
-- the primary key; failed ones, few among many, get a partial index.
-- Checked with EXPLAIN on 200,000 messages (docs/BENCHMARKS.md).

DROP INDEX IF EXISTS outbox_status;
CREATE INDEX outbox_failed ON outbox(id) WHERE status = 'failed';
