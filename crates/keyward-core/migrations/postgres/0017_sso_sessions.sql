-- Single sign-on (issue 14): which provider opened a session. Removing the
-- provider ends the sessions it opened, and a session opened through a
-- provider is not held at (nor ended by) a temporary keyward password: that
-- password is refused, not the account. NULL for sessions opened with a
-- password or a passkey. No foreign key: the provider's removal deletes the
-- sessions itself, in its transaction.
ALTER TABLE sessions ADD COLUMN sso_provider_id TEXT;
CREATE INDEX sessions_sso_provider ON sessions(sso_provider_id)
    WHERE sso_provider_id IS NOT NULL;

-- A sign-in through a provider waiting for keyward's own second step: the
-- session it opens carries the provider on.
ALTER TABLE sign_in_steps ADD COLUMN sso_provider_id TEXT;
