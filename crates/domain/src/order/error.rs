//! Why an order use case failed: one type from the repository to the HTTP mapping.

use crate::access::Forbidden;
use crate::ids::OrderId;
use crate::ports::RepoError;
use crate::validation::ValidationErrors;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("not found")]
    NotFound,
    #[error("the credential does not allow this")]
    Forbidden,
    #[error("the customer is blocked")]
    CustomerBlocked,
    /// The customer's totals or points would pass what can be stored.
    #[error("the customer's totals cannot take the order")]
    TotalsOutOfRange,
    /// The order is recorded already (same `externalId`), and the caller may not read it.
    #[error("the order {id} is recorded already")]
    Exists { id: OrderId },
    #[error(transparent)]
    Storage(RepoError),
}

impl OrderError {
    /// The order names a customer the store does not have.
    pub fn unknown_customer() -> Self {
        Self::Invalid(ValidationErrors::single(
            "customerId",
            "is not a customer of this store",
        ))
    }
}

impl From<RepoError> for OrderError {
    fn from(error: RepoError) -> Self {
        Self::Storage(error)
    }
}

impl From<Forbidden> for OrderError {
    fn from(_: Forbidden) -> Self {
        Self::Forbidden
    }
}
