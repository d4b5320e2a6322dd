//! What every area's ports share: the storage failure [`RepoError`], and the system ports
//! (the [`Clock`] and the [`IdGenerator`]) bundled as [`System`].
//!
//! Each area declares its own ports beside its rules (`customer::ports`, `order::ports`,
//! `loyalty::ports`, `review::ports`, `access::ports`, `store::ports`, `audit::ports`,
//! `idempotency::ports`), and each service is generic over the ports it uses and nothing
//! more. Every repository method names the store it works in: no method can reach another
//! store's rows. Repository methods return `impl Future + Send` so that services built on
//! them can be spawned.
//!
//! A write that the audit trail records takes its [`AuditEntry`](crate::audit::AuditEntry)
//! and stores it in the same transaction as the change, and only when the change happened.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// A storage failure, as far as the use cases care.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The database cannot be reached or handed out no connection in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule refused the write.
    #[error("conflict on {0:?}")]
    Conflict(Unique),
    /// Anything else; the text is for logs, never for API users.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Which uniqueness rule a write broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unique {
    /// A customer's email (per store, case-insensitive).
    CustomerEmail,
    /// A customer's phone (per store).
    CustomerPhone,
    /// A staff user's email (per store, case-insensitive).
    UserEmail,
}

/// The time, for every rule that depends on it.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// Identifiers and the randomness of secrets.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait IdGenerator: Send + Sync + 'static {
    /// A new `<prefix>_<random>` id.
    fn new_id(&self, prefix: &'static str) -> String;

    /// 32 bytes from a cryptographically secure source.
    fn secret_bytes(&self) -> [u8; 32];
}

/// The system ports every service uses: the clock and the id generator.
#[derive(Clone)]
pub struct System {
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl System {
    /// The system ports over this clock and id generator.
    pub fn new(clock: impl Clock, ids: impl IdGenerator) -> Self {
        Self {
            clock: Arc::new(clock),
            ids: Arc::new(ids),
        }
    }

    /// The current time, truncated to milliseconds (the API's precision), so that what is
    /// stored reads back exactly.
    pub fn now(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }

    /// A new `<prefix>_<random>` id.
    pub fn new_id(&self, prefix: &'static str) -> String {
        self.ids.new_id(prefix)
    }

    /// 32 bytes from a cryptographically secure source.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.ids.secret_bytes()
    }
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System").finish_non_exhaustive()
    }
}
