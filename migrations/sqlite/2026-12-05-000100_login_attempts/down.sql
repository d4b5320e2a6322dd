ALTER TABLE audit_entries DROP COLUMN failure_count;
ALTER TABLE audit_entries DROP COLUMN client_address;
DROP INDEX login_failures_failed_at;
DROP INDEX login_failures_attempt;
ALTER TABLE login_failures DROP COLUMN attempt_id;
