-- What a recovery request was asked for (a SHA-256 of the normalised username
-- and/or email typed), so emailed-code tries are counted per subject across
-- requests, for unknown accounts exactly as for real ones.
ALTER TABLE recovery_requests ADD COLUMN subject_key TEXT;
