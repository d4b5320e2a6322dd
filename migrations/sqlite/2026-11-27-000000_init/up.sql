-- The first schema of Ordeliya Customers, SQLite edition.
--
-- Twin of migrations/postgres: same tables, columns and keys; only types and a few indexes
-- differ. Every table carries store_id and every primary and foreign key includes it.
-- Timestamps are UTC in diesel's text form ('YYYY-MM-DD HH:MM:SS.fff'), which sorts in time
-- order; booleans are 0/1. SQLite sorts NULLs first, so an ascending index read backwards
-- gives "DESC NULLS LAST", and the planner serves "ASC NULLS LAST" from the same index: one
-- index per sort column is enough here.

CREATE TABLE stores (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    minor_units_per_point INTEGER NOT NULL CHECK (minor_units_per_point > 0),
    -- Kept exact in the transaction of every customer insert and delete: the unfiltered
    -- customer list's total.
    customer_count INTEGER NOT NULL DEFAULT 0 CHECK (customer_count >= 0),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    store_id TEXT NOT NULL REFERENCES stores (id),
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT,
    role TEXT NOT NULL CHECK (role IN ('staff', 'manager', 'admin', 'owner')),
    -- Empty when the user has no password (they use their token only).
    password_hash TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (store_id, id)
) STRICT;

CREATE UNIQUE INDEX users_email_key_unique ON users (store_id, email_key);
CREATE INDEX users_store_created_at ON users (store_id, created_at, id);

CREATE TABLE credentials (
    store_id TEXT NOT NULL REFERENCES stores (id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('staff_token', 'api_key')),
    user_id TEXT,
    name TEXT NOT NULL,
    -- Space-separated scope names (API keys only).
    scopes TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the secret; the secret itself is never stored.
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    PRIMARY KEY (store_id, id),
    FOREIGN KEY (store_id, user_id) REFERENCES users (store_id, id) ON DELETE CASCADE,
    CHECK ((kind = 'staff_token') = (user_id IS NOT NULL))
) STRICT;

-- A bearer secret is found by its digest alone: the one key without store_id.
CREATE UNIQUE INDEX credentials_digest_unique ON credentials (digest);
CREATE INDEX credentials_store_user ON credentials (store_id, user_id, id);

CREATE TABLE customers (
    store_id TEXT NOT NULL REFERENCES stores (id),
    id TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    -- ASCII-lower-cased first_name: the firstName sort.
    first_name_key TEXT,
    email TEXT,
    -- Lower-cased email: unique per store.
    email_key TEXT,
    phone TEXT,
    accepts_marketing INTEGER NOT NULL CHECK (accepts_marketing IN (0, 1)),
    locale TEXT NOT NULL,
    admin_notes TEXT,
    birth_date TEXT,
    -- Lower-cased "first last\nemail\nphone": what `q` searches.
    search_text TEXT NOT NULL,
    is_blocked INTEGER NOT NULL DEFAULT 0 CHECK (is_blocked IN (0, 1)),
    blocked_reason TEXT,
    blocked_at TEXT,
    total_spent_minor INTEGER NOT NULL DEFAULT 0,
    total_orders INTEGER NOT NULL DEFAULT 0 CHECK (total_orders >= 0),
    last_order_at TEXT,
    loyalty_points INTEGER NOT NULL DEFAULT 0 CHECK (loyalty_points >= 0),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store_id, id),
    CHECK (is_blocked = (blocked_at IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX customers_email_key_unique ON customers (store_id, email_key);
CREATE UNIQUE INDEX customers_phone_unique ON customers (store_id, phone);
-- One index per sortBy, in both directions; they also serve the range filters
-- (minSpent/maxSpent, hasOrders, lastOrderPeriod).
CREATE INDEX customers_store_created_at ON customers (store_id, created_at, id);
CREATE INDEX customers_store_total_spent ON customers (store_id, total_spent_minor, id);
CREATE INDEX customers_store_total_orders ON customers (store_id, total_orders, id);
CREATE INDEX customers_store_last_order_at ON customers (store_id, last_order_at, id);
CREATE INDEX customers_store_first_name ON customers (store_id, first_name_key, id);
-- The boolean filters, in the default order (newest first).
CREATE INDEX customers_store_marketing ON customers (store_id, accepts_marketing, created_at, id);
CREATE INDEX customers_store_blocked ON customers (store_id, is_blocked, created_at, id);
-- `q` is a substring match: SQLite scans the store's rows (PostgreSQL has a trigram index).

CREATE TABLE customer_addresses (
    store_id TEXT NOT NULL,
    id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    line TEXT,
    zipcode TEXT,
    city TEXT,
    is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    PRIMARY KEY (store_id, id),
    FOREIGN KEY (store_id, customer_id) REFERENCES customers (store_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX customer_addresses_customer ON customer_addresses (store_id, customer_id, id);
CREATE UNIQUE INDEX customer_addresses_one_default
    ON customer_addresses (store_id, customer_id) WHERE is_default;

CREATE TABLE customer_allergens (
    store_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    allergen TEXT NOT NULL CHECK (allergen IN (
        'GLUTEN', 'CRUSTACEANS', 'EGGS', 'FISH', 'PEANUTS', 'SOY', 'DAIRY',
        'NUTS', 'CELERY', 'MUSTARD', 'SESAME', 'SULPHITES', 'LUPIN', 'MOLLUSCS'
    )),
    PRIMARY KEY (store_id, customer_id, allergen),
    FOREIGN KEY (store_id, customer_id) REFERENCES customers (store_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- The allergen filter: customers of a store with this allergen.
CREATE INDEX customer_allergens_allergen ON customer_allergens (store_id, allergen, customer_id);
