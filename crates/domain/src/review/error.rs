//! Why a review use case failed: one type from the repository to the HTTP mapping.

use crate::access::Forbidden;
use crate::ports::RepoError;
use crate::review::model::NotFeaturable;
use crate::validation::ValidationErrors;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("review not found")]
    NotFound,
    #[error("this order already has a review")]
    AlreadyReviewed,
    #[error(transparent)]
    NotFeaturable(#[from] NotFeaturable),
    /// The credential may not do this (an API key responding, a role below the action's).
    #[error("the credential does not allow this")]
    Forbidden,
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
