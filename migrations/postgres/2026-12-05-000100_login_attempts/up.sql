-- Login attempts counted before their password is checked, and what the audit trail keeps of
-- failed and refused logins, PostgreSQL edition (twin of migrations/sqlite).
--
-- A granted attempt is a login_failures row under each of its throttle keys, with the
-- attempt's id, from before its password is checked: it counts as a failure until it is
-- resolved (a wrong password clears attempt_id, a right one deletes the rows). Rows of a
-- refused key are noted under "refused:<key>". Rows older than the longest window are swept
-- by failed_at.

ALTER TABLE login_failures ADD COLUMN attempt_id TEXT COLLATE "C";

CREATE INDEX login_failures_attempt ON login_failures (attempt_id) WHERE attempt_id IS NOT NULL;
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);

-- For auth.login_failed and auth.login_refused: the client's address; for
-- auth.login_refused: how many failures were counted.
ALTER TABLE audit_entries ADD COLUMN client_address TEXT;
ALTER TABLE audit_entries ADD COLUMN failure_count BIGINT;
