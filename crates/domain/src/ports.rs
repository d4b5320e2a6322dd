//! The ports: everything the use cases need from outside, as traits.
//!
//! Repositories are implemented by the persistence adapter, the rest by the binary. Every
//! repository method names the store it works in: no method can reach another store's rows.
//! Methods return `impl Future + Send` so that services built on them can be spawned.
//!
//! A write that the audit trail records takes its [`AuditEntry`] and stores it in the same
//! transaction as the change, and only when the change happened.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::access::throttle::{AttemptKeys, Policy, Refusal};
use crate::access::{ApiKey, Credential, Principal, StaffUser};
use crate::audit::{Actor, AuditAction, AuditEntry, AuditFilter};
use crate::customer::{Block, Customer, CustomerListQuery, CustomerSummary, Profile};
use crate::idempotency::{Begin, IdempotencyScope, StoredResponse};
use crate::ids::{AuditId, CredentialId, CustomerId, LedgerEntryId, OrderId, ReviewId, StoreId};
use crate::loyalty::LedgerEntry;
use crate::order::{CustomerAnalytics, Order, Recorded};
use crate::page::PageRequest;
use crate::review::{Moderation, Review, ReviewFilter, ReviewResponse, ReviewStats};
use crate::store::Store;

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

#[cfg_attr(test, mockall::automock)]
pub trait CustomerRepository: Send + Sync + 'static {
    /// Stores a new customer with its default address and allergens, in one transaction.
    fn insert(
        &self,
        customer: &Customer,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    fn find(
        &self,
        store: &StoreId,
        id: &CustomerId,
    ) -> impl Future<Output = Result<Option<Customer>, RepoError>> + Send;

    /// One page of customers and the exact number matching the filters.
    fn list(
        &self,
        store: &StoreId,
        query: &CustomerListQuery,
    ) -> impl Future<Output = Result<(Vec<CustomerSummary>, u64), RepoError>> + Send;

    /// Replaces the writable profile if the customer is still at `expected_version`; `false`
    /// when it is gone or was changed meanwhile. Customer row, address and allergens change in
    /// one transaction; the version goes up by one.
    fn update_profile(
        &self,
        store: &StoreId,
        id: &CustomerId,
        profile: &Profile,
        expected_version: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    /// Blocks (`Some`) or unblocks (`None`) the customer; blocking an already blocked customer
    /// keeps its `blocked_at` and takes the new reason. A call that would change nothing (the
    /// same block and reason again, or unblocking a customer who is not blocked) writes
    /// nothing, the audit entry included. `false` when there is no such customer.
    fn set_block(
        &self,
        store: &StoreId,
        id: &CustomerId,
        block: Option<Block>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    /// Erases the customer: the customer row, addresses and ledger entries go; orders and
    /// reviews stay with no customer; the idempotency keys of requests about the customer go
    /// with their stored responses (all in the same transaction); the email and phone become
    /// free. `false` when there was none.
    fn delete(
        &self,
        store: &StoreId,
        id: &CustomerId,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;
}

/// Why an order could not be recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderWriteError {
    #[error("no such customer in this store")]
    UnknownCustomer,
    #[error("the customer is blocked")]
    CustomerBlocked,
    /// The customer's totals or points would pass what can be stored.
    #[error("the customer's totals cannot take the order")]
    TotalsOutOfRange,
    #[error(transparent)]
    Storage(#[from] RepoError),
}

/// Why an adjustment was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdjustError {
    #[error("no such customer in this store")]
    UnknownCustomer,
    #[error("the balance of {balance} cannot take the adjustment")]
    InsufficientPoints { balance: i64 },
    /// The balance would pass what can be stored.
    #[error("the balance cannot take the adjustment")]
    PointsOutOfRange,
    #[error(transparent)]
    Storage(#[from] RepoError),
}

#[cfg_attr(test, mockall::automock)]
pub trait OrderRepository: Send + Sync + 'static {
    /// In one transaction: stores the order and its items; for a customer, adds it to their
    /// `total_orders`, `total_spent_minor` and `last_order_at` (refused when the customer is
    /// blocked or unknown, and when [`crate::order::CustomerTotals::with_order`] refuses the
    /// customer's current totals, read under the row's lock) and, when
    /// `order.points_earned > 0`, credits the points with a ledger entry `earn_entry` (source
    /// `order`, actor `order.recorded_by`), all dated `now`; stores `audit` (`order.recorded`,
    /// with the order's customer). An order with the same `external_id` — or the same `claim`
    /// — already recorded is returned as `Existing`, and nothing is written.
    fn record(
        &self,
        order: &Order,
        earn_entry: &LedgerEntryId,
        claim: Option<String>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<Recorded, OrderWriteError>> + Send;

    fn find(
        &self,
        store: &StoreId,
        id: &OrderId,
    ) -> impl Future<Output = Result<Option<Order>, RepoError>> + Send;

    /// In one transaction, once: marks the order cancelled and, for its customer, takes it
    /// out of the totals (`last_order_at` becomes the newest remaining order's `placed_at`)
    /// and takes back the points it earned, never below zero, with a ledger entry
    /// `take_back_entry` (source `order_cancel`) when anything was taken; the order and the
    /// entry name `audit.actor` as who cancelled, and `audit` (`order.cancelled`) is stored
    /// with the order's customer filled in. An order that is already cancelled is returned
    /// unchanged and nothing is written. `None` when there is no such order.
    fn cancel(
        &self,
        store: &StoreId,
        id: &OrderId,
        now: DateTime<Utc>,
        take_back_entry: &LedgerEntryId,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<Option<Order>, RepoError>> + Send;

    /// The customer's orders, newest first, and how many there are; `None` when there is no
    /// such customer.
    fn list_for_customer(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        page: PageRequest,
    ) -> impl Future<Output = Result<Option<(Vec<Order>, u64)>, RepoError>> + Send;

    /// Aggregates over the customer's orders that are not cancelled, computed by the database:
    /// totals and the top products and categories (by number of orders containing them, ties by
    /// name, at most five each). `None` when there is no such customer.
    fn analytics(
        &self,
        store: &StoreId,
        customer: &CustomerId,
    ) -> impl Future<Output = Result<Option<CustomerAnalytics>, RepoError>> + Send;
}

#[cfg_attr(test, mockall::automock)]
pub trait LoyaltyRepository: Send + Sync + 'static {
    /// In one transaction: moves the customer's points by `entry.delta` with a conditional
    /// update (never read-then-write), refused when the result would be below zero, and appends
    /// `entry` with the resulting `balance_after` (the value given is ignored). When `claim`
    /// was already used for an entry, that entry is returned and nothing is written.
    fn adjust(
        &self,
        entry: &LedgerEntry,
        claim: Option<String>,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<LedgerEntry, AdjustError>> + Send;

    /// The balance and one page of entries, newest first, with their total; `None` when there
    /// is no such customer.
    fn ledger(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        page: PageRequest,
    ) -> impl Future<Output = Result<Option<(i64, Vec<LedgerEntry>, u64)>, RepoError>> + Send;
}

#[cfg_attr(test, mockall::automock)]
pub trait IdempotencyRepository: Send + Sync + 'static {
    /// Looks the key up and, when it is free (or its claim's lease ran out), claims it with
    /// `claim` until `now + lease`. Keys older than `lifetime` count as free. `customer` is
    /// the customer the request is about, kept with the key so that erasing the customer
    /// deletes the key and its stored response.
    #[allow(clippy::too_many_arguments)]
    fn begin(
        &self,
        scope: &IdempotencyScope,
        customer: Option<CustomerId>,
        request_digest: &str,
        claim: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        lifetime: chrono::Duration,
    ) -> impl Future<Output = Result<Begin, RepoError>> + Send;

    /// Stores the response of the claim, for replay.
    fn complete(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
        response: &StoredResponse,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// Frees the key (the request failed and wrote nothing).
    fn release(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;
}

/// Why a review could not be stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewWriteError {
    #[error("this order already has a review")]
    AlreadyReviewed,
    #[error(transparent)]
    Storage(#[from] RepoError),
}

#[cfg_attr(test, mockall::automock)]
pub trait ReviewRepository: Send + Sync + 'static {
    /// Stores a new review; `AlreadyReviewed` when its order has one. Keeps the store's review
    /// statistics in the same transaction.
    fn insert(&self, review: &Review) -> impl Future<Output = Result<(), ReviewWriteError>> + Send;

    fn find(
        &self,
        store: &StoreId,
        id: &ReviewId,
    ) -> impl Future<Output = Result<Option<Review>, RepoError>> + Send;

    /// One page of reviews matching the filter, newest first, and how many match.
    fn list(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<(Vec<Review>, u64), RepoError>> + Send;

    /// The store's review statistics, without reading every review.
    fn stats(&self, store: &StoreId)
    -> impl Future<Output = Result<ReviewStats, RepoError>> + Send;

    /// Sets the moderation flags if the review is still at `expected_version` (the version goes
    /// up by one); `false` when it is gone or was changed meanwhile.
    fn set_moderation(
        &self,
        store: &StoreId,
        id: &ReviewId,
        moderation: Moderation,
        expected_version: i64,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    /// Sets (or replaces) the store's response; `false` when there is no such review.
    fn respond(
        &self,
        store: &StoreId,
        id: &ReviewId,
        response: &ReviewResponse,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    /// Deletes the review; `false` when there was none.
    fn delete(
        &self,
        store: &StoreId,
        id: &ReviewId,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;
}

#[cfg_attr(test, mockall::automock)]
pub trait StoreRepository: Send + Sync + 'static {
    fn find(&self, id: &StoreId) -> impl Future<Output = Result<Option<Store>, RepoError>> + Send;

    /// Whether any store exists at all (the first start creates one when none does).
    fn any_exists(&self) -> impl Future<Output = Result<bool, RepoError>> + Send;

    /// Sets the store's largest order; `false` when there is no such store.
    fn set_max_order_minor(
        &self,
        id: &StoreId,
        max_order_minor: i64,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    /// Creates the store, its owner and the owner's first token in one transaction.
    fn create_with_owner(
        &self,
        store: &Store,
        owner: &StaffUser,
        password_hash: &str,
        token: &Credential,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;
}

#[cfg_attr(test, mockall::automock)]
pub trait UserRepository: Send + Sync + 'static {
    /// `Conflict(UserEmail)` when the store already has a user with that email.
    fn insert(
        &self,
        user: &StaffUser,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// The user with this (lower-cased) email and their password hash.
    fn find_by_email(
        &self,
        store: &StoreId,
        normalized_email: &str,
    ) -> impl Future<Output = Result<Option<(StaffUser, String)>, RepoError>> + Send;

    /// Users oldest first, and how many there are.
    fn list(
        &self,
        store: &StoreId,
        page: PageRequest,
    ) -> impl Future<Output = Result<(Vec<StaffUser>, u64), RepoError>> + Send;
}

#[cfg_attr(test, mockall::automock)]
pub trait CredentialRepository: Send + Sync + 'static {
    fn insert(
        &self,
        credential: &Credential,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// The holder of the credential with this digest, if it is neither revoked nor expired at
    /// `now`: one indexed lookup.
    fn find_active(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Principal>, RepoError>> + Send;

    /// The store's API keys (revoked ones too), newest first, and how many there are.
    fn list_api_keys(
        &self,
        store: &StoreId,
        page: PageRequest,
    ) -> impl Future<Output = Result<(Vec<ApiKey>, u64), RepoError>> + Send;

    /// Revokes an API key of the store (never a staff token); `false` when there is no such
    /// active key.
    fn revoke_api_key(
        &self,
        store: &StoreId,
        id: &CredentialId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    /// Marks the credential revoked; `false` when it was not active.
    fn revoke(
        &self,
        store: &StoreId,
        id: &CredentialId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;
}

/// Login attempts and failures, counted per throttle key (see [`crate::access::throttle`]).
///
/// An attempt is granted and recorded in one step ([`LoginFailureRepository::claim_attempt`]),
/// before its password is checked; until it is resolved it counts as a failure.
#[cfg_attr(test, mockall::automock)]
pub trait LoginFailureRepository: Send + Sync + 'static {
    /// In one transaction, serialized with every other claim on any of the same keys: reads
    /// the failures (and unresolved attempts) of `claim.keys` within the window, asks
    /// [`throttle::verdict`](crate::access::throttle::verdict), and when it allows, records
    /// the attempt under each key.
    fn claim_attempt(
        &self,
        claim: AttemptClaim,
    ) -> impl Future<Output = Result<Result<(), Refusal>, RepoError>> + Send;

    /// The password was wrong: the attempt stays counted, as a failure, and `audit` (when the
    /// store is known) is stored in the same transaction.
    fn fail_attempt(
        &self,
        attempt: String,
        audit: Option<AuditEntry>,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// The attempt does not count (the password was right, or it was never checked): its rows
    /// go, and so do all failures under `clear`, in one transaction.
    fn forget_attempt(
        &self,
        attempt: String,
        clear: Vec<String>,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// Notes that attempts under `key` are being refused: `true` (and `audit` stored in the
    /// same transaction) when no refusal of `key` was noted at or after `since`, so that a
    /// flood of refused attempts writes one entry per key and window.
    fn note_refusal(
        &self,
        key: String,
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    /// Forgets every failure, attempt and refusal noted before `before`; how many went.
    fn forget_before(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, RepoError>> + Send;

    /// The failures (and unresolved attempts) recorded under any of `keys` at or after
    /// `since`, by key and time.
    fn failures_since(
        &self,
        keys: Vec<String>,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<(String, DateTime<Utc>)>, RepoError>> + Send;
}

/// One login attempt asking to be let through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptClaim {
    /// A new random id, to resolve the attempt by.
    pub attempt: String,
    pub keys: AttemptKeys,
    pub now: DateTime<Utc>,
    pub policy: Policy,
}

#[cfg_attr(test, mockall::automock)]
pub trait AuditRepository: Send + Sync + 'static {
    /// Stores an entry on its own, for what is not a change (an export).
    fn record(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// One page of the store's entries matching the filter, newest first, and how many match.
    fn list(
        &self,
        store: &StoreId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<(Vec<AuditEntry>, u64), RepoError>> + Send;
}

/// The time, for every rule that depends on it.
#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// Identifiers and the randomness of secrets.
#[cfg_attr(test, mockall::automock)]
pub trait IdGenerator: Send + Sync + 'static {
    /// A new `<prefix>_<random>` id.
    fn new_id(&self, prefix: &'static str) -> String;

    /// 32 bytes from a cryptographically secure source.
    fn secret_bytes(&self) -> [u8; 32];
}

/// Password hashing (argon2id in production). Slow on purpose, hence asynchronous.
#[cfg_attr(test, mockall::automock)]
pub trait PasswordHasher: Send + Sync + 'static {
    fn hash(&self, password: String) -> impl Future<Output = Result<String, String>> + Send;

    /// Whether `password` matches `hash`. With `hash: None` it spends the same time as a real
    /// check and answers `false`, so an unknown email cannot be told apart by timing.
    ///
    /// `Err(Busy)` when too many checks are already running or waiting: the caller should
    /// come back later; no work was done.
    fn verify(
        &self,
        password: String,
        hash: Option<String>,
    ) -> impl Future<Output = Result<bool, Busy>> + Send;
}

/// Password checking is at capacity: retry after this many seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    pub retry_after_secs: u64,
}

/// The digest under which a secret is stored and found (SHA-256 in production).
#[cfg_attr(test, mockall::automock)]
pub trait TokenDigester: Send + Sync + 'static {
    fn digest(&self, secret: &str) -> String;
}

/// The set of adapters one running service uses.
pub trait Ports: Send + Sync + 'static {
    type Customers: CustomerRepository;
    type Stores: StoreRepository;
    type Users: UserRepository;
    type Credentials: CredentialRepository;
    type Orders: OrderRepository;
    type Loyalty: LoyaltyRepository;
    type Idempotency: IdempotencyRepository;
    type Reviews: ReviewRepository;
    type LoginFailures: LoginFailureRepository;
    type Audit: AuditRepository;
    type Clock: Clock;
    type Ids: IdGenerator;
    type Passwords: PasswordHasher;
    type Digests: TokenDigester;

    fn customers(&self) -> &Self::Customers;
    fn stores(&self) -> &Self::Stores;
    fn users(&self) -> &Self::Users;
    fn credentials(&self) -> &Self::Credentials;
    fn orders(&self) -> &Self::Orders;
    fn loyalty(&self) -> &Self::Loyalty;
    fn idempotency(&self) -> &Self::Idempotency;
    fn reviews(&self) -> &Self::Reviews;
    fn login_failures(&self) -> &Self::LoginFailures;
    fn audit(&self) -> &Self::Audit;
    fn clock(&self) -> &Self::Clock;
    fn ids(&self) -> &Self::Ids;
    fn passwords(&self) -> &Self::Passwords;
    fn digests(&self) -> &Self::Digests;

    /// The current time, truncated to milliseconds (the API's precision), so that what is
    /// stored reads back exactly.
    fn now(&self) -> DateTime<Utc> {
        let now = self.clock().now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }

    /// A new audit entry, dated now, of `actor` doing `action` in `store`.
    fn audit_entry(&self, store: &StoreId, actor: Actor, action: AuditAction) -> AuditEntry {
        AuditEntry::new(
            AuditId::from_stored(self.ids().new_id(AuditId::PREFIX)),
            store.clone(),
            self.now(),
            actor,
            action,
        )
    }
}
