//! Ordeliya Customers without HTTP, for any Rust service: the storage of every repository
//! port of `customers-domain` on SQLite or PostgreSQL, and the adapters of its other ports.
//!
//! - [`open_database`]: connects to a [`DatabaseConfig`] (`sqlite://PATH`, `postgres://…`)
//!   and applies the pending migrations. The [`Database`] implements every repository port
//!   (customers, stores, users, credentials, orders, loyalty, idempotency, reviews, login
//!   failures, audit).
//! - [`adapters`]: [`SystemClock`], [`RandomIds`], [`Argon2Passwords`] (argon2id, at most
//!   [`HashingLimits`] at once) and [`Sha256Digests`].
//!
//! PostgreSQL is the `postgres` feature, on by default; without it only SQLite is built and
//! a `postgres://` URL is refused with a configuration error.
//!
//! `examples/sqlite.rs` signs a customer up, records an order and reads the points over SQLite
//! through the domain's use cases (`cargo run -p customers-stack --example sqlite`). The
//! adapters one by one (`tests/embed.rs` runs them on both backends):
//!
//! ```no_run
//! use customers_domain::access::{PasswordHasher, TokenDigester};
//! use customers_domain::ports::Clock;
//! use customers_domain::store::StoreRepository;
//! use customers_stack::{Argon2Passwords, DatabaseConfig, Sha256Digests, SystemClock};
//!
//! # async fn wire() -> Result<(), Box<dyn std::error::Error>> {
//! let config = DatabaseConfig::new("sqlite://data/customers.db");
//! let database = customers_stack::open_database(&config).await?;
//! let passwords = Argon2Passwords::default();
//!
//! println!("{} stores exist: {}", SystemClock.now(), database.any_exists().await?);
//! let hash = passwords.hash("correct horse battery".into()).await?;
//! let verified = passwords.verify("correct horse battery".into(), Some(hash)).await;
//! assert_eq!(verified, Ok(true), "Err(Busy) when too many checks wait");
//! println!("{}", Sha256Digests.digest("a bearer secret"));
//! database.close();
//! # Ok(())
//! # }
//! ```

pub mod adapters;

pub use adapters::{
    Argon2Passwords, HashingLimits, RETRY_AFTER_BUSY, RandomIds, Sha256Digests, SystemClock,
};
pub use customers_persistence::{Backend, Database, DatabaseConfig, DatabaseError, PoolStatus};

use std::sync::Arc;

use customers_domain::access::Principal;
use customers_domain::ports::System;
use customers_domain::services::Services;
use customers_domain::store::{StoreError, StoreSettings};

/// The system ports of a running service: the [`SystemClock`] and [`RandomIds`] (ids and
/// secrets from the operating system's random source).
pub fn system() -> System {
    System::new(SystemClock, RandomIds)
}

/// Connects to the database of `config` and applies its pending migrations: a new
/// `sqlite://` file (and its folders) is created, an empty database gets every table, and
/// one already up to date is left as it is. Two processes opening one database at once do
/// not race (see `crates/persistence/src/migrations.rs`).
pub async fn open_database(config: &DatabaseConfig) -> Result<Database, DatabaseError> {
    let database = Database::connect(config).await?;
    database.migrate().await?;
    Ok(database)
}

/// Every use case of the domain over the database of `config` (opened and migrated as
/// [`open_database`] does), on the [`system`] clock and ids.
pub async fn open(config: &DatabaseConfig) -> Result<Services<Database>, DatabaseError> {
    Ok(Services::new(
        Arc::new(open_database(config).await?),
        system(),
    ))
}

/// Creates a store with its owner (argon2id passwords, SHA-256 token digests) and returns the
/// owner as the caller of every use case.
pub async fn open_store(
    services: &Services<Database>,
    settings: &StoreSettings,
    owner_email: &str,
) -> Result<Principal, StoreError> {
    let passwords = Arc::new(Argon2Passwords::default());
    (services.open_store(passwords, Arc::new(Sha256Digests), settings, owner_email)).await
}
