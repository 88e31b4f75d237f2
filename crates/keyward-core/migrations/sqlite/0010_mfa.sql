-- Issue 12: two-step verification (R-MFA-1).
-- SQLite tree: only INTEGER and TEXT columns (sqlx's Any driver decodes no others).

-- A person's authenticator app. The secret itself is sealed in
-- `sealed_secrets` (purpose `totp_secret`, owned by the user); `confirmed_at`
-- is NULL while the enrolment waits for its first code. `last_step` is the
-- latest 30-second step whose code was accepted: a code of that step or an
-- earlier one is refused, so each code works once.
CREATE TABLE mfa_totp (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sealed_id     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER,
    last_step     INTEGER NOT NULL DEFAULT 0
);

-- Single-use recovery codes: only a keyed hash of each is stored.
CREATE TABLE mfa_recovery_codes (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- A sign-in whose password was right and that waits for its second step
-- (a code or a passkey). Only the SHA-256 of its token is stored; it lives
-- minutes and is used once.
CREATE TABLE sign_in_steps (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sign_in_steps_expiry ON sign_in_steps(expires_at);

-- The roles a school requires two-step verification of, as a comma-separated
-- list of role names ('' for none).
ALTER TABLE schools ADD COLUMN mfa_required_roles TEXT NOT NULL DEFAULT '';
