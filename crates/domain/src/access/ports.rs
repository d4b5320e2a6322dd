//! What the access use cases need from outside: staff users, credentials, login attempts,
//! password hashing and secret digests.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::access::principal::Principal;
use crate::access::throttle::{AttemptKeys, Policy, Refusal};
use crate::access::user::{ApiKey, Credential, StaffUser};
use crate::audit::AuditEntry;
use crate::ids::{CredentialId, StoreId};
use crate::page::PageRequest;
use crate::ports::RepoError;

/// Where a store's staff users and their password hashes are kept.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
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

/// Where staff tokens and API keys are kept, each in its store by the digest of its secret.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait CredentialRepository: Send + Sync + 'static {
    /// Stores a new credential with its audit entry (`auth.login`, `api_key.created`, …) in one
    /// transaction.
    fn insert(
        &self,
        credential: &Credential,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// The holder of the credential of `store` with this digest, if it is neither revoked nor
    /// expired at `now`: one indexed lookup within the store.
    ///
    /// `store: None` is a secret issued before secrets carried their store: its store is
    /// found among the digests recorded when they began to (credentials issued since are not
    /// found that way), then the credential within it.
    fn find_active(
        &self,
        store: Option<StoreId>,
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
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
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
    /// The attempt's throttle keys.
    pub keys: AttemptKeys,
    /// When the attempt was made.
    pub now: DateTime<Utc>,
    /// The limits to judge it by.
    pub policy: Policy,
}

/// Password hashing (argon2id in production). Slow on purpose, hence asynchronous.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait PasswordHasher: Send + Sync + 'static {
    /// The password's hash (an argon2id PHC string in production); `Err` with a reason when
    /// hashing failed.
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
    /// Seconds to wait before trying again.
    pub retry_after_secs: u64,
}

/// The digest under which a secret is stored and found (SHA-256 in production).
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait TokenDigester: Send + Sync + 'static {
    /// The digest `secret` is stored and looked up under; the same secret always gives the same
    /// digest.
    fn digest(&self, secret: &str) -> String;
}
