-- 0012: who claimed an outbox message (as in the PostgreSQL store, whose
-- replicas tag their claims so that the next run of the same instance can
-- release what a killed run held). SQLite is used by one process, which
-- releases every claim of its predecessor at start (release.go): the
-- columns are kept for the two schemas to stay alike and stay empty here.

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_run TEXT;
