-- A public id for every session (Account Settings > Sessions, R-ACC-4): the
-- list and the API name a session by it, never by the digest of its cookie.
-- Sessions opened from now on get a random id when they are opened; those
-- already open get one here (32 hex digits, as keyward writes them). NULL
-- only for rows nobody can address.
ALTER TABLE sessions ADD COLUMN public_id TEXT;
UPDATE sessions SET public_id = replace(gen_random_uuid()::text, '-', '') WHERE public_id IS NULL;
CREATE UNIQUE INDEX sessions_public_id ON sessions(public_id);
