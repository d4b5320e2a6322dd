//! End-to-end tests over real HTTP, each run on SQLite and on PostgreSQL.

mod access;
mod customers;
mod found_by_fuzzing;
mod keys;
mod listing;
mod loyalty;
mod openapi;
mod orders;
mod protocol;
mod reviews;
