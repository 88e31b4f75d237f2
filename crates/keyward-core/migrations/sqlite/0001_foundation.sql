-- Foundation: schools, users, classes as far as sign-in and the demo need them,
-- server-side sessions, throttling counters and the audit trail.
-- SQLite tree: only INTEGER and TEXT columns (sqlx's Any driver decodes no others).

CREATE TABLE schools (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    school_id           TEXT REFERENCES schools(id),
    role                TEXT NOT NULL,
    username            TEXT NOT NULL,
    username_key        TEXT NOT NULL,
    email               TEXT,
    email_key           TEXT,
    first_name          TEXT NOT NULL DEFAULT '',
    last_name           TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL,
    password_hash       TEXT,
    password_changed_at INTEGER,
    last_sign_in_at     INTEGER,
    created_at          INTEGER NOT NULL,
    CONSTRAINT users_username_key_unique UNIQUE (username_key)
);
CREATE INDEX users_school ON users(school_id);
CREATE INDEX users_email_key ON users(email_key);

CREATE TABLE classes (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools(id),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE class_teachers (
    class_id    TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (class_id, user_id)
);

CREATE TABLE class_learners (
    class_id    TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (class_id, user_id)
);

CREATE TABLE parent_learners (
    parent_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    learner_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, learner_id)
);

-- Only the SHA-256 of the session id is stored.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    client_addr   TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed-attempt counters, shared by every instance.
CREATE TABLE throttle (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    last_failure_at  INTEGER NOT NULL,
    blocked_until    INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    actor_id     TEXT,
    target_id    TEXT,
    school_id    TEXT,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    client_addr  TEXT,
    detail       TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_target ON audit_log(target_id);
