-- A store's API keys newest first, and their count, SQLite edition (twin of migrations/postgres).
--
-- Led by store_id and kind: a store's staff tokens (one per login) are skipped by the index,
-- not read. Not a partial index: the kind is a bound parameter, which PostgreSQL's generic
-- plans cannot match against an index predicate.
CREATE INDEX credentials_store_kind_newest
    ON credentials (store_id, kind, created_at DESC, id DESC);
