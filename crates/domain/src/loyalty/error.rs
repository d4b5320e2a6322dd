//! Why a loyalty use case failed: one type from the ledger's rules and the repository to the
//! HTTP mapping.

use crate::access::Forbidden;
use crate::ports::RepoError;
use crate::validation::ValidationErrors;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoyaltyError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("customer not found")]
    NotFound,
    #[error("the credential does not allow this")]
    Forbidden,
    /// The balance would drop below zero.
    #[error("the balance of {balance} cannot take the adjustment")]
    InsufficientPoints { balance: i64 },
    /// The balance would pass what can be stored.
    #[error("the balance cannot take the adjustment")]
    PointsOutOfRange,
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
