//! What the idempotency rules need from storage.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::idempotency::{Begin, IdempotencyScope, StoredResponse};
use crate::ids::CustomerId;
use crate::ports::RepoError;

/// Where idempotency keys, their claims and their stored responses are kept.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait IdempotencyRepository: Send + Sync + 'static {
    /// Looks the key up and, when it is free, claims it with `claim` until `now + lease`.
    /// Keys older than `lifetime` count as free. A claim in progress is taken over (keeping
    /// its claim) at once when its holder is gone — the process that made it died, or its
    /// request ended without an answer ([`abandon`](Self::abandon)) — and otherwise when its
    /// lease ran out; while its holder lives it is [`Begin::InProgress`]. `customer` is the
    /// customer the request is about, kept with the key so that erasing the customer deletes
    /// the key and its stored response.
    #[allow(clippy::too_many_arguments)]
    fn begin(
        &self,
        scope: &IdempotencyScope,
        customer: Option<CustomerId>,
        request_digest: &str,
        claim: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        lifetime: chrono::Duration,
    ) -> impl Future<Output = Result<Begin, RepoError>> + Send;

    /// Stores the response of the claim, for replay.
    fn complete(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
        response: &StoredResponse,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// Frees the key (the request failed and wrote nothing).
    fn release(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// Gives the key up without an answer (the request failed and may have written): the
    /// claim stays, so that the next request with the key takes it over at once and finds
    /// whatever was written under it. Only this process's claim in progress is touched.
    fn abandon(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;
}
