DROP TABLE idempotency_keys;
DROP TABLE ledger_entries;
DROP TABLE order_items;
DROP TABLE orders;
ALTER TABLE customers DROP COLUMN ledger_seq;
