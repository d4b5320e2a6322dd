CREATE INDEX customers_store_total_spent ON customers (store_id, total_spent_minor, id);
DROP INDEX customers_store_total_spent_covering;
