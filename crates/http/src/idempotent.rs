//! Writes that honour `Idempotency-Key` (docs/api.md §4, "Idempotency"): a repeat answers the first
//! response byte for byte and writes nothing.

use std::future::{Future, Ready, ready};

use crate::state::Stack;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use customers_domain::idempotency::{
    Begin, Idempotency, IdempotencyRepository, IdempotencyScope, StoredResponse, parse_key,
};

use crate::error::ApiError;
use crate::middleware::Caller;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Marks a response replayed from an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A request to an endpoint that honours `Idempotency-Key`: the only way to [`run_once`]. A
/// handler takes it exactly when its row of the access table is marked idempotent
/// (`crate::routes::Route::idempotent`); `crate::app` does not compile otherwise.
pub struct Idempotent(HttpRequest);

impl FromRequest for Idempotent {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(req.clone())))
    }
}

/// A success to send: status and the exact JSON bytes.
pub struct Rendered {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Rendered {
    pub fn json<T: serde::Serialize>(status: StatusCode, data: &T) -> Self {
        #[derive(serde::Serialize)]
        struct Envelope<'a, T> {
            success: bool,
            data: &'a T,
        }
        let body = serde_json::to_vec(&Envelope {
            success: true,
            data,
        })
        .unwrap_or_else(|_| b"{\"success\":true,\"data\":null}".to_vec());
        Self { status, body }
    }

    fn response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type("application/json")
            .body(self.body.clone())
    }
}

fn key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(&IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    value
        .to_str()
        .map_err(|_| "must be visible ASCII".to_owned())
        .and_then(parse_key)
        .map(Some)
        .map_err(|message| ApiError::invalid_field("Idempotency-Key", message))
}

/// A claim this request runs. Dropped before its end was settled (the request's task
/// panicked, or the future was dropped), it gives the key up in a task of its own, as a 5xx
/// does: the next request with the key need not wait for the lease.
struct Running<I: IdempotencyRepository> {
    idempotency: Idempotency<I>,
    scope: IdempotencyScope,
    claim: String,
    settled: bool,
}

impl<I: IdempotencyRepository> Running<I> {
    /// Gives the key up, keeping the claim (see [`Idempotency::abandon`]).
    async fn abandon(mut self) {
        self.settled = true;
        if let Err(error) = self.idempotency.abandon(&self.scope, &self.claim).await {
            tracing::warn!(%error, "could not give up an idempotency key");
        }
    }
}

impl<I: IdempotencyRepository> Drop for Running<I> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (idempotency, scope, claim) = (
            self.idempotency.clone(),
            self.scope.clone(),
            std::mem::take(&mut self.claim),
        );
        runtime.spawn(async move {
            if let Err(error) = idempotency.abandon(&scope, &claim).await {
                tracing::warn!(%error, "could not give up an idempotency key");
            }
        });
    }
}

/// Runs `write` once per key. Without a key it simply runs. With one: a replay answers the
/// stored response; a request still running is 409; the key used for another request is 422;
/// otherwise `write` runs with the claim to attach to what it writes, a success is stored for
/// replay and a 4xx frees the key. After a 5xx, or when the response cannot be stored, the
/// key is given up with its claim kept, so a retry at once either replays the stored answer
/// or finds the write already made under that claim.
/// `customer` is the customer id the request names (path or body): erasing that customer
/// deletes the key with its stored response, so a later request with the key runs afresh.
pub async fn run_once<P, F, Fut>(
    state: &AppState<P>,
    caller: &Caller,
    Idempotent(req): &Idempotent,
    request: &str,
    customer: Option<&str>,
    write: F,
) -> Result<HttpResponse, ApiError>
where
    P: Stack,
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = Result<Rendered, ApiError>>,
{
    let Some(key) = key(req)? else {
        return write(None).await.map(|rendered| rendered.response());
    };
    let canonical = format!("{} {}\n{request}", req.method(), req.path());
    let (scope, begin) = state
        .idempotency
        .begin(caller, key, &canonical, customer)
        .await?;
    match begin {
        Begin::Replay(stored) => {
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            let mut response = HttpResponse::build(status)
                .content_type("application/json")
                .body(stored.body);
            response
                .headers_mut()
                .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            Ok(response)
        }
        Begin::InProgress => Err(ApiError::idempotency_in_progress()),
        Begin::Mismatch => Err(ApiError::idempotency_key_reused()),
        Begin::Proceed { claim } => {
            let mut running = Running {
                idempotency: state.idempotency.clone(),
                scope,
                claim,
                settled: false,
            };
            match write(Some(running.claim.clone())).await {
                Ok(rendered) => {
                    let stored = StoredResponse {
                        status: rendered.status.as_u16(),
                        body: rendered.body.clone(),
                    };
                    let completed = state
                        .idempotency
                        .complete(&running.scope, &running.claim, &stored)
                        .await;
                    match completed {
                        Ok(()) => running.settled = true,
                        Err(error) => {
                            tracing::warn!(%error, "could not store an idempotent response");
                            running.abandon().await;
                        }
                    }
                    Ok(rendered.response())
                }
                Err(error) if error.status_code().is_client_error() => {
                    running.settled = true;
                    let released = state
                        .idempotency
                        .release(&running.scope, &running.claim)
                        .await;
                    if let Err(release) = released {
                        tracing::warn!(error = %release, "could not release an idempotency key");
                    }
                    Err(error)
                }
                Err(error) => {
                    running.abandon().await;
                    Err(error)
                }
            }
        }
    }
}
