//! End-to-end tests over real HTTP, each run on SQLite and on PostgreSQL.

mod access;
mod audit;
mod cursors;
mod customers;
mod found_by_fuzzing;
mod hostile;
mod junk;
mod keys;
mod limits;
mod listing;
mod loyalty;
mod openapi;
mod order_abuse;
mod orders;
mod outage;
mod protocol;
mod reviews;
mod text_policy;
mod throttle;
mod timeouts;
