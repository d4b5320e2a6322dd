//! End-to-end tests over real HTTP, each run on SQLite and on PostgreSQL.

mod access;
mod audit;
mod customers;
mod found_by_fuzzing;
mod hostile;
mod keys;
mod listing;
mod loyalty;
mod openapi;
mod orders;
mod outage;
mod protocol;
mod reviews;
mod throttle;
mod timeouts;
