-- Failed logins, for slowing down password guessing, SQLite edition.
--
-- Twin of migrations/postgres. The one table without store_id: a failure is counted under a
-- throttle key, "account:<store>:<email>" or "client:<address>", and a client address spans
-- every store. Only the login path reads and writes it, by key. On Citus it would stay a
-- local (coordinator) table, joined to nothing.

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    throttle_key TEXT NOT NULL,
    failed_at TEXT NOT NULL
) STRICT;

-- The recent failures of a few keys, and the old ones of a key to forget: one range each.
CREATE INDEX login_failures_key_failed_at ON login_failures (throttle_key, failed_at);
