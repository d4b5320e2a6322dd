//! End-to-end tests over real HTTP, each run on SQLite and on PostgreSQL.

mod access;
mod audit;
mod customers;
mod hostile;
mod keys;
mod listing;
mod loyalty;
mod orders;
mod outage;
mod protocol;
mod reviews;
mod timeouts;
