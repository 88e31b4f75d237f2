-- Passkeys (WebAuthn): the credentials people registered, and the ceremonies
-- under way (the server's half of a registration or sign-in, used once).

-- A registered passkey. `credential` is webauthn-rs's Passkey as JSON (the
-- public key, algorithm and signature counter: nothing secret);
-- `credential_id` is its credential id in base64url, for the look-up a
-- sign-in makes, and unique: one authenticator credential names one account.
CREATE TABLE passkeys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    credential_id  TEXT NOT NULL,
    credential     TEXT NOT NULL,
    sign_count     BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE UNIQUE INDEX passkeys_credential ON passkeys(credential_id);
CREATE INDEX passkeys_user ON passkeys(user_id, created_at);

-- A ceremony under way: the state webauthn-rs needs to check the browser's
-- answer (its challenge among it), kept here and never in a cookie. The
-- browser holds a random handle; only its SHA-256 is stored. `kind` is
-- 'registration', 'second_step' or 'passwordless'; user_id is NULL for a
-- passwordless sign-in, whose account is known only from the answer.
-- `passkey_name` is the name a registration will give its passkey.
CREATE TABLE webauthn_ceremonies (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT REFERENCES users(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    passkey_name  TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies(expires_at);

-- Learners' devices are shared: their passkeys are off unless the school
-- switches them on (1).
ALTER TABLE schools ADD COLUMN learner_passkeys BIGINT NOT NULL DEFAULT 0;
