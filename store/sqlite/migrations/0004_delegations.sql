-- 0004: delegations. A task given to a delegate remembers whom it stands
-- in for; delegations are kept (ended early ones too) for the audit trail.

ALTER TABLE tasks ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT '';

CREATE TABLE delegations (
	id         INTEGER PRIMARY KEY,
	from_user  TEXT NOT NULL,
	to_user    TEXT NOT NULL,
	start_at   INTEGER NOT NULL,
	end_at     INTEGER NOT NULL,
	source     TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	ended_at   INTEGER
);
CREATE INDEX delegations_from ON delegations(from_user, end_at) WHERE ended_at IS NULL;
