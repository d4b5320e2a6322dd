//! What the loyalty use cases need from storage.

use std::future::Future;

use crate::audit::AuditEntry;
use crate::ids::{CustomerId, StoreId};
use crate::loyalty::error::LoyaltyError;
use crate::loyalty::ledger::LedgerEntry;
use crate::page::PageRequest;
use crate::ports::RepoError;

/// Where the loyalty ledger is kept.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
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
    ) -> impl Future<Output = Result<LedgerEntry, LoyaltyError>> + Send;

    /// The balance and one page of entries, newest first, with their total; `None` when there
    /// is no such customer.
    fn ledger(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        page: PageRequest,
    ) -> impl Future<Output = Result<Option<(i64, Vec<LedgerEntry>, u64)>, RepoError>> + Send;
}
