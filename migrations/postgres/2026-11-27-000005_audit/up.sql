-- The audit trail, PostgreSQL edition (twin of migrations/sqlite).
--
-- One row per customer change or credential event, written in the transaction of the change.
-- No personal values and no secrets: the actor and the subject are ids, `fields` holds the
-- names (not the values) of the profile fields a change touched. No foreign key to customers:
-- an erased customer's entries stay, their id leading nowhere.

CREATE TABLE audit_entries (
    -- The order of insertion: breaks ties between entries of the same millisecond.
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    store_id TEXT COLLATE "C" NOT NULL REFERENCES stores (id),
    id TEXT COLLATE "C" NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'apiKey', 'system', 'anonymous')),
    -- A user id or an API key id; NULL for the system and anonymous actors.
    actor_id TEXT COLLATE "C",
    action TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C",
    -- The user, API key or ledger entry the action made or touched.
    subject_id TEXT COLLATE "C",
    -- Comma-separated API field names.
    fields TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (store_id, seq),
    UNIQUE (store_id, id),
    CHECK ((actor_kind IN ('user', 'apiKey')) = (actor_id IS NOT NULL))
);

-- Newest first (`at DESC, seq DESC`), unfiltered or by one of the filters; the date range is
-- a range of the index.
CREATE INDEX audit_entries_newest ON audit_entries (store_id, at DESC, seq DESC);
CREATE INDEX audit_entries_customer ON audit_entries (store_id, customer_id, at DESC, seq DESC);
CREATE INDEX audit_entries_actor ON audit_entries (store_id, actor_id, at DESC, seq DESC);
CREATE INDEX audit_entries_action ON audit_entries (store_id, action, at DESC, seq DESC);
