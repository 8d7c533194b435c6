-- 0001: the whole flowbot schema. Times are INTEGER unix milliseconds (UTC).
-- Every index costs a page write per commit on the hot path (submit,
-- decide): add one only for a query that would otherwise scan a big table.

CREATE TABLE sequences (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE flows (
	id      TEXT PRIMARY KEY,
	latest  INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE flow_versions (
	flow_id    TEXT NOT NULL REFERENCES flows(id),
	version    INTEGER NOT NULL,
	source     BLOB NOT NULL,
	hash       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (flow_id, version)
) WITHOUT ROWID;

CREATE TABLE instances (
	id           INTEGER PRIMARY KEY,
	number       TEXT NOT NULL,
	flow_id      TEXT NOT NULL,
	flow_version INTEGER NOT NULL,
	applicant    TEXT NOT NULL,
	status       TEXT NOT NULL,
	form         BLOB,
	step_index   INTEGER NOT NULL,
	step_id      TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	closed_at    INTEGER,
	last_urge_at INTEGER,
	rev          INTEGER NOT NULL
);
CREATE UNIQUE INDEX instances_number ON instances(number) WHERE number <> '';
CREATE INDEX instances_applicant ON instances(applicant, created_at);
CREATE INDEX instances_created ON instances(created_at);

CREATE TABLE tasks (
	id          INTEGER PRIMARY KEY,
	instance_id INTEGER NOT NULL REFERENCES instances(id),
	step_id     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	assignee    TEXT NOT NULL,
	status      TEXT NOT NULL,
	comment     TEXT NOT NULL,
	decided_by  TEXT NOT NULL,
	auto        INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	started_at  INTEGER,
	decided_at  INTEGER,
	remind_at   INTEGER,
	escalate_at INTEGER,
	timeout_at  INTEGER,
	due_at      INTEGER,
	reminders   INTEGER NOT NULL,
	escalated   INTEGER NOT NULL,
	from_user   TEXT NOT NULL,
	note        TEXT NOT NULL
);
CREATE INDEX tasks_instance ON tasks(instance_id);
CREATE INDEX tasks_assignee ON tasks(assignee, status);
CREATE INDEX tasks_due ON tasks(due_at) WHERE status = 'pending';

CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	instance_id INTEGER NOT NULL,
	task_id     INTEGER NOT NULL,
	flow_id     TEXT NOT NULL,
	step_id     TEXT NOT NULL,
	type        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	auto        INTEGER NOT NULL,
	data        BLOB,
	at          INTEGER NOT NULL
);
CREATE INDEX events_instance ON events(instance_id);
CREATE INDEX events_at ON events(at);

CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY,
	kind         TEXT NOT NULL,
	recipient    TEXT NOT NULL,
	instance_id  INTEGER NOT NULL,
	task_id      INTEGER NOT NULL,
	step_id      TEXT NOT NULL,
	data         BLOB,
	status       TEXT NOT NULL,
	attempts     INTEGER NOT NULL,
	next_at      INTEGER NOT NULL,
	last_error   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	delivered_at INTEGER
);
CREATE INDEX outbox_status_next ON outbox(status, next_at);

CREATE TABLE message_refs (
	id          INTEGER PRIMARY KEY,
	instance_id INTEGER NOT NULL,
	task_id     INTEGER NOT NULL,
	recipient   TEXT NOT NULL,
	platform    TEXT NOT NULL,
	ref         TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX message_refs_key ON message_refs(instance_id, task_id, platform, ref);

CREATE TABLE users (
	id        TEXT PRIMARY KEY,
	name      TEXT NOT NULL,
	email     TEXT NOT NULL,
	email_key TEXT NOT NULL,
	dept      TEXT NOT NULL,
	manager   TEXT NOT NULL,
	locale    TEXT NOT NULL,
	tz        TEXT NOT NULL,
	-- roles (JSON array) and platforms (JSON object) are copies of
	-- user_roles and user_platforms, so that one row read gives a whole user.
	roles     TEXT NOT NULL,
	platforms TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_email ON users(email_key) WHERE email_key <> '';

CREATE TABLE user_roles (
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role    TEXT NOT NULL,
	pos     INTEGER NOT NULL,
	PRIMARY KEY (user_id, role)
) WITHOUT ROWID;
CREATE INDEX user_roles_role ON user_roles(role, user_id);

CREATE TABLE user_platforms (
	user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	platform    TEXT NOT NULL,
	platform_id TEXT NOT NULL,
	PRIMARY KEY (platform, platform_id)
) WITHOUT ROWID;
CREATE INDEX user_platforms_user ON user_platforms(user_id);

CREATE TABLE departments (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL,
	name_en TEXT NOT NULL,
	head    TEXT NOT NULL,
	parent  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE kv_state (
	key        TEXT PRIMARY KEY,
	val        BLOB NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX kv_state_expires ON kv_state(expires_at);

CREATE TABLE kv_dedupe (
	key        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX kv_dedupe_expires ON kv_dedupe(expires_at);

CREATE TABLE kv_locks (
	name       TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
