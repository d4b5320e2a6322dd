//! The rules of Ordeliya Customers, free of I/O.
//!
//! Adapters (databases, HTTP, the binary) depend on this crate; it depends on none of them.
//!
//! - [`customer`]: the customer profile, its value types, listing and the customer use cases.
//! - [`access`]: staff users, roles, credentials, the access rules and the auth use cases.
//! - [`order`]: orders, the points they earn, and purchase analytics.
//! - [`loyalty`]: the loyalty ledger and its rules.
//! - [`review`]: reviews of orders, their moderation, responses and statistics.
//! - [`audit`]: the audit trail of customer changes and credential events.
//! - [`privacy`]: exporting everything held about a customer.
//! - [`idempotency`]: replaying a repeated write instead of doing it twice.
//! - [`store`]: the restaurant (tenant) every record belongs to.
//! - [`ports`]: what the use cases need from the outside world, as traits.
//! - [`validation`]: field errors, collected rather than stopping at the first.
//! - [`page`]: pagination shared by every list.
//! - [`days`]: whole local days, as date filters take them.
//! - `memory` (feature `memory`): every repository port held in memory, for embedding and tests.

pub mod access;
pub mod audit;
pub mod customer;
pub mod days;
pub mod idempotency;
pub mod ids;
pub mod loyalty;
#[cfg(feature = "memory")]
pub mod memory;
pub mod order;
pub mod page;
pub mod ports;
pub mod privacy;
pub mod review;
pub mod store;
pub mod validation;

pub mod prelude;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// The date and time types of every signature here, re-exported so that an embedding crate
/// uses the same version.
pub use chrono;
