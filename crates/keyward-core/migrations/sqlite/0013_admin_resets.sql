-- R-ADM-3: a temporary password set by an administrator. While set, the
-- account must choose its own password before anything else, and the
-- temporary one stops signing in at this time (unix seconds). Every
-- password change (`accounts::set_password`) clears it.
ALTER TABLE users ADD COLUMN password_must_change_by INTEGER NULL;
