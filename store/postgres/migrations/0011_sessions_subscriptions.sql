-- 0011: web sign-in sessions (signin). Only the SHA-256 of the cookie's
-- secret is kept; a session ends at expires_at or when signed out.

CREATE TABLE web_sessions (
	hash       text PRIMARY KEY,
	user_id    text NOT NULL,
	issuer     text NOT NULL,
	subject    text NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);

-- Webhook subscriptions made at run time (API, CLI) live in the row that
-- already holds a subscription's cursor and lease; stored marks them
-- (config subscriptions have rows too, for their cursors).
ALTER TABLE webhook_subscriptions ADD COLUMN stored boolean NOT NULL DEFAULT false;
ALTER TABLE webhook_subscriptions ADD COLUMN url text NOT NULL DEFAULT '';
ALTER TABLE webhook_subscriptions ADD COLUMN secret text NOT NULL DEFAULT '';
ALTER TABLE webhook_subscriptions ADD COLUMN events text NOT NULL DEFAULT '';
ALTER TABLE webhook_subscriptions ADD COLUMN flows text NOT NULL DEFAULT '';
