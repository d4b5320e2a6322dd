//! What the audit trail needs from storage.

use std::future::Future;

use crate::audit::{AuditEntry, AuditFilter};
use crate::ids::StoreId;
use crate::page::PageRequest;
use crate::ports::RepoError;

/// Where the audit trail is kept; entries of changes are written by the repositories that
/// make them.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
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
