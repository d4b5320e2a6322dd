//! The storage adapter of Ordeliya Customers: the domain's repository ports on SQLite (the
//! embedded default) or PostgreSQL, from one set of diesel queries.
//!
//! - `config`: [`DatabaseConfig`], the database URL and its defaults.
//! - `pool`: [`Database`], its connection pool, and the macros that run one block of
//!   queries on whichever backend is live (plain or in a write transaction).
//! - `schema`: the tables as diesel sees them; `migrations/` at the workspace root holds the
//!   SQL of each backend, embedded by `migrations`.
//! - `customers`, `stores`, `users`, `credentials`: the repository ports of the domain,
//!   implemented for [`Database`].
//! - `orders`: recording and cancelling orders (with the customer's totals and points), a
//!   customer's history and analytics.
//! - `loyalty`: the loyalty ledger, moved only by conditional updates.
//! - `reviews`: reviews of orders, their moderation and responses, the list, and each store's
//!   review counters (the statistics), kept in the transaction of every review write.
//! - `idempotency`: idempotency keys, claimed, completed and released.
//! - `audit`: the audit trail; the audited writes insert their entry in their own
//!   transaction.
//! - `login_failures`: failed logins per throttle key (not per store), for slowing down
//!   password guessing.
//! - `citus`: the placement of every table on a Citus cluster, by store.
//! - `error`: [`DatabaseError`], and how storage failures become the domain's `RepoError`.
//! - `testing` (feature `testing`): fresh, migrated databases for the tests of this and other
//!   crates, on SQLite and PostgreSQL.
//!
//! Features: `postgres` (default) builds the PostgreSQL backend besides SQLite; without it a
//! `postgres://` URL is refused. `testing` (which needs `postgres`) adds the `testing`
//! module; only tests enable it.

mod audit;
#[cfg(feature = "postgres")]
mod citus;
mod config;
mod credentials;
mod customers;
mod error;
mod idempotency;
mod keyset;
mod login_failures;
mod loyalty;
mod migrations;
mod orders;
mod paging;
mod pool;
mod reviews;
mod schema;
mod stores;
mod time;
mod users;

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "postgres")]
pub use citus::{GLOBAL_TABLES, Placement, Step};
pub use config::{
    DEFAULT_POINT_READ_CONNECTIONS, DatabaseConfig, default_max_connections, redact_url,
};
pub use error::DatabaseError;
pub use pool::{Backend, Database, PoolStatus};
