//! The `customers` binary's library: configuration, and the wiring of domain, persistence
//! (opened by `customers-stack`, which also holds the adapters that are not a database) and
//! HTTP into one running service.
//!
//! - [`config`]: command line and environment.
//! - [`adapters`]: [`Production`], the stack a running service serves from (the system
//!   adapters themselves are `customers-stack`'s, re-exported there).
//! - [`credential_cache`]: active credentials kept for two seconds, so that a request costs
//!   no lookup of its bearer secret in the common case.
//! - [`run`]: start a server (also used by the end-to-end tests), migrate, create a store.

pub mod adapters;
pub mod config;
pub mod credential_cache;
pub mod run;

pub use adapters::{Production, production};
pub use run::{
    FirstStart, RunningServer, ServeOptions, create_store, describe, open_database,
    set_max_order_minor, start,
};
