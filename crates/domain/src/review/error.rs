//! Why a review use case failed: one type from the repository to the HTTP mapping.

use crate::access::Forbidden;
use crate::ports::RepoError;
use crate::review::model::NotFeaturable;
use crate::validation::ValidationErrors;

/// Why a review use case failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// A field broke its rule, or `orderId` / `customerId` do not fit the store's order (422
    /// `VALIDATION_FAILED`).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No such review in the caller's store (404 `NOT_FOUND`).
    #[error("review not found")]
    NotFound,
    /// The order has a review already (409 `REVIEW_EXISTS`).
    #[error("this order already has a review")]
    AlreadyReviewed,
    /// Featuring a review that is not approved and public (422 `REVIEW_NOT_FEATURABLE`).
    #[error(transparent)]
    NotFeaturable(#[from] NotFeaturable),
    /// The credential may not do this (an API key responding, a role below the action's).
    #[error("the credential does not allow this")]
    Forbidden,
    /// Storage failed (503 when unreachable, 500 otherwise).
    #[error(transparent)]
    Storage(RepoError),
}

impl From<RepoError> for ReviewError {
    fn from(error: RepoError) -> Self {
        Self::Storage(error)
    }
}

impl From<Forbidden> for ReviewError {
    fn from(_: Forbidden) -> Self {
        Self::Forbidden
    }
}
