-- API tokens (issue 13): secrets that scripts and a school's own tools send
-- as `Authorization: Bearer kw_…`. Only the SHA-256 of the secret is kept.
-- `id` is public (32 hex digits): lists, the CLI and the audit trail name a
-- token by it. `permissions` is a space-separated list of permission names,
-- at most the owner's at creation (and narrowed to the owner's current ones
-- at every call). `school_id` narrows a platform admin's token to one
-- school; NULL means the owner's whole scope.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    permissions   TEXT NOT NULL,
    school_id     TEXT REFERENCES schools(id) ON DELETE CASCADE,
    secret_hash   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);
CREATE UNIQUE INDEX api_tokens_secret ON api_tokens(secret_hash);
CREATE INDEX api_tokens_user ON api_tokens(user_id, created_at);

-- Every audit row of an action done with a token names the token.
ALTER TABLE audit_log ADD COLUMN api_token_id TEXT;
