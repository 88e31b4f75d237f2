-- Teachers and learners (seed 002): sealed learner passwords (R-TCH-4), the
-- school's switch for them, and the lease that keeps two whole-class resets
-- of one class from running at once (R-TCH-3).

-- The sealed copy (a row of sealed_secrets, purpose `learner_password`) of a
-- password staff set or generated; NULL when none is kept.
ALTER TABLE users ADD COLUMN password_sealed_id TEXT;
-- Who chose the current password: 'staff' when staff set or generated it,
-- NULL when the account's owner chose it (or there is none yet).
ALTER TABLE users ADD COLUMN password_set_by TEXT;

-- R-TCH-4: keep sealed copies of learner passwords staff set (1) or not (0).
ALTER TABLE schools ADD COLUMN learner_passwords_retrievable BIGINT NOT NULL DEFAULT 1;

-- A whole-class reset holds the class until this time (unix seconds).
ALTER TABLE classes ADD COLUMN password_reset_until BIGINT;
