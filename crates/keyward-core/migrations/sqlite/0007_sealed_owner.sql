-- Issue 10: every sealed value is bound to the user it belongs to. New values
-- (format `v2`) are sealed with "<id>, <owner_id>, <purpose>" as associated
-- data and opened with the owner and purpose the caller expects, so a sealed
-- reference moved to another user does not open. `owner_id` also lets
-- `keyward keys rotate` re-seal legacy `v1` values as `v2`.
--
-- Existing rows get the owner their one reference names today (a learner's
-- `users.password_sealed_id`, a code's `access_codes.sealed_id`); a row with
-- no reference, or more than one, keeps '' and no caller ever opens it.

ALTER TABLE sealed_secrets ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';

UPDATE sealed_secrets
SET owner_id = (SELECT MIN(u.id) FROM users u WHERE u.password_sealed_id = sealed_secrets.id)
WHERE purpose = 'learner_password'
  AND (SELECT COUNT(*) FROM users u WHERE u.password_sealed_id = sealed_secrets.id) = 1;

UPDATE sealed_secrets
SET owner_id = (SELECT MIN(a.user_id) FROM access_codes a WHERE a.sealed_id = sealed_secrets.id)
WHERE purpose = 'access_code'
  AND (SELECT COUNT(*) FROM access_codes a WHERE a.sealed_id = sealed_secrets.id) = 1;
