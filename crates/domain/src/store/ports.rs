//! What the store rules need from storage.

use std::future::Future;

use crate::access::{Credential, StaffUser};
use crate::audit::AuditEntry;
use crate::ids::StoreId;
use crate::ports::RepoError;
use crate::store::Store;

/// Where stores are kept.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait StoreRepository: Send + Sync + 'static {
    /// The store with this id; `None` when there is none.
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
