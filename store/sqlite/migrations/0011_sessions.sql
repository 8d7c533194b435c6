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
