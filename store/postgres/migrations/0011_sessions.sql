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
