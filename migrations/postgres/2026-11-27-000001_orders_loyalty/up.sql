-- Orders, the loyalty ledger and idempotency keys, PostgreSQL edition.
--
-- Twin of migrations/sqlite: same tables, columns and keys. As in the first migration, every
-- table carries store_id, every primary, unique and foreign key starts with it, ids and keys
-- use COLLATE "C" (byte-wise, as on SQLite), and timestamps are `timestamp` holding UTC.

-- The number of the customer's newest ledger entry: bumped by the same conditional UPDATE
-- that moves loyalty_points, so entries are numbered 1, 2, 3, … per customer with no gap,
-- and this is also how many there are.
ALTER TABLE customers ADD COLUMN ledger_seq BIGINT NOT NULL DEFAULT 0 CHECK (ledger_seq >= 0);

CREATE TABLE orders (
    store_id TEXT COLLATE "C" NOT NULL REFERENCES stores (id),
    id TEXT COLLATE "C" NOT NULL,
    -- NULL when recorded without a customer, or after the customer was erased. The foreign
    -- key has no ON DELETE action: the customer's delete sets this to NULL first (SET NULL on
    -- a composite key would also clear store_id).
    customer_id TEXT COLLATE "C",
    -- The ordering system's id: an order is recorded once per external_id.
    external_id TEXT COLLATE "C",
    status TEXT NOT NULL CHECK (status IN ('recorded', 'cancelled')),
    total_minor BIGINT NOT NULL CHECK (total_minor >= 0),
    currency TEXT NOT NULL,
    placed_at TIMESTAMP NOT NULL,
    cancelled_at TIMESTAMP,
    points_earned BIGINT NOT NULL CHECK (points_earned >= 0),
    -- The idempotency claim of the request that recorded it: the write happens once.
    request_claim TEXT COLLATE "C",
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, id),
    FOREIGN KEY (store_id, customer_id) REFERENCES customers (store_id, id),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);

CREATE UNIQUE INDEX orders_external_id_unique
    ON orders (store_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX orders_request_claim_unique
    ON orders (store_id, request_claim) WHERE request_claim IS NOT NULL;
-- A customer's orders, newest first: the history page, and (covering status and total) the
-- aggregates over recorded orders and the newest recorded order after a cancel, read from
-- the index alone. Also finds the orders to detach when the customer is erased.
CREATE INDEX orders_customer_placed_at
    ON orders (store_id, customer_id, placed_at DESC, id DESC) INCLUDE (status, total_minor);

CREATE TABLE order_items (
    store_id TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    line_no INTEGER NOT NULL CHECK (line_no >= 0),
    -- Product and category ids are the client's own; names sort byte-wise (ties by name).
    product_id TEXT COLLATE "C" NOT NULL,
    product_name TEXT COLLATE "C" NOT NULL,
    category_id TEXT COLLATE "C",
    category_name TEXT COLLATE "C",
    quantity BIGINT NOT NULL CHECK (quantity >= 1),
    unit_price_minor BIGINT NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (store_id, order_id, line_no),
    FOREIGN KEY (store_id, order_id) REFERENCES orders (store_id, id) ON DELETE CASCADE
);

CREATE TABLE ledger_entries (
    store_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    -- The customer's ledger_seq after this entry: newest first is seq descending.
    seq BIGINT NOT NULL CHECK (seq >= 1),
    delta BIGINT NOT NULL CHECK (delta <> 0),
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    reason TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('manual', 'order', 'order_cancel')),
    order_id TEXT COLLATE "C",
    actor_id TEXT COLLATE "C",
    request_claim TEXT COLLATE "C",
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, id),
    -- The ledger goes with the customer.
    FOREIGN KEY (store_id, customer_id) REFERENCES customers (store_id, id) ON DELETE CASCADE,
    FOREIGN KEY (store_id, order_id) REFERENCES orders (store_id, id)
);

-- The ledger page (newest first) and the guarantee that no two entries share a number.
CREATE UNIQUE INDEX ledger_entries_customer_seq ON ledger_entries (store_id, customer_id, seq);
CREATE UNIQUE INDEX ledger_entries_request_claim_unique
    ON ledger_entries (store_id, request_claim) WHERE request_claim IS NOT NULL;

CREATE TABLE idempotency_keys (
    store_id TEXT COLLATE "C" NOT NULL,
    credential_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    -- Digest of the request the key was first used for.
    request_digest TEXT COLLATE "C" NOT NULL,
    -- Who holds the key; written onto the rows the request creates.
    claim TEXT COLLATE "C" NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
    response_status INTEGER,
    response_body BYTEA,
    -- While in progress: until when the claim holds the key.
    locked_until TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, credential_id, key),
    FOREIGN KEY (store_id, credential_id) REFERENCES credentials (store_id, id) ON DELETE CASCADE,
    CHECK ((state = 'completed') = (response_status IS NOT NULL AND response_body IS NOT NULL))
);

-- Sweeping a credential's keys older than their lifetime.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (store_id, credential_id, created_at);
