-- Issue 17: what the database remembers of each sealing key, so that an
-- instance started with other keys (a data folder of its own, which made a
-- key file of its own) is refused instead of failing to find codes and to
-- open sealed secrets. `name` is `lookup` or `key <id>`, as the key file
-- names them; `key_check` is HMAC-SHA256 under that key of a fixed label
-- (hex), which tells two keys apart without revealing either.
CREATE TABLE sealing_key_checks (
    name           TEXT PRIMARY KEY,
    key_check      TEXT NOT NULL,
    first_seen_at  BIGINT NOT NULL
);
