//! What the customer use cases need from storage.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::audit::AuditEntry;
use crate::customer::model::{Block, Customer, CustomerSummary, Profile};
use crate::customer::query::CustomerListQuery;
use crate::ids::{CustomerId, StoreId};
use crate::keyset::Seek;
use crate::ports::RepoError;

/// Where customers are kept; every call is scoped to one store.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait CustomerRepository: Send + Sync + 'static {
    /// Stores a new customer with its default address and allergens, in one transaction.
    fn insert(
        &self,
        customer: &Customer,
        audit: &AuditEntry,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// The customer with this id in `store`; `None` when missing or in another store.
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

    /// The customers of a keyset page, in the order `seek` travels (see [`Seek`]): at most
    /// [`Seek::take`] of them, those after (forward) or before (backward) `seek.from` in the
    /// order of `query`, with its filters; and, unless `query.total` is
    /// [`TotalMode::None`](crate::keyset::TotalMode::None), how many customers match the
    /// filters, counting no further than [`TotalMode::count_limit`](crate::keyset::TotalMode::count_limit).
    /// `query.page` is not read.
    fn seek(
        &self,
        store: &StoreId,
        query: &CustomerListQuery,
        seek: &Seek,
    ) -> impl Future<Output = Result<(Vec<CustomerSummary>, Option<u64>), RepoError>> + Send;

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
