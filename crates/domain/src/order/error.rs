//! Why an order use case failed: one type from the repository to the HTTP mapping.

use crate::access::Forbidden;
use crate::ids::OrderId;
use crate::ports::RepoError;
use crate::validation::ValidationErrors;

/// Why an order use case failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// A field broke its rule, or `customerId` is not a customer of the store (422
    /// `VALIDATION_FAILED`).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No such order, or no such customer for the history and analytics, in the caller's store
    /// (404 `NOT_FOUND`).
    #[error("not found")]
    NotFound,
    /// The caller's role or scopes do not allow the call (403 `FORBIDDEN`).
    #[error("the credential does not allow this")]
    Forbidden,
    /// The order's customer is blocked: nothing is recorded (422 `CUSTOMER_BLOCKED`).
    #[error("the customer is blocked")]
    CustomerBlocked,
    /// The customer's totals or points would pass what can be stored (422
    /// `TOTALS_OUT_OF_RANGE`).
    #[error("the customer's totals cannot take the order")]
    TotalsOutOfRange,
    /// The order is recorded already (same `externalId`), and the caller may not read it
    /// (409 `ORDER_EXISTS`, with its id only).
    #[error("the order {id} is recorded already")]
    Exists {
        /// The id of the order recorded first.
        id: OrderId,
    },
    /// Storage failed (503 when unreachable, 500 otherwise).
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
