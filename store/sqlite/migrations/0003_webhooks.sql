-- 0003: outgoing webhooks. A subscription's cursor (the last event id it
-- has turned into deliveries) and lease; one row per delivery; one per
-- attempt. Times are INTEGER unix milliseconds (UTC).

CREATE TABLE webhook_subscriptions (
	name        TEXT PRIMARY KEY,
	cursor      INTEGER NOT NULL DEFAULT 0,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
	id           INTEGER PRIMARY KEY,
	subscription TEXT NOT NULL,
	event_id     INTEGER NOT NULL,
	instance_id  INTEGER NOT NULL,
	type         TEXT NOT NULL,
	at           INTEGER NOT NULL,
	request      BLOB NOT NULL,
	task         BLOB,
	status       TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      INTEGER NOT NULL,
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	delivered_at INTEGER,
	UNIQUE (subscription, event_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(subscription, instance_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_instance ON webhook_deliveries(instance_id, id);

CREATE TABLE webhook_attempts (
	id          INTEGER PRIMARY KEY,
	delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
	at          INTEGER NOT NULL,
	status_code INTEGER NOT NULL,
	response    TEXT NOT NULL,
	duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
