-- 0008: leave balances, per user, leave type and calendar year. total is
-- set by the directory import and the API; used is moved by the engine
-- when a request is approved or cancelled (in the decision's transaction).

CREATE TABLE balances (
	user_id    TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	year       INTEGER NOT NULL,
	total      REAL    NOT NULL,
	used       REAL    NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, year, type)
);
