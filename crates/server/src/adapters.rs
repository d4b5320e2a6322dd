//! The production stack a running service serves from: the database, its credentials behind
//! the cache, and the system adapters of `customers-stack`.

use std::sync::Arc;

use customers_http::{Adapters, Stack};
use customers_persistence::Database;
pub use customers_stack::adapters::{
    Argon2Passwords, HashingLimits, RETRY_AFTER_BUSY, RandomIds, Sha256Digests, SystemClock,
};

use crate::credential_cache::CachedCredentials;

/// The production stack served over HTTP: diesel over SQLite or PostgreSQL, credential
/// lookups behind a short-lived cache, argon2id passwords.
pub struct Production;

impl Stack for Production {
    type Db = Database;
    type Credentials = CachedCredentials<Database>;
    type Passwords = Argon2Passwords;
}

pub use customers_stack::system;

/// The production adapters over `database`, hashing passwords within `limits`.
pub fn production(database: Database, limits: HashingLimits) -> Adapters<Production> {
    Adapters {
        credentials: Arc::new(CachedCredentials::new(database.clone())),
        db: Arc::new(database),
        passwords: Arc::new(Argon2Passwords::new(limits)),
        digests: Arc::new(Sha256Digests),
        system: system(),
    }
}
