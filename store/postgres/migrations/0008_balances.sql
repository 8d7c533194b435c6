-- 0008: leave balances, per user, leave type and calendar year. total is
-- set by the directory import and the API; used is moved by the engine
-- when a request is approved or cancelled (in the decision's transaction).

CREATE TABLE balances (
	user_id    text             NOT NULL,
	type       text             NOT NULL,
	year       integer          NOT NULL,
	total      double precision NOT NULL,
	used       double precision NOT NULL DEFAULT 0,
	updated_at timestamptz      NOT NULL,
	PRIMARY KEY (user_id, year, type)
);
