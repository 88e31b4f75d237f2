-- Schools as tenants: custom roles (R-ROLE-1), class codes (R-CODE-2),
-- access codes and parent access codes (R-CODE-1, R-CODE-3).

-- Custom roles: a named set of permissions, scoped to one school.
CREATE TABLE custom_roles (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT custom_roles_name_unique UNIQUE (school_id, name)
);

CREATE TABLE custom_role_permissions (
    role_id     TEXT NOT NULL REFERENCES custom_roles(id) ON DELETE CASCADE,
    permission  TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_custom_roles (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id     TEXT NOT NULL REFERENCES custom_roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

-- Class codes are written on a board: not secrets, stored as shown.
ALTER TABLE classes ADD COLUMN class_code TEXT;
ALTER TABLE classes ADD COLUMN class_code_enabled BIGINT NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX classes_class_code ON classes(class_code);

-- Access codes (kind `activation`) and parent access codes (kind `parent`):
-- a keyed hash to find them by what people type, and a sealed copy (in
-- sealed_secrets) so staff can show them again.
CREATE TABLE access_codes (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    lookup_hash    TEXT NOT NULL,
    sealed_id      TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    used_at        BIGINT,
    revoked_at     BIGINT
);
CREATE UNIQUE INDEX access_codes_lookup ON access_codes(lookup_hash);
CREATE INDEX access_codes_user ON access_codes(user_id, kind);
