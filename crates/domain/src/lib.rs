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
//! - [`services`]: every use case over one adapter that implements every repository port.
//! - [`validation`]: field errors, collected rather than stopping at the first.
//! - [`page`]: pagination shared by every list.
//! - [`days`]: whole local days, as date filters take them.
//! - `memory` (feature `memory`): every repository port held in memory, for embedding and tests.
//!
//! # Embedding
//!
//! Every rule and every authorization decision is here: a use case refuses a caller whose role
//! or scopes its [`access::Action`] does not allow, and the adapters only store what the rules
//! decide (for example [`order::Order::recording`], [`order::Cancellation::apply`],
//! [`customer::Block::change`], [`loyalty::check_balance`]). Each service is generic over the
//! ports of its area ([`customer::ports`], [`order::ports`], …); [`services::Services`] builds
//! them all over one adapter that implements every port.
//!
//! With the in-memory adapter (feature `memory`), nothing but this crate is needed — no
//! database, no async runtime:
//!
//! ```
//! # #[cfg(feature = "memory")] {
//! use customers_domain::{memory, prelude::*};
//!
//! let services = memory::services();
//! let settings = StoreSettings::default();
//! let owner = block_on(memory::open_store(&services, &settings, "owner@example.dk")).unwrap();
//!
//! let mut form = ProfileInput::default();
//! form.email = Patch::Set("maria@example.dk".into());
//! let maria = block_on(services.customers().create(&owner, &form)).unwrap();
//! let points = block_on(services.loyalty().balance(&owner, maria.id.as_str()));
//! assert_eq!(points, Ok(0));
//!
//! // A staff member may not adjust points by hand: the use case refuses, whoever calls it.
//! let mut staff = owner.clone();
//! if let Holder::Staff { role, .. } = &mut staff.holder {
//!     *role = Role::Staff;
//! }
//! let loyalty = services.loyalty();
//! let adjusted = block_on(loyalty.adjust(&staff, maria.id.as_str(), Some(5), Some("Hi"), None));
//! assert_eq!(adjusted.unwrap_err(), LoyaltyError::Forbidden);
//! # }
//! ```
//!
//! `examples/kiosk.rs` signs a customer up and records an order this way. The
//! `customers-stack` crate gives the same [`services::Services`] over SQLite or PostgreSQL
//! (its `examples/sqlite.rs`), with the production clock, ids, argon2id and SHA-256.
//! `feature = "testing"` exports `mockall` doubles of every port and fixtures.

#![deny(missing_docs)]

pub mod access;
pub mod audit;
pub mod customer;
pub mod days;
pub mod idempotency;
pub mod ids;
pub mod keyset;
pub mod loyalty;
#[cfg(feature = "memory")]
pub mod memory;
pub mod order;
pub mod page;
pub mod ports;
pub mod privacy;
pub mod review;
pub mod services;
pub mod store;
pub mod validation;

pub mod prelude;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// The date and time types of every signature here, re-exported so that an embedding crate
/// uses the same version.
pub use chrono;
