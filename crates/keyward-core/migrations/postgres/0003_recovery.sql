-- Password policies per school and kind of user, and self-service recovery:
-- requests (with the hashes of the link token and code, minted when the email
-- is composed), and the "this wasn't me" alert tokens.

-- Accounts created by their owner (activation, class code) may recover
-- before their first sign-in (seed 001).
ALTER TABLE users ADD COLUMN created_by_owner BIGINT NOT NULL DEFAULT 0;

CREATE TABLE password_policies (
    school_id          TEXT NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
    kind               TEXT NOT NULL,
    min_length         BIGINT NOT NULL,
    max_length         BIGINT NOT NULL,
    require_lowercase  BIGINT NOT NULL,
    require_uppercase  BIGINT NOT NULL,
    require_digit      BIGINT NOT NULL,
    allow_special      BIGINT NOT NULL,
    block_common       BIGINT NOT NULL,
    block_username     BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (school_id, kind)
);

-- One row per "Forgot password?" request, also for unknown accounts (then
-- user_id is NULL), so every request costs the same and can be counted.
CREATE TABLE recovery_requests (
    id               TEXT PRIMARY KEY,
    handle_hash      TEXT NOT NULL,
    user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
    client_addr      TEXT,
    created_at       BIGINT NOT NULL,
    token_hash       TEXT,
    link_expires_at  BIGINT,
    code_hash        TEXT,
    code_expires_at  BIGINT,
    code_failures    BIGINT NOT NULL DEFAULT 0,
    ended_at         BIGINT,
    ended_reason     TEXT
);
CREATE UNIQUE INDEX recovery_requests_token ON recovery_requests(token_hash);
CREATE INDEX recovery_requests_handle ON recovery_requests(handle_hash);
CREATE INDEX recovery_requests_user ON recovery_requests(user_id, created_at);
CREATE INDEX recovery_requests_addr ON recovery_requests(client_addr, created_at);

CREATE TABLE security_alert_tokens (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
