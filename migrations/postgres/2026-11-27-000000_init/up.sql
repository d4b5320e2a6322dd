-- The first schema of Ordeliya Customers, PostgreSQL edition.
--
-- Twin of migrations/sqlite: same tables, columns and keys; only types and a few indexes
-- differ. Timestamps are `timestamp` holding UTC (one diesel schema serves both backends).
-- Ids and sort keys use COLLATE "C" so that they sort byte-wise, as on SQLite, whatever the
-- database's locale.
--
-- Sharding by store (Citus): every table carries store_id and every primary key, unique key
-- and foreign key includes it, so each table can be distributed by store_id (stores by id)
-- and co-located. The one exception is the unique index on credentials.digest, which a bearer
-- secret is looked up by before its store is known: on Citus, credentials would become a
-- reference table (its foreign keys to distributed tables dropped), or the digest would move
-- to a small lookup table of (digest, store_id, id).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE stores (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    minor_units_per_point BIGINT NOT NULL CHECK (minor_units_per_point > 0),
    -- Kept exact in the transaction of every customer insert and delete: the unfiltered
    -- customer list's total.
    customer_count BIGINT NOT NULL DEFAULT 0 CHECK (customer_count >= 0),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    store_id TEXT COLLATE "C" NOT NULL REFERENCES stores (id),
    id TEXT COLLATE "C" NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT COLLATE "C" NOT NULL,
    name TEXT,
    role TEXT NOT NULL CHECK (role IN ('staff', 'manager', 'admin', 'owner')),
    -- Empty when the user has no password (they use their token only).
    password_hash TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, id)
);

CREATE UNIQUE INDEX users_email_key_unique ON users (store_id, email_key);
CREATE INDEX users_store_created_at ON users (store_id, created_at, id);

CREATE TABLE credentials (
    store_id TEXT COLLATE "C" NOT NULL REFERENCES stores (id),
    id TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('staff_token', 'api_key')),
    user_id TEXT COLLATE "C",
    name TEXT NOT NULL,
    -- Space-separated scope names (API keys only).
    scopes TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the secret; the secret itself is never stored.
    digest TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    PRIMARY KEY (store_id, id),
    FOREIGN KEY (store_id, user_id) REFERENCES users (store_id, id) ON DELETE CASCADE,
    CHECK ((kind = 'staff_token') = (user_id IS NOT NULL))
);

-- A bearer secret is found by its digest alone: the one key without store_id (see above).
CREATE UNIQUE INDEX credentials_digest_unique ON credentials (digest);
CREATE INDEX credentials_store_user ON credentials (store_id, user_id, id);

CREATE TABLE customers (
    store_id TEXT COLLATE "C" NOT NULL REFERENCES stores (id),
    id TEXT COLLATE "C" NOT NULL,
    first_name TEXT,
    last_name TEXT,
    -- ASCII-lower-cased first_name: the firstName sort.
    first_name_key TEXT COLLATE "C",
    email TEXT,
    -- Lower-cased email: unique per store.
    email_key TEXT COLLATE "C",
    phone TEXT COLLATE "C",
    accepts_marketing BOOLEAN NOT NULL,
    locale TEXT NOT NULL,
    admin_notes TEXT,
    birth_date DATE,
    -- Lower-cased "first last\nemail\nphone": what `q` searches.
    search_text TEXT NOT NULL,
    is_blocked BOOLEAN NOT NULL DEFAULT FALSE,
    blocked_reason TEXT,
    blocked_at TIMESTAMP,
    total_spent_minor BIGINT NOT NULL DEFAULT 0,
    total_orders BIGINT NOT NULL DEFAULT 0 CHECK (total_orders >= 0),
    last_order_at TIMESTAMP,
    loyalty_points BIGINT NOT NULL DEFAULT 0 CHECK (loyalty_points >= 0),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_id, id),
    CHECK (is_blocked = (blocked_at IS NOT NULL))
);

CREATE UNIQUE INDEX customers_email_key_unique ON customers (store_id, email_key);
CREATE UNIQUE INDEX customers_phone_unique ON customers (store_id, phone);
-- One index per sortBy; a B-tree read backwards serves the descending order, except for the
-- nullable columns, whose "DESC NULLS LAST" needs its own index. They also serve the range
-- filters (minSpent/maxSpent, hasOrders, lastOrderPeriod).
CREATE INDEX customers_store_created_at ON customers (store_id, created_at, id);
CREATE INDEX customers_store_total_spent ON customers (store_id, total_spent_minor, id);
CREATE INDEX customers_store_total_orders ON customers (store_id, total_orders, id);
CREATE INDEX customers_store_last_order_at ON customers (store_id, last_order_at, id);
CREATE INDEX customers_store_last_order_at_desc
    ON customers (store_id, last_order_at DESC NULLS LAST, id DESC);
CREATE INDEX customers_store_first_name ON customers (store_id, first_name_key, id);
CREATE INDEX customers_store_first_name_desc
    ON customers (store_id, first_name_key DESC NULLS LAST, id DESC);
-- The boolean filters, in the default order (newest first).
CREATE INDEX customers_store_marketing ON customers (store_id, accepts_marketing, created_at, id);
CREATE INDEX customers_store_blocked ON customers (store_id, is_blocked, created_at, id);
-- `q`: substring match (LIKE '%…%') on search_text.
CREATE INDEX customers_search_text_trgm ON customers USING gin (search_text gin_trgm_ops);

CREATE TABLE customer_addresses (
    store_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    line TEXT,
    zipcode TEXT,
    city TEXT,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (store_id, id),
    FOREIGN KEY (store_id, customer_id) REFERENCES customers (store_id, id) ON DELETE CASCADE
);

CREATE INDEX customer_addresses_customer ON customer_addresses (store_id, customer_id, id);
CREATE UNIQUE INDEX customer_addresses_one_default
    ON customer_addresses (store_id, customer_id) WHERE is_default;

CREATE TABLE customer_allergens (
    store_id TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    allergen TEXT NOT NULL CHECK (allergen IN (
        'GLUTEN', 'CRUSTACEANS', 'EGGS', 'FISH', 'PEANUTS', 'SOY', 'DAIRY',
        'NUTS', 'CELERY', 'MUSTARD', 'SESAME', 'SULPHITES', 'LUPIN', 'MOLLUSCS'
    )),
    PRIMARY KEY (store_id, customer_id, allergen),
    FOREIGN KEY (store_id, customer_id) REFERENCES customers (store_id, id) ON DELETE CASCADE
);

-- The allergen filter: customers of a store with this allergen.
CREATE INDEX customer_allergens_allergen ON customer_allergens (store_id, allergen, customer_id);
