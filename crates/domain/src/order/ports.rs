//! What the order use cases need from storage.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::audit::AuditEntry;
use crate::ids::{CustomerId, LedgerEntryId, OrderId, StoreId};
use crate::order::analytics::CustomerAnalytics;
use crate::order::error::OrderError;
use crate::order::model::{Order, Recorded};
use crate::page::PageRequest;
use crate::ports::RepoError;

/// Where orders are kept; every call is scoped to one store.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
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
    ) -> impl Future<Output = Result<Recorded, OrderError>> + Send;

    /// The order with this id in `store`; `None` when missing or in another store.
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
