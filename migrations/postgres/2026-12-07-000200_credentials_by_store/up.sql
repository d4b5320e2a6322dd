-- Credentials found within their store, PostgreSQL edition (twin of migrations/sqlite).
--
-- Bearer secrets name their store (`ord_live_sk_store_…_…`): a credential is found by
-- (store_id, digest), and the unique index on digest alone, the one key without store_id,
-- goes. A cluster sharded by store (Citus) can then distribute credentials like every other
-- store's table.
--
-- Secrets issued before name no store, and keep working: the digest of every credential not
-- revoked is copied here, with its store, and a secret without a store finds its store in
-- this table first, then its credential within it. Nothing writes the table afterwards (new
-- secrets name their store; a revocation is seen on the credential). It is the one table of
-- secrets kept whole, with no foreign key: on Citus a reference table.
CREATE TABLE legacy_secret_stores (
    -- SHA-256 of a secret issued before secrets named their store.
    digest TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    store_id TEXT COLLATE "C" NOT NULL
);

INSERT INTO legacy_secret_stores (digest, store_id)
    SELECT digest, store_id FROM credentials WHERE revoked_at IS NULL;

DROP INDEX credentials_digest_unique;
CREATE UNIQUE INDEX credentials_store_digest_unique ON credentials (store_id, digest);
