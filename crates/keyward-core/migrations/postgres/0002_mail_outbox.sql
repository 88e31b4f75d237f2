-- The mail outbox (R-MAIL-1): one row per email, written in the transaction of
-- the change that causes it and sent by the outbox worker. A row holds no
-- rendered body and no secret: only the kind of message, the recipient and a
-- JSON payload of non-secret ids and facts. The worker composes the message
-- (minting any token then) at send time.
-- PostgreSQL tree: BIGINT and TEXT columns, mirroring the SQLite tree.

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
    to_address       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    -- Sends tried so far, counted when a worker claims the row.
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    -- A worker's lease: until then no other worker claims the row.
    locked_until     BIGINT,
    sent_at          BIGINT,
    -- Finished without sending: given up after the last attempt, or skipped
    -- on purpose (then last_error starts with "skipped: ").
    failed_at        BIGINT,
    -- A short reason, never the message body.
    last_error       TEXT
);

-- The worker's claim: rows not yet finished, oldest first.
CREATE INDEX outbox_pending ON outbox(created_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_user ON outbox(user_id);
