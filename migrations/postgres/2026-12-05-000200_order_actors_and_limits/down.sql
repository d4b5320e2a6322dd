DROP INDEX idempotency_keys_customer;
ALTER TABLE idempotency_keys DROP COLUMN customer_id;
ALTER TABLE stores DROP COLUMN max_order_minor;
ALTER TABLE ledger_entries DROP COLUMN actor_type;
ALTER TABLE orders DROP COLUMN cancelled_by_id;
ALTER TABLE orders DROP COLUMN cancelled_by_type;
ALTER TABLE orders DROP COLUMN recorded_by_id;
ALTER TABLE orders DROP COLUMN recorded_by_type;
