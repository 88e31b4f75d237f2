-- Single sign-on (issue 14): a school's OpenID Connect providers, the
-- browser flows under way, and which provider subject is which person.

-- One row per provider a school connected. The client secret is sealed in
-- `sealed_secrets` (owner = this row's id, purpose 'sso_client_secret'), so
-- `keyward keys rotate` re-seals it with the rest. `scopes` is space-
-- separated and always holds `openid`. `claim` names how an unlinked
-- person is found: 'email' (a verified email), 'preferred_username' or
-- 'sub' (compared with keyward usernames). `roles` are the roles that may
-- sign in with it (comma-separated, '' for none); `jit_roles` the roles an
-- unknown person may be created as (just-in-time; '' for none); the new
-- account's role is the first of them. `trust_mfa` = 1: an ID token whose
-- `amr` holds 'mfa' counts as the second factor (keyward asks no code).
CREATE TABLE sso_providers (
    id                TEXT PRIMARY KEY,
    school_id         TEXT NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    secret_sealed_id  TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    claim             TEXT NOT NULL,
    roles             TEXT NOT NULL,
    jit_roles         TEXT NOT NULL,
    trust_mfa         INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    created_by        TEXT
);
CREATE INDEX sso_providers_school ON sso_providers(school_id);

-- A sign-in sent to a provider and not back yet. Only hashes are kept: the
-- `state` from the URL (SHA-256) and the browser's binding secret from the
-- `kw_sso` cookie (SHA-256), from which the nonce and the PKCE verifier are
-- derived again at the callback. A row is claimed once (DELETE … RETURNING)
-- and is good until `expires_at`.
CREATE TABLE sso_flows (
    state_hash    TEXT PRIMARY KEY,
    provider_id   TEXT NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
    binding_hash  TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sso_flows_expiry ON sso_flows(expires_at);

-- Which subject (`sub`) at which provider is which person. A person has at
-- most one link per provider; a subject names one person.
CREATE TABLE sso_links (
    provider_id   TEXT NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    linked_at     INTEGER NOT NULL,
    last_used_at  INTEGER,
    PRIMARY KEY (provider_id, subject)
);
CREATE UNIQUE INDEX sso_links_user ON sso_links(user_id, provider_id);

-- A session opened through a provider whose ID token said `amr` holds
-- 'mfa', at a school that trusts it: it counts as signed in with a second
-- factor (the administrators' "MFA on yourself" rule, required two-step).
ALTER TABLE sessions ADD COLUMN mfa_at_provider INTEGER NOT NULL DEFAULT 0;
