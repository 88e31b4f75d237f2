-- Browsing the audit log (R-AUD-1): pages are keyset pages on id, newest
-- first, within a school or filtered by person or action, so each filter has
-- an index ending in id (the scan stops after one page).
CREATE INDEX audit_log_school_id ON audit_log(school_id, id);
CREATE INDEX audit_log_actor_id ON audit_log(actor_id, id);
DROP INDEX audit_log_target;
CREATE INDEX audit_log_target_id ON audit_log(target_id, id);
CREATE INDEX audit_log_action_id ON audit_log(action, id);
