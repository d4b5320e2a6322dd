//! Reviews in memory: one per order, versions guarding moderation, and the store's counters
//! kept by every write that moves them ([`ReviewStats::add`] and its kin).

use super::{Memory, Tenant, page_of};
use crate::ids::{ReviewId, StoreId};
use crate::keyset::{self, Position, Seek};
use crate::page::PageRequest;
use crate::ports::RepoError;
use crate::review::{
    Moderation, Review, ReviewError, ReviewFilter, ReviewRepository, ReviewResponse, ReviewStats,
};

fn matches(filter: &ReviewFilter, review: &Review) -> bool {
    let moderation = &review.moderation;
    filter
        .is_approved
        .is_none_or(|approved| moderation.is_approved == approved)
        && filter
            .is_featured
            .is_none_or(|featured| moderation.is_featured == featured)
        && filter
            .has_response
            .is_none_or(|answered| review.response.is_some() == answered)
        && filter.min_rating.is_none_or(|min| review.rating >= min)
        && filter
            .customer_id
            .as_ref()
            .is_none_or(|customer| review.customer_id.as_ref() == Some(customer))
        && filter
            .created_from
            .is_none_or(|from| review.created_at >= from)
        && filter
            .created_before
            .is_none_or(|before| review.created_at < before)
}

/// The tenant's reviews that match `filter`, newest first (ties by id, descending).
fn newest_first(tenant: &Tenant, filter: &ReviewFilter) -> Vec<Review> {
    let mut matching: Vec<&Review> = tenant
        .reviews
        .values()
        .filter(|review| matches(filter, review))
        .collect();
    matching.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    matching.into_iter().cloned().collect()
}

impl ReviewRepository for Memory {
    /// A customer erased before the review is stored is no longer the review's: it is stored
    /// without one, as the erasure would have left it (so the SQL adapter does too).
    async fn insert(&self, review: &Review) -> Result<(), ReviewError> {
        self.write(|state| {
            let tenant = state.tenant_mut(&review.store_id)?;
            if tenant
                .reviews
                .values()
                .any(|r| r.order_id == review.order_id)
            {
                return Err(ReviewError::AlreadyReviewed);
            }
            if !tenant.orders.contains_key(&review.order_id) {
                return Err(
                    RepoError::Internal(format!("there is no order {}", review.order_id)).into(),
                );
            }
            if tenant.reviews.contains_key(&review.id) {
                return Err(RepoError::Internal(format!("the id {} is taken", review.id)).into());
            }
            let mut stored = review.clone();
            stored.customer_id = review
                .customer_id
                .clone()
                .filter(|customer| tenant.customers.contains_key(customer));
            tenant
                .review_stats
                .add(review.rating, review.moderation.is_approved);
            tenant.reviews.insert(review.id.clone(), stored);
            Ok(())
        })
    }

    async fn find(&self, store: &StoreId, id: &ReviewId) -> Result<Option<Review>, RepoError> {
        self.read(|state| state.tenant(store).and_then(|t| t.reviews.get(id)).cloned())
    }

    async fn list(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        page: PageRequest,
    ) -> Result<(Vec<Review>, u64), RepoError> {
        self.read(|state| {
            let Some(tenant) = state.tenant(store) else {
                return (Vec::new(), 0);
            };
            page_of(newest_first(tenant, filter), page)
        })
    }

    async fn seek(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        seek: &Seek,
    ) -> Result<Vec<Review>, RepoError> {
        self.read(|state| {
            let Some(tenant) = state.tenant(store) else {
                return Vec::new();
            };
            let position =
                |review: &Review| Position::newest(review.created_at, review.id.as_str());
            keyset::seek_in(&newest_first(tenant, filter), seek, position, |a, b| {
                a.order(b, true) == std::cmp::Ordering::Less
            })
        })
    }

    async fn count(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        limit: Option<u64>,
    ) -> Result<u64, RepoError> {
        self.read(|state| {
            let found = state.tenant(store).map_or(0, |tenant| {
                let matching = tenant.reviews.values().filter(|r| matches(filter, r));
                u64::try_from(matching.count()).unwrap_or(u64::MAX)
            });
            limit.map_or(found, |limit| found.min(limit))
        })
    }

    async fn stats(&self, store: &StoreId) -> Result<ReviewStats, RepoError> {
        self.read(|state| {
            state
                .tenant(store)
                .map(|tenant| tenant.review_stats.clone())
                .unwrap_or_default()
        })
    }

    async fn set_moderation(
        &self,
        store: &StoreId,
        id: &ReviewId,
        moderation: Moderation,
        expected_version: i64,
    ) -> Result<bool, RepoError> {
        self.write(|state| {
            let Some(tenant) = state.tenants.get_mut(store) else {
                return Ok(false);
            };
            let Some(review) = tenant
                .reviews
                .get_mut(id)
                .filter(|review| review.version == expected_version)
            else {
                return Ok(false);
            };
            tenant
                .review_stats
                .reapprove(review.moderation.is_approved, moderation.is_approved);
            review.moderation = moderation;
            review.version += 1;
            Ok(true)
        })
    }

    async fn respond(
        &self,
        store: &StoreId,
        id: &ReviewId,
        response: &ReviewResponse,
    ) -> Result<bool, RepoError> {
        self.write(|state| {
            let Some(review) = state
                .tenants
                .get_mut(store)
                .and_then(|tenant| tenant.reviews.get_mut(id))
            else {
                return Ok(false);
            };
            review.response = Some(response.clone());
            review.version += 1;
            Ok(true)
        })
    }

    async fn delete(&self, store: &StoreId, id: &ReviewId) -> Result<bool, RepoError> {
        self.write(|state| {
            let Some(tenant) = state.tenants.get_mut(store) else {
                return Ok(false);
            };
            let Some(review) = tenant.reviews.remove(id) else {
                return Ok(false);
            };
            tenant
                .review_stats
                .remove(review.rating, review.moderation.is_approved);
            Ok(true)
        })
    }
}
