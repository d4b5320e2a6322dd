-- The totalSpentMinor sort and the minSpent / maxSpent range, covering lastOrderPeriod too
-- (SQLite edition, twin of migrations/postgres).
--
-- SQLite has no INCLUDE: last_order_at is a last key column instead. After the unique id it
-- changes no order, so the index sorts and ranges exactly as the one it replaces, and a
-- count over the spent range with a last_order_at filter reads the index alone.
CREATE INDEX customers_store_total_spent_covering
    ON customers (store_id, total_spent_minor, id, last_order_at);
DROP INDEX customers_store_total_spent;
