-- Who recorded and who cancelled an order, who wrote a ledger entry, the store's largest
-- order, and the customer a stored idempotent response names. PostgreSQL edition; twin of
-- migrations/sqlite.
--
-- Actors are stored as the audit trail stores them: a type ('user' or 'apiKey') and the id of
-- the user or API key. Rows written before this migration have none (NULL).
ALTER TABLE orders ADD COLUMN recorded_by_type TEXT
    CHECK (recorded_by_type IN ('user', 'apiKey'));
ALTER TABLE orders ADD COLUMN recorded_by_id TEXT COLLATE "C";
ALTER TABLE orders ADD COLUMN cancelled_by_type TEXT
    CHECK (cancelled_by_type IN ('user', 'apiKey'));
ALTER TABLE orders ADD COLUMN cancelled_by_id TEXT COLLATE "C";

-- actor_id already holds the adjusting user; the type tells a user from an API key. An
-- actor_id without a type was written before this migration, by a user.
ALTER TABLE ledger_entries ADD COLUMN actor_type TEXT
    CHECK (actor_type IN ('user', 'apiKey'));

-- The largest order (total and items' sum) the store records, in minor units.
ALTER TABLE stores ADD COLUMN max_order_minor BIGINT NOT NULL DEFAULT 100000000
    CHECK (max_order_minor >= 1);

-- The customer the request concerns (an adjustment's customer, an order's customer): erasing
-- the customer deletes these keys with their stored responses.
ALTER TABLE idempotency_keys ADD COLUMN customer_id TEXT COLLATE "C";
CREATE INDEX idempotency_keys_customer
    ON idempotency_keys (store_id, customer_id) WHERE customer_id IS NOT NULL;
