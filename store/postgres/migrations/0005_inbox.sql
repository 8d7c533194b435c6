-- 0005: the inbox. An event an adapter acknowledged to its platform before
-- the bot finished it (a click answered "processing") is kept here until
-- its handler returns; what a crash left is replayed after due_at.

CREATE TABLE inbox (
	key      text PRIMARY KEY,
	event    bytea NOT NULL,
	due_at   timestamptz NOT NULL,
	attempts integer NOT NULL DEFAULT 0,
	kept_at  timestamptz NOT NULL
);
CREATE INDEX inbox_due ON inbox(due_at);
