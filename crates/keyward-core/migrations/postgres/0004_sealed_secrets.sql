-- Every sealed secret in one table (R-TCH-4's mechanism: learner passwords
-- staff may show again, access codes and parent access codes), so that
-- `keyward keys rotate` re-seals one place. `sealed` is
-- `v1.<key id>.<nonce>.<ciphertext>` (AES-256-GCM); the associated data of a
-- row is "<id>/<purpose>", so a sealed value cannot be moved to another row.
-- Owners point at a row by its id and delete it with the thing it belongs to.

CREATE TABLE sealed_secrets (
    id          TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
