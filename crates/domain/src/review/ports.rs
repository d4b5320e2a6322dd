//! What the review use cases need from storage.

use std::future::Future;

use crate::ids::{ReviewId, StoreId};
use crate::keyset::Seek;
use crate::page::PageRequest;
use crate::ports::RepoError;
use crate::review::error::ReviewError;
use crate::review::model::{Moderation, Review, ReviewFilter, ReviewResponse, ReviewStats};

/// Where reviews are kept; every call is scoped to one store.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait ReviewRepository: Send + Sync + 'static {
    /// Stores a new review; `AlreadyReviewed` when its order has one. Keeps the store's review
    /// statistics in the same transaction.
    fn insert(&self, review: &Review) -> impl Future<Output = Result<(), ReviewError>> + Send;

    /// The review with this id in `store`; `None` when missing or in another store.
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

    /// The reviews of a keyset page in the order `seek` travels: at most [`Seek::take`] of
    /// those matching the filter that come after (forward) or before (backward) `seek.from`
    /// in the list's order, newest first.
    fn seek(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        seek: &Seek,
    ) -> impl Future<Output = Result<Vec<Review>, RepoError>> + Send;

    /// How many reviews match the filter, counting no further than `limit` when one is given.
    fn count(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        limit: Option<u64>,
    ) -> impl Future<Output = Result<u64, RepoError>> + Send;

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
