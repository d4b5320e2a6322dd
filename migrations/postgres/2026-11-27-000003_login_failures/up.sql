-- Failed logins, for slowing down password guessing, PostgreSQL edition.
--
-- Twin of migrations/sqlite. The one table without store_id: a failure is counted under a
-- throttle key, "account:<store>:<email>" or "client:<address>", and a client address spans
-- every store. Only the login path reads and writes it, by key. On Citus it would stay a
-- local (coordinator) table, joined to nothing.

CREATE TABLE login_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    throttle_key TEXT COLLATE "C" NOT NULL,
    failed_at TIMESTAMP NOT NULL
);

-- The recent failures of a few keys, and the old ones of a key to forget: one range each.
CREATE INDEX login_failures_key_failed_at ON login_failures (throttle_key, failed_at);
