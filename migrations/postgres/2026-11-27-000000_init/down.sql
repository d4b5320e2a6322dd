-- pg_trgm stays installed: other schemas of the database may use it.
DROP TABLE customer_allergens;
DROP TABLE customer_addresses;
DROP TABLE customers;
DROP TABLE credentials;
DROP TABLE users;
DROP TABLE stores;
