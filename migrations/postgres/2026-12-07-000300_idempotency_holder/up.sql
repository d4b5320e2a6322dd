-- While a key is in progress: the process running its claim (see
-- crates/persistence/src/idempotency.rs). NULL once that process gave the key up without an
-- answer, and on keys claimed before this column: such a claim holds its key only until
-- `locked_until`.
ALTER TABLE idempotency_keys ADD COLUMN holder BIGINT;
