-- 0010: directory sync from the chat platforms. Users get a mobile number
-- (only used to match one person across platforms) and a departed flag
-- (kept for the audit trail, never given new tasks). A sync in progress
-- keeps its cursor and what it has fetched so far per source, so a crash
-- resumes where it stopped. A user's preferred platform survives directory
-- replacement (it is not a column of users).

ALTER TABLE users ADD COLUMN mobile TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN departed INTEGER NOT NULL DEFAULT 0;

CREATE TABLE directory_sync (
	source     TEXT PRIMARY KEY,
	cursor     TEXT NOT NULL,
	data       BLOB NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE user_prefs (
	user_id  TEXT PRIMARY KEY,
	platform TEXT NOT NULL
) WITHOUT ROWID;
