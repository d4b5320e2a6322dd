-- Reviews of orders and each store's review counters, SQLite edition.
--
-- Twin of migrations/postgres: same tables, columns and keys. As before, every table carries
-- store_id and every primary, unique and foreign key starts with it; timestamps are UTC text
-- that sorts in time order; booleans are 0/1.

CREATE TABLE reviews (
    store_id TEXT NOT NULL REFERENCES stores (id),
    id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    -- NULL after the customer was erased. As for orders, the foreign key has no ON DELETE
    -- action: the customer's delete sets this to NULL first.
    customer_id TEXT,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    food_rating INTEGER CHECK (food_rating BETWEEN 1 AND 5),
    delivery_rating INTEGER CHECK (delivery_rating BETWEEN 1 AND 5),
    packaging_rating INTEGER CHECK (packaging_rating BETWEEN 1 AND 5),
    comment TEXT,
    is_approved INTEGER NOT NULL CHECK (is_approved IN (0, 1)),
    is_public INTEGER NOT NULL CHECK (is_public IN (0, 1)),
    is_featured INTEGER NOT NULL CHECK (is_featured IN (0, 1)),
    -- The store's response: all three set, or none.
    response_text TEXT,
    responded_at TEXT,
    -- The staff user who answered last (like ledger_entries.actor_id, kept without a foreign
    -- key: a record of who did it).
    responded_by TEXT,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    PRIMARY KEY (store_id, id),
    FOREIGN KEY (store_id, order_id) REFERENCES orders (store_id, id),
    FOREIGN KEY (store_id, customer_id) REFERENCES customers (store_id, id),
    CHECK (NOT is_featured OR (is_approved AND is_public)),
    CHECK ((response_text IS NULL) = (responded_at IS NULL)
        AND (responded_at IS NULL) = (responded_by IS NULL))
) STRICT;

-- One review per order.
CREATE UNIQUE INDEX reviews_order_unique ON reviews (store_id, order_id);
-- The list, newest first; also the date range (a slice of it).
CREATE INDEX reviews_store_newest ON reviews (store_id, created_at DESC, id DESC);
-- One index per filter, each ending in the list's order, so a filtered page is read in order
-- and its total counted from the index alone.
CREATE INDEX reviews_store_approved ON reviews (store_id, is_approved, created_at DESC, id DESC);
CREATE INDEX reviews_store_featured ON reviews (store_id, is_featured, created_at DESC, id DESC);
-- hasResponse, one partial index each way. The filter tests responded_at (set exactly when
-- there is a response); carrying it makes each index cover the filter's COUNT(*).
CREATE INDEX reviews_store_answered
    ON reviews (store_id, created_at DESC, id DESC, responded_at) WHERE responded_at IS NOT NULL;
CREATE INDEX reviews_store_unanswered
    ON reviews (store_id, created_at DESC, id DESC, responded_at) WHERE responded_at IS NULL;
-- minRating reads the newest-first index and skips lower ratings; its total alone comes from
-- review_stats. (PostgreSQL also has a (store_id, rating, …) index, for stores where the
-- rating asked for is rare: its planner knows when. SQLite, without statistics, would sort a
-- whole store's reviews through it for every such page.)
-- customerId; also finds the reviews to detach when the customer is erased.
CREATE INDEX reviews_customer ON reviews (store_id, customer_id, created_at DESC, id DESC);

-- Each store's review counters, kept exact in the transaction of every review insert,
-- approval change and delete: the statistics and the unfiltered total read one row. A store
-- has a row from its first review on.
CREATE TABLE review_stats (
    store_id TEXT NOT NULL PRIMARY KEY REFERENCES stores (id),
    total INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    -- Reviews with each rating.
    rated_1 INTEGER NOT NULL DEFAULT 0 CHECK (rated_1 >= 0),
    rated_2 INTEGER NOT NULL DEFAULT 0 CHECK (rated_2 >= 0),
    rated_3 INTEGER NOT NULL DEFAULT 0 CHECK (rated_3 >= 0),
    rated_4 INTEGER NOT NULL DEFAULT 0 CHECK (rated_4 >= 0),
    rated_5 INTEGER NOT NULL DEFAULT 0 CHECK (rated_5 >= 0),
    approved INTEGER NOT NULL DEFAULT 0 CHECK (approved >= 0),
    CHECK (total = rated_1 + rated_2 + rated_3 + rated_4 + rated_5),
    CHECK (approved <= total)
) STRICT, WITHOUT ROWID;
