-- 0011: web sign-in sessions (signin). Only the SHA-256 of the cookie's
-- secret is kept; a session ends at expires_at or when signed out.

CREATE TABLE web_sessions (
	hash       TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);

-- Webhook subscriptions made at run time (API, CLI) live in the row that
-- already holds a subscription's cursor and lease; stored = 1 marks them
-- (config subscriptions have rows too, for their cursors).
ALTER TABLE webhook_subscriptions ADD COLUMN stored INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_subscriptions ADD COLUMN url TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_subscriptions ADD COLUMN secret TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_subscriptions ADD COLUMN events TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_subscriptions ADD COLUMN flows TEXT NOT NULL DEFAULT '';
