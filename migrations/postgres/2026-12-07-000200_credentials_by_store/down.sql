DROP INDEX credentials_store_digest_unique;
CREATE UNIQUE INDEX credentials_digest_unique ON credentials (digest);
DROP TABLE legacy_secret_stores;
