-- The audit trail, SQLite edition (twin of migrations/postgres).
--
-- One row per customer change or credential event, written in the transaction of the change.
-- No personal values and no secrets: the actor and the subject are ids, `fields` holds the
-- names (not the values) of the profile fields a change touched. No foreign key to customers:
-- an erased customer's entries stay, their id leading nowhere.

CREATE TABLE audit_entries (
    -- The order of insertion: breaks ties between entries of the same millisecond. The
    -- rowid, so SQLite numbers it (PostgreSQL keys the table by (store_id, seq)).
    seq INTEGER PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES stores (id),
    id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'apiKey', 'system', 'anonymous')),
    -- A user id or an API key id; NULL for the system and anonymous actors.
    actor_id TEXT,
    action TEXT NOT NULL,
    customer_id TEXT,
    -- The user, API key or ledger entry the action made or touched.
    subject_id TEXT,
    -- Comma-separated API field names.
    fields TEXT NOT NULL DEFAULT '',
    UNIQUE (store_id, id),
    CHECK ((actor_kind IN ('user', 'apiKey')) = (actor_id IS NOT NULL))
) STRICT;

-- Newest first (`at DESC, seq DESC`), unfiltered or by one of the filters; the date range is
-- a range of the index.
CREATE INDEX audit_entries_newest ON audit_entries (store_id, at, seq);
CREATE INDEX audit_entries_customer ON audit_entries (store_id, customer_id, at, seq);
CREATE INDEX audit_entries_actor ON audit_entries (store_id, actor_id, at, seq);
CREATE INDEX audit_entries_action ON audit_entries (store_id, action, at, seq);
