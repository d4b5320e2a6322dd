//! The set of adapters a running service uses: the database, its credentials behind the
//! cache, and the system adapters of `customers-stack`.

use std::sync::Arc;

use customers_domain::Ports;
use customers_persistence::Database;
pub use customers_stack::adapters::{
    Argon2Passwords, HashingLimits, RETRY_AFTER_BUSY, RandomIds, Sha256Digests, SystemClock,
};

use crate::credential_cache::CachedCredentials;

/// Everything a running service talks to.
#[derive(Clone)]
pub struct Adapters {
    pub database: Database,
    /// The database's credentials behind a short-lived cache of active ones.
    pub credentials: Arc<CachedCredentials<Database>>,
    pub clock: SystemClock,
    pub ids: RandomIds,
    pub passwords: Argon2Passwords,
    pub digests: Sha256Digests,
}

impl Adapters {
    pub fn new(database: Database) -> Arc<Self> {
        Self::with_hashing(database, HashingLimits::default())
    }

    /// With password hashing bounded by `limits`.
    pub fn with_hashing(database: Database, limits: HashingLimits) -> Arc<Self> {
        Arc::new(Self {
            credentials: Arc::new(CachedCredentials::new(database.clone())),
            database,
            clock: SystemClock,
            ids: RandomIds,
            passwords: Argon2Passwords::new(limits),
            digests: Sha256Digests,
        })
    }
}

impl Ports for Adapters {
    type Customers = Database;
    type Stores = Database;
    type Users = Database;
    type Credentials = CachedCredentials<Database>;
    type Orders = Database;
    type Loyalty = Database;
    type Idempotency = Database;
    type Reviews = Database;
    type LoginFailures = Database;
    type Audit = Database;
    type Clock = SystemClock;
    type Ids = RandomIds;
    type Passwords = Argon2Passwords;
    type Digests = Sha256Digests;

    fn customers(&self) -> &Database {
        &self.database
    }
    fn stores(&self) -> &Database {
        &self.database
    }
    fn users(&self) -> &Database {
        &self.database
    }
    fn credentials(&self) -> &CachedCredentials<Database> {
        &self.credentials
    }
    fn orders(&self) -> &Database {
        &self.database
    }
    fn loyalty(&self) -> &Database {
        &self.database
    }
    fn idempotency(&self) -> &Database {
        &self.database
    }
    fn reviews(&self) -> &Database {
        &self.database
    }
    fn login_failures(&self) -> &Database {
        &self.database
    }
    fn audit(&self) -> &Database {
        &self.database
    }
    fn clock(&self) -> &SystemClock {
        &self.clock
    }
    fn ids(&self) -> &RandomIds {
        &self.ids
    }
    fn passwords(&self) -> &Argon2Passwords {
        &self.passwords
    }
    fn digests(&self) -> &Sha256Digests {
        &self.digests
    }
}
