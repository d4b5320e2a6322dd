//! Errors on the wire: `{"success": false, "error": {code, message, details?, requestId}}`.
//!
//! This is the one place where domain errors become status codes and error codes.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use customers_domain::access::AuthError;
use customers_domain::audit::AuditError;
use customers_domain::customer::CustomerError;
use customers_domain::loyalty::LoyaltyError;
use customers_domain::order::OrderError;
use customers_domain::ports::RepoError;
use customers_domain::review::ReviewError;
use customers_domain::validation::ValidationErrors;
use serde::Serialize;
use utoipa::ToSchema;

use crate::middleware::current_request_id;

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_UNAVAILABLE: u64 = 2;

/// One field that broke a rule: `email`, `items[1].quantity`, `Idempotency-Key`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
#[schema(as = ErrorDetail)]
pub struct Detail {
    pub field: String,
    pub message: String,
}

/// An error response of the contract.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
    /// Methods for `Allow` on a 405.
    pub allow: Option<Box<str>>,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
    /// The id of the resource a 409 found in the way (`ORDER_EXISTS`), sent as
    /// `details: {"id"}` instead of field details.
    pub existing_id: Option<Box<str>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            allow: None,
            retry_after: None,
            existing_id: None,
        }
    }

    pub fn malformed_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MALFORMED_JSON", message)
    }

    /// A request the server cannot read as one of the API's (a method longer than any HTTP
    /// defines).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "A valid bearer credential is required",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "This credential may not perform this operation",
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "No such resource")
    }

    pub fn method_not_allowed(allow: String) -> Self {
        Self {
            allow: Some(allow.into()),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "This path does not support this method",
            )
        }
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("The body must be at most {} bytes", crate::MAX_BODY_BYTES),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "The body must be sent with Content-Type: application/json",
        )
    }

    pub fn idempotency_in_progress() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "IDEMPOTENCY_IN_PROGRESS",
            "A request with this Idempotency-Key is still running",
        )
    }

    pub fn idempotency_key_reused() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was used for a different request",
        )
    }

    pub fn unavailable() -> Self {
        Self {
            retry_after: Some(RETRY_AFTER_UNAVAILABLE),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "The service cannot reach its database; try again shortly",
            )
        }
    }

    /// The request ran out of time (`RequestTimeout`), most likely waiting on the database.
    pub fn timed_out() -> Self {
        Self {
            retry_after: Some(RETRY_AFTER_UNAVAILABLE),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "The request took too long to serve; try again shortly",
            )
        }
    }

    /// Too many password checks running or waiting (logins): 503, retry after a moment.
    pub fn busy(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Too many logins at once; try again shortly",
            )
        }
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "Too many failed attempts; try again later",
            )
        }
    }

    /// 429 for a credential past its limits (`crate::limits`): too many requests in the last
    /// moments, or too many in progress at once.
    pub fn credential_limited(why: crate::limits::Refusal, retry_after_secs: u64) -> Self {
        let message = match why {
            crate::limits::Refusal::Rate => "This credential sent too many requests; slow down",
            crate::limits::Refusal::Concurrency => {
                "This credential has too many requests in progress; wait for some to finish"
            }
            crate::limits::Refusal::Scans => {
                "This credential has too many lists, searches or statistics in progress; wait for some to finish"
            }
        };
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", message)
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong on our side",
        )
    }

    /// 422 with one detail per field.
    pub fn validation(errors: &ValidationErrors) -> Self {
        Self {
            details: errors
                .fields()
                .iter()
                .map(|e| Detail {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
                "Some fields are invalid",
            )
        }
    }

    /// A customer's totals or points would pass the largest number that can be stored.
    pub fn totals_out_of_range() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "TOTALS_OUT_OF_RANGE",
            "The customer's totals or points cannot take this change",
        )
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(&ValidationErrors::single(field, message))
    }

    fn conflict(code: &'static str, field: &str, message: &str) -> Self {
        Self {
            details: vec![Detail {
                field: field.to_owned(),
                message: message.to_owned(),
            }],
            ..Self::new(StatusCode::CONFLICT, code, message)
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

/// `details`: one entry per field, or the id of what a conflict found.
#[derive(Serialize)]
#[serde(untagged)]
enum Details<'a> {
    Fields(&'a [Detail]),
    Existing { id: &'a str },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details<'a>>,
    request_id: String,
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    success: bool,
    error: ErrorBody<'a>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        if let Some(allow) = &self.allow {
            response.insert_header((header::ALLOW, &**allow));
        }
        response.json(ErrorEnvelope {
            success: false,
            error: ErrorBody {
                code: self.code,
                message: &self.message,
                details: match &self.existing_id {
                    Some(id) => Some(Details::Existing { id }),
                    None if self.details.is_empty() => None,
                    None => Some(Details::Fields(&self.details)),
                },
                request_id: current_request_id(),
            },
        })
    }
}

impl From<RepoError> for ApiError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::unavailable()
            }
            RepoError::Conflict(unique) => {
                tracing::error!(?unique, "unmapped uniqueness conflict");
                Self::internal()
            }
            RepoError::Internal(reason) => {
                tracing::error!(%reason, "storage failure");
                Self::internal()
            }
        }
    }
}

impl From<CustomerError> for ApiError {
    fn from(error: CustomerError) -> Self {
        match error {
            CustomerError::Invalid(errors) => Self::validation(&errors),
            CustomerError::NotFound => Self::not_found(),
            CustomerError::Forbidden => Self::forbidden(),
            CustomerError::EmailTaken => Self::conflict(
                "EMAIL_TAKEN",
                "email",
                "Another customer of this store has this email",
            ),
            CustomerError::PhoneTaken => Self::conflict(
                "PHONE_TAKEN",
                "phone",
                "Another customer of this store has this phone",
            ),
            CustomerError::Storage(error) => error.into(),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Forbidden => Self::forbidden(),
            AuditError::Invalid(errors) => Self::validation(&errors),
            AuditError::Storage(error) => error.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Unauthorized => Self::unauthorized(),
            AuthError::Forbidden => Self::forbidden(),
            AuthError::Invalid(errors) => Self::validation(&errors),
            AuthError::EmailTaken => Self::conflict(
                "EMAIL_TAKEN",
                "email",
                "Another user of this store has this email",
            ),
            AuthError::Throttled(refusal) => Self::rate_limited(refusal.retry_after_secs),
            AuthError::Busy { retry_after_secs } => Self::busy(retry_after_secs),
            AuthError::Storage(error) => error.into(),
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(error: OrderError) -> Self {
        match error {
            OrderError::Invalid(errors) => Self::validation(&errors),
            OrderError::NotFound => Self::not_found(),
            OrderError::Forbidden => Self::forbidden(),
            OrderError::CustomerBlocked => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "CUSTOMER_BLOCKED",
                "The customer is blocked: no new orders can be recorded for them",
            ),
            OrderError::TotalsOutOfRange => Self::totals_out_of_range(),
            OrderError::Exists { id } => Self {
                existing_id: Some(id.as_str().into()),
                ..Self::new(
                    StatusCode::CONFLICT,
                    "ORDER_EXISTS",
                    "An order with this externalId is recorded already",
                )
            },
            OrderError::Storage(error) => error.into(),
        }
    }
}

impl From<LoyaltyError> for ApiError {
    fn from(error: LoyaltyError) -> Self {
        match error {
            LoyaltyError::Invalid(errors) => Self::validation(&errors),
            LoyaltyError::NotFound => Self::not_found(),
            LoyaltyError::Forbidden => Self::forbidden(),
            LoyaltyError::InsufficientPoints { balance } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INSUFFICIENT_POINTS",
                format!("The balance of {balance} points cannot take this adjustment"),
            ),
            LoyaltyError::PointsOutOfRange => Self::totals_out_of_range(),
            LoyaltyError::Storage(error) => error.into(),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(error: ReviewError) -> Self {
        match error {
            ReviewError::Invalid(errors) => Self::validation(&errors),
            ReviewError::NotFound => Self::not_found(),
            ReviewError::AlreadyReviewed => Self::conflict(
                "REVIEW_EXISTS",
                "orderId",
                "This order already has a review",
            ),
            ReviewError::NotFeaturable(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "REVIEW_NOT_FEATURABLE",
                "Only an approved and public review can be featured",
            ),
            ReviewError::Forbidden => Self::forbidden(),
            ReviewError::Storage(error) => error.into(),
        }
    }
}
