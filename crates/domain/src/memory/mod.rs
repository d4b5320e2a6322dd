//! Every repository port held in memory (feature `memory`), for embedding the service's rules
//! without a database and for tests: [`Memory`].
//!
//! One [`Memory`] is one store of data shared by its clones. Its state sits behind one
//! [`std::sync::Mutex`], and every write takes the lock once for the whole of it, so a write is
//! atomic exactly as a database transaction is: it happens entirely (with its audit entry) or
//! not at all, and no reader sees half of it. The rules are the domain's own, applied as the
//! SQL adapter (`crates/persistence`) applies them: tenancy by store (each store's data is its
//! own `Tenant`; no method reaches another store's), per-store uniqueness of customer emails
//! (case-insensitive), phones and staff emails, versions refusing stale updates, the ledger's
//! numbering and its never-negative balance, idempotency claims and order dedupe, erasure.
//!
//! Nothing here does I/O or needs an async runtime: every future of [`Memory`] is ready when
//! first polled, and [`block_on`] runs one (or a service's, built on Memory) to its end.
//! [`system`] gives a real clock and ids, [`services`] every use case over a new `Memory`, and
//! [`open_store`] a store and its owner.
//!
//! Data lives as long as the process: nothing is persisted.

mod access;
mod customers;
mod orders;
mod records;
mod reviews;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use chrono::{DateTime, Utc};

use crate::access::{Busy, Credential, PasswordHasher, Principal, StaffUser, TokenDigester};
use crate::audit::AuditEntry;
use crate::customer::{Activity, Block, Customer};
use crate::idempotency::StoredResponse;
use crate::ids::{
    AuditId, CredentialId, CustomerId, GENERATED_RANDOM_LEN, OrderId, ReviewId, StoreId, UserId,
};
use crate::loyalty::LedgerEntry;
use crate::order::Order;
use crate::page::PageRequest;
use crate::ports::{Clock, IdGenerator, RepoError, System};
use crate::review::{Review, ReviewStats};
use crate::services::Services;
use crate::store::{Store, StoreSettings};
use crate::store::{StoreError, StoreService};

/// Every repository port, in memory. Clones share the data.
#[derive(Clone)]
pub struct Memory {
    state: Arc<Mutex<State>>,
    /// Who holds the idempotency claims made through this handle and its clones: the process
    /// it stands for (see [`Memory::restarted`]).
    holder: u64,
}

impl Default for Memory {
    fn default() -> Self {
        Self {
            state: Arc::default(),
            holder: next_holder(),
        }
    }
}

/// A holder of idempotency claims not used before in this process.
fn next_holder() -> u64 {
    static HOLDERS: AtomicU64 = AtomicU64::new(1);
    HOLDERS.fetch_add(1, Ordering::Relaxed)
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory").finish_non_exhaustive()
    }
}

/// Everything held: the stores with their data, and the login throttle's rows (which span
/// stores, as a client address does).
#[derive(Default)]
struct State {
    tenants: BTreeMap<StoreId, Tenant>,
    login_rows: Vec<LoginRow>,
}

/// One store and everything that belongs to it.
struct Tenant {
    store: Store,
    customers: BTreeMap<CustomerId, StoredCustomer>,
    orders: BTreeMap<OrderId, StoredOrder>,
    reviews: BTreeMap<ReviewId, Review>,
    /// Kept by every review write, as the SQL adapter keeps `review_stats`.
    review_stats: ReviewStats,
    /// In the order written: the tie-break of entries of one instant.
    audit: Vec<AuditEntry>,
    /// The ids in `audit`: an entry's id is unique, as the database's key makes it.
    audit_ids: HashSet<AuditId>,
    /// By credential and key.
    keys: HashMap<(CredentialId, String), StoredKey>,
    users: BTreeMap<UserId, (StaffUser, String)>,
    credentials: BTreeMap<CredentialId, StoredCredential>,
}

impl Tenant {
    /// Refuses an entry whose id is taken: checked before a write changes anything, so that a
    /// change whose entry cannot be stored is not made either.
    fn audit_free(&self, entry: &AuditEntry) -> Result<(), RepoError> {
        if self.audit_ids.contains(&entry.id) {
            return Err(RepoError::Internal(format!("the id {} is taken", entry.id)));
        }
        Ok(())
    }

    /// Appends an entry checked with [`Tenant::audit_free`].
    fn log(&mut self, entry: AuditEntry) {
        self.audit_ids.insert(entry.id.clone());
        self.audit.push(entry);
    }

    fn new(store: Store) -> Self {
        Self {
            store,
            customers: BTreeMap::new(),
            orders: BTreeMap::new(),
            reviews: BTreeMap::new(),
            review_stats: ReviewStats::default(),
            audit: Vec::new(),
            audit_ids: HashSet::new(),
            keys: HashMap::new(),
            users: BTreeMap::new(),
            credentials: BTreeMap::new(),
        }
    }
}

struct StoredCustomer {
    customer: Customer,
    /// The ledger, oldest first: entry `i` is number `i + 1`, with the claim it was written
    /// under.
    ledger: Vec<(LedgerEntry, Option<String>)>,
}

struct StoredOrder {
    order: Order,
    /// The idempotency claim of the request that recorded it.
    claim: Option<String>,
}

struct StoredKey {
    request_digest: String,
    claim: String,
    /// `None` while in progress.
    response: Option<StoredResponse>,
    /// While in progress: the [`Memory::holder`] running the claim; `None` once it gave the key
    /// up without an answer.
    holder: Option<u64>,
    locked_until: DateTime<Utc>,
    created_at: DateTime<Utc>,
    customer: Option<CustomerId>,
}

struct StoredCredential {
    credential: Credential,
    revoked_at: Option<DateTime<Utc>>,
}

/// A login failure, an attempt being checked (`attempt` set), or a noted refusal.
struct LoginRow {
    key: String,
    at: DateTime<Utc>,
    attempt: Option<String>,
}

impl State {
    fn tenant(&self, store: &StoreId) -> Option<&Tenant> {
        self.tenants.get(store)
    }

    /// The store written to; a write for a store that does not exist fails, as the database's
    /// foreign keys make it fail.
    fn tenant_mut(&mut self, store: &StoreId) -> Result<&mut Tenant, RepoError> {
        self.tenants
            .get_mut(store)
            .ok_or_else(|| RepoError::Internal(format!("there is no store {store}")))
    }
}

impl Memory {
    /// An empty store of every repository: no stores, no customers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same data as a process started after this one's death would find it: a handle
    /// whose claims are its own, while the claims in progress of `self` (and its clones) no
    /// longer hold their keys. Data in memory dies with its process, so this is for tests of
    /// the repository contract, as a database opened again after a crash.
    pub fn restarted(&self) -> Memory {
        Memory {
            state: Arc::clone(&self.state),
            holder: next_holder(),
        }
    }

    /// The state, locked for one read or one whole write.
    fn lock(&self) -> Result<MutexGuard<'_, State>, RepoError> {
        self.state
            .lock()
            .map_err(|_| RepoError::Internal("a write panicked while holding the data".into()))
    }

    /// Reads with the state locked.
    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> Result<T, RepoError> {
        Ok(f(&*self.lock()?))
    }

    /// Writes with the state locked for the whole write. `f` decides everything before it
    /// changes anything, so a refused write leaves nothing behind.
    fn write<T, E: From<RepoError>>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, E>,
    ) -> Result<T, E> {
        f(&mut *self.lock()?)
    }

    /// Creates a store with its owner (no password: the owner signs in with nothing but the
    /// token behind the returned principal) through [`StoreService`], and returns the owner
    /// as a caller of every service: what an embedding needs to start.
    pub async fn open_store(
        &self,
        system: &System,
        settings: &StoreSettings,
        owner_email: &str,
    ) -> Result<Principal, StoreError> {
        let digests: Arc<dyn TokenDigester> = Arc::new(NotSecretDigest);
        let stores = StoreService::new(
            Arc::new(self.clone()),
            Arc::new(NoPasswords),
            Arc::clone(&digests),
            system.clone(),
        );
        stores.open_store(self, settings, owner_email).await
    }

    /// Writes a customer's order totals and points directly (what recording orders does);
    /// `false` when there is no such customer. For tests, as the persistence test harness's.
    pub async fn set_activity(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        activity: &Activity,
    ) -> Result<bool, RepoError> {
        self.write(|state| {
            Ok(customer_mut(state, store, customer).is_some_and(|found| {
                found.customer.activity = activity.clone();
                true
            }))
        })
    }

    /// Blocks (`Some`) or unblocks (`None`) a customer directly, with no audit entry; `false`
    /// when there is none. For tests, as the persistence test harness's.
    pub async fn set_block(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        block: Option<&Block>,
    ) -> Result<bool, RepoError> {
        self.write(|state| {
            Ok(customer_mut(state, store, customer).is_some_and(|found| {
                found.customer.block = block.cloned();
                true
            }))
        })
    }

    /// The store's review statistics counted afresh from its reviews (not the kept counters),
    /// to hold the counters against.
    pub async fn recount_reviews(&self, store: &StoreId) -> Result<ReviewStats, RepoError> {
        self.read(|state| {
            state
                .tenant(store)
                .map(|tenant| ReviewStats::count(tenant.reviews.values()))
                .unwrap_or_default()
        })
    }
}

fn customer_mut<'a>(
    state: &'a mut State,
    store: &StoreId,
    id: &CustomerId,
) -> Option<&'a mut StoredCustomer> {
    state.tenants.get_mut(store)?.customers.get_mut(id)
}

/// One page of `items` (already in the list's order) and how many there are.
fn page_of<T>(items: impl IntoIterator<Item = T>, page: PageRequest) -> (Vec<T>, u64) {
    let mut total = 0u64;
    let offset = page.offset();
    let limit = u64::from(page.limit());
    let mut rows = Vec::new();
    for item in items {
        if total >= offset && total < offset.saturating_add(limit) {
            rows.push(item);
        }
        total += 1;
    }
    (rows, total)
}

/// Runs a future to its end on the calling thread, without a runtime: [`Memory`]'s futures,
/// and those of the services built on it, are ready when first polled. A future that waits on
/// something else is polled again until it is ready (a busy wait, never a deadlock).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// A real clock (the system's time) and [`SimpleIds`].
pub fn system() -> System {
    System::new(SystemClock, SimpleIds::default())
}

/// Every use case over a new, empty [`Memory`], on the [`system`] clock and ids.
pub fn services() -> Services<Memory> {
    Services::new(Arc::new(Memory::new()), system())
}

/// Creates a store with its owner in the memory of `services` (see [`Memory::open_store`])
/// and returns the owner as the caller of every use case.
pub async fn open_store(
    services: &Services<Memory>,
    settings: &StoreSettings,
    owner_email: &str,
) -> Result<Principal, StoreError> {
    let repos = services.repos();
    repos
        .open_store(services.system(), settings, owner_email)
        .await
}

/// The system's time, in UTC.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let millis = i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX);
        DateTime::from_timestamp_millis(millis).unwrap_or(DateTime::UNIX_EPOCH)
    }
}

/// Ids and "secrets" from std's randomly keyed SipHash over a counter: unique and hard to
/// guess by chance, but **not secret-grade**: [`IdGenerator::secret_bytes`] asks for a
/// cryptographically secure source, and this is not one. Tokens and API keys made with it must
/// not guard anything of value; a deployment uses the server's generator.
#[derive(Debug, Default)]
pub struct SimpleIds {
    keys: RandomState,
    counter: AtomicU64,
}

impl SimpleIds {
    fn next(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.keys.hash_one(n)
    }
}

impl IdGenerator for SimpleIds {
    fn new_id(&self, prefix: &'static str) -> String {
        const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        let mut bits = (u128::from(self.next()) << 64) | u128::from(self.next());
        let mut id = String::with_capacity(prefix.len() + 1 + GENERATED_RANDOM_LEN);
        id.push_str(prefix);
        id.push('_');
        for _ in 0..GENERATED_RANDOM_LEN {
            id.push(char::from(ALPHABET[(bits & 31) as usize]));
            bits >>= 5;
        }
        id
    }

    fn secret_bytes(&self) -> [u8; 32] {
        let mut bytes = [0; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        bytes
    }
}

/// A digest of secrets for [`Memory::open_store`]: std's SipHash with fixed keys, twice over.
/// **Not secret-grade** (production stores SHA-256): fine in memory, where the digests never
/// leave the process.
#[derive(Clone, Copy, Debug, Default)]
pub struct NotSecretDigest;

impl TokenDigester for NotSecretDigest {
    fn digest(&self, secret: &str) -> String {
        #[allow(deprecated)] // SipHasher: fixed keys, the same digest in every process.
        let hash = |salt: u8| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::hash::SipHasher::new_with_keys(0x6d65_6d6f, u64::from(salt));
            secret.hash(&mut hasher);
            hasher.finish()
        };
        format!("{:016x}{:016x}", hash(1), hash(2))
    }
}

/// A password hasher for embeddings without passwords: hashing fails, and no password
/// matches (so password logins never succeed). Staff sign in with tokens only.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPasswords;

impl PasswordHasher for NoPasswords {
    async fn hash(&self, _password: String) -> Result<String, String> {
        Err("this embedding keeps no passwords".into())
    }

    async fn verify(&self, _password: String, _hash: Option<String>) -> Result<bool, Busy> {
        Ok(false)
    }
}
