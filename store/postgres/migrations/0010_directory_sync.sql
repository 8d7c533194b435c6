-- 0010: directory sync from the chat platforms. Users get a mobile number
-- (only used to match one person across platforms) and a departed flag
-- (kept for the audit trail, never given new tasks). A sync in progress
-- keeps its cursor and what it has fetched so far per source, so a crash
-- resumes where it stopped. A user's preferred platform survives directory
-- replacement (it is not a column of users).

ALTER TABLE users ADD COLUMN mobile text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN departed boolean NOT NULL DEFAULT false;

CREATE TABLE directory_sync (
	source     text PRIMARY KEY,
	cursor     text NOT NULL,
	data       bytea NOT NULL,
	updated_at timestamptz NOT NULL
);

CREATE TABLE user_prefs (
	user_id  text PRIMARY KEY,
	platform text NOT NULL
);
