//! Why a loyalty use case failed: one type from the ledger's rules and the repository to the
//! HTTP mapping.

use crate::access::Forbidden;
use crate::ports::RepoError;
use crate::validation::ValidationErrors;

/// Why a loyalty use case failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoyaltyError {
    /// `delta` or `reason` broke its rule (422 `VALIDATION_FAILED`).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No such customer in the caller's store (404 `NOT_FOUND`).
    #[error("customer not found")]
    NotFound,
    /// The caller's role or scopes do not allow the call (403 `FORBIDDEN`).
    #[error("the credential does not allow this")]
    Forbidden,
    /// The balance would drop below zero; nothing is written (422 `INSUFFICIENT_POINTS`).
    #[error("the balance of {balance} cannot take the adjustment")]
    InsufficientPoints {
        /// The balance the adjustment was refused against.
        balance: i64,
    },
    /// The balance would pass what can be stored (422 `TOTALS_OUT_OF_RANGE`).
    #[error("the balance cannot take the adjustment")]
    PointsOutOfRange,
    /// Storage failed (503 when unreachable, 500 otherwise).
    #[error(transparent)]
    Storage(RepoError),
}

impl From<RepoError> for LoyaltyError {
    fn from(error: RepoError) -> Self {
        Self::Storage(error)
    }
}

impl From<Forbidden> for LoyaltyError {
    fn from(_: Forbidden) -> Self {
        Self::Forbidden
    }
}
