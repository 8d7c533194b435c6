-- 0002: API tokens (api/tokens). Only the SHA-256 of a token's secret is
-- kept; scopes are a comma separated list.

CREATE TABLE api_tokens (
	id           text PRIMARY KEY,
	name         text NOT NULL,
	hash         text NOT NULL UNIQUE,
	scopes       text NOT NULL,
	user_id      text NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz,
	revoked_at   timestamptz,
	last_used_at timestamptz
);
