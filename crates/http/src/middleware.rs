//! The middleware every request passes: its request id, security headers and log line
//! ([`request_context`]), then the access table's verdict ([`authorize`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::state::Stack;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use customers_domain::access::{Access, Principal};

use crate::error::ApiError;
use crate::limits::{Admission, Quota};
use crate::metrics::{Metrics, OTHER_METHOD, UNMATCHED_ROUTE};
use crate::routes;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being served (for error bodies), or `"-"` outside of one.
pub fn current_request_id() -> String {
    CURRENT_REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// Runs `work` in a task of its own on this worker, with the request's id: the task runs to
/// its end even when whoever awaits it goes away.
fn spawn_in_request<F>(work: F) -> actix_web::rt::task::JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    actix_web::rt::spawn(CURRENT_REQUEST_ID.scope(current_request_id(), work))
}

/// A client's id is echoed when it is 1–128 visible ASCII characters; otherwise one is made.
fn request_id(req: &ServiceRequest) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let given = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()));
    match given {
        Some(id) => id.to_owned(),
        None => {
            let boot = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or_default();
            format!(
                "req_{boot:x}{:08x}",
                COUNTER.fetch_add(1, Ordering::Relaxed)
            )
        }
    }
}

/// The request's route pattern, matched once by [`request_context`]: actix matches the path
/// against the routes' patterns anew on every `match_pattern()`.
#[derive(Clone)]
struct MatchedPattern(Option<String>);

/// The request's route pattern (`/customers/{id}`), `None` when no route matches.
fn route_pattern(req: &HttpRequest) -> Option<String> {
    match req.extensions().get::<MatchedPattern>() {
        Some(MatchedPattern(pattern)) => pattern.clone(),
        None => req.match_pattern(),
    }
}

/// The request's row of the access table, `None` when no route matches.
pub(crate) fn matched_route(req: &HttpRequest) -> Option<&'static routes::Route> {
    route_pattern(req).and_then(|pattern| routes::find(req.method(), &pattern))
}

/// Longest a request may take: past it the client gets 503 `SERVICE_UNAVAILABLE`. The
/// handler is not dropped: it runs on to its end in a task of its own (see [`deadline`]).
#[derive(Clone, Copy, Debug)]
pub struct RequestTimeout(pub Duration);

/// Bounds the time of a routed request by [`RequestTimeout`]: past it, 503. Wraps each
/// resource (after routing: the request it keeps for the late answer must not be shared
/// while the router still writes to it).
///
/// The handler runs in a task of its own, which neither the deadline nor a client that
/// hangs up can cancel: a handler is never dropped halfway through a database call. (An
/// embedded SQLite query runs on a blocking thread, and the future waiting for it must not
/// be dropped on the server's single-threaded workers.) A late answer is discarded.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limit = req
        .app_data::<web::Data<RequestTimeout>>()
        .map_or(Duration::from_secs(30), |timeout| timeout.0);
    let http_request = req.request().clone();
    let handler = spawn_in_request(async move { next.call(req).await });
    match tokio::time::timeout(limit, handler).await {
        Ok(Ok(response)) => response,
        Ok(Err(_panicked)) => {
            tracing::error!(
                target: "customers::http",
                route = route_pattern(&http_request).as_deref().unwrap_or("-"),
                "request handler panicked"
            );
            let response = ApiError::internal().error_response();
            Ok(ServiceResponse::new(http_request, response))
        }
        Err(_) => {
            tracing::warn!(
                target: "customers::http",
                route = route_pattern(&http_request).as_deref().unwrap_or("-"),
                limit_ms = limit.as_millis() as u64,
                "request timed out"
            );
            let response = ApiError::timed_out().error_response();
            Ok(ServiceResponse::new(http_request, response))
        }
    }
}

/// Longest method accepted, in bytes: the longest HTTP defines is 7 (`OPTIONS`, `CONNECT`),
/// WebDAV's longest 16 (`BASELINE-CONTROL`).
pub const MAX_METHOD_BYTES: usize = 16;

/// The method as the log line shows it: as sent when at most [`MAX_METHOD_BYTES`] long
/// (methods are tokens: no space, quote or control character), else `OTHER`.
pub fn loggable_method(method: &str) -> &str {
    if method.len() <= MAX_METHOD_BYTES {
        method
    } else {
        OTHER_METHOD
    }
}

/// Gives the request an id (echoed in `X-Request-Id` and in error bodies), adds
/// `X-Content-Type-Options: nosniff`, and logs one line: method, route pattern, status,
/// latency, request id and store — never bodies, credentials or personal data. A request
/// refused by its credential's limits is counted in the metrics but not logged.
///
/// A method longer than [`MAX_METHOD_BYTES`] is refused with 400 `BAD_REQUEST` before any
/// route, credential or handler sees the request; its log line and metrics say `OTHER`. The
/// log line never holds the raw path, and a method only when it is at most
/// [`MAX_METHOD_BYTES`] long.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id(&req);
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = loggable_method(req.method().as_str()).to_owned();
    let too_long = req.method().as_str().len() > MAX_METHOD_BYTES;
    let matched = if too_long { None } else { req.match_pattern() };
    req.extensions_mut().insert(MatchedPattern(matched.clone()));
    let pattern = matched.as_deref().unwrap_or(UNMATCHED_ROUTE).to_owned();
    // Handlers and the auth middleware turn their errors into responses themselves, inside
    // this scope, so error bodies carry the request id.
    let mut response = if too_long {
        let refusal = CURRENT_REQUEST_ID.scope(id.clone(), async {
            ApiError::bad_request(format!(
                "The method must be at most {MAX_METHOD_BYTES} bytes long"
            ))
            .error_response()
        });
        req.into_response(refusal.await).map_into_boxed_body()
    } else {
        CURRENT_REQUEST_ID
            .scope(id.clone(), next.call(req))
            .await?
            .map_into_boxed_body()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let store = response
        .request()
        .extensions()
        .get::<Principal>()
        .map(|p| p.store_id.to_string())
        .unwrap_or_else(|| "-".to_owned());
    let seconds = started.elapsed().as_secs_f64();
    if let Some(metrics) = metrics {
        metrics.observe(
            &method,
            matched.as_deref(),
            response.status().as_u16(),
            seconds,
        );
    }
    if response
        .request()
        .extensions()
        .get::<LimitRefusal>()
        .is_some()
    {
        return Ok(response);
    }
    tracing::info!(
        target: "customers::http",
        method = %method,
        route = %pattern,
        status = response.status().as_u16(),
        latency_ms = seconds * 1000.0,
        request_id = %id,
        store = %store,
        "request"
    );
    Ok(response)
}

/// The bearer secret of a request, if it sent one in the expected form.
fn bearer(req: &ServiceRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim())
}

/// Enforces the access table: public rows pass; every other row needs a valid credential
/// (401 otherwise) that its access rule allows (403 otherwise). The caller is put in the
/// request's extensions for [`Caller`]. Protected responses are marked `no-store`.
///
/// An authenticated request is then held to its credential's limits (`crate::limits`), a
/// scan (`routes::Cost::Scan`) also to its credential's scan cap: past them, 429
/// `RATE_LIMITED` with `Retry-After`, answered after a short pause
/// (`crate::limits::REFUSAL_PAUSE`); every answer to a credential with a rate limit carries
/// `RateLimit-Policy` and `RateLimit`.
pub async fn authorize<P: Stack>(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let route = matched_route(req.request());
    let access = route.map_or(Access::Public, |route| route.access);
    if access == Access::Public {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let limiter = req
        .app_data::<web::Data<AppState<P>>>()
        .map(|state| Arc::clone(&state.limiter));
    let policy = limiter
        .as_ref()
        .and_then(|limiter| limiter.limits().policy_field());
    let limiter_for_pause = limiter.clone();
    let secret = bearer(&req).map(str::to_owned);
    // A credential already past its rate or its requests in progress is refused before its
    // lookup: a client that ignores its 429s costs no database work.
    let early = match (&limiter, &secret) {
        (Some(limiter), Some(secret)) => limiter.refusal(secret, Instant::now()),
        _ => None,
    };
    let admission = match early {
        Some(refused) => Ok((None, Some(refused))),
        None => {
            let verdict = match (secret.as_deref(), req.app_data::<web::Data<AppState<P>>>()) {
                (Some(secret), Some(state)) => {
                    // In a task of its own, like the handler (see `deadline`): a client that
                    // hangs up does not cancel the credential lookup halfway.
                    let (state, secret) = (state.clone(), secret.to_owned());
                    spawn_in_request(async move { state.sessions.authenticate(&secret).await })
                        .await
                        .unwrap_or_else(|_panicked| {
                            Err(customers_domain::ports::RepoError::Internal(
                                "the credential lookup panicked".into(),
                            )
                            .into())
                        })
                        .map_err(ApiError::from)
                        .and_then(|principal| {
                            principal
                                .authorize(access)
                                .map(|()| principal)
                                .map_err(|_| ApiError::forbidden())
                        })
                }
                (None, _) => Err(ApiError::unauthorized()),
                (Some(_), None) => Err(ApiError::internal()),
            };
            match (verdict, secret.as_deref()) {
                (Ok(principal), Some(secret)) => {
                    let scan = route.is_some_and(|route| route.cost == routes::Cost::Scan);
                    let admission = limiter.map(|limiter| limiter.admit(secret, Instant::now()));
                    Ok((Some(principal), admit_scan(admission, scan).await))
                }
                (Ok(_), None) => Err(ApiError::unauthorized()),
                (Err(error), _) => Err(error),
            }
        }
    };
    let mut response = match admission {
        Ok((
            _,
            Some(Admission::Refused {
                why,
                retry_after_secs,
                quota,
            }),
        )) => {
            if let Some(limiter) = &limiter_for_pause {
                tokio::time::sleep(why.pause(&limiter.limits())).await;
            }
            let error = ApiError::credential_limited(why, retry_after_secs);
            req.extensions_mut().insert(LimitRefusal);
            let mut response = req
                .into_response(error.error_response())
                .map_into_right_body();
            rate_limit_fields(response.headers_mut(), policy.as_deref(), quota);
            response
        }
        Ok((Some(principal), admitted)) => {
            let quota = match admitted {
                Some(Admission::Admitted { permit, quota }) => {
                    // Held by the request until its last handle is dropped: a handler that
                    // runs on past the deadline (see `deadline`) still counts.
                    if let Some(permit) = permit {
                        req.extensions_mut().insert(permit);
                    }
                    quota
                }
                _ => None,
            };
            req.extensions_mut().insert(principal);
            let mut response = next.call(req).await?.map_into_left_body();
            rate_limit_fields(response.headers_mut(), policy.as_deref(), quota);
            response
        }
        Ok((None, _)) => req
            .into_response(ApiError::unauthorized().error_response())
            .map_into_right_body(),
        Err(error) => req
            .into_response(error.error_response())
            .map_into_right_body(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Marks a request refused by its credential's limits: it is counted in the metrics (429 on
/// its route) but gets no log line, so a client that ignores its 429s cannot flood the log.
#[derive(Clone, Copy, Debug)]
struct LimitRefusal;

/// A scan admitted by its credential's limits waits for one of the credential's scan slots
/// (`crate::limits::Permit::scan`), or is refused like any request past a limit: no database,
/// no body, no log line of its own.
async fn admit_scan(admission: Option<Admission>, scan: bool) -> Option<Admission> {
    match admission {
        Some(Admission::Admitted {
            permit: Some(permit),
            quota,
        }) if scan => Some(match permit.scan().await {
            Ok(permit) => Admission::Admitted {
                permit: Some(permit),
                quota,
            },
            Err(why) => Admission::Refused {
                why,
                retry_after_secs: 1,
                quota,
            },
        }),
        other => other,
    }
}

/// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers), when the
/// credential has a rate limit.
fn rate_limit_fields(
    headers: &mut actix_web::http::header::HeaderMap,
    policy: Option<&str>,
    quota: Option<Quota>,
) {
    if let (Some(policy), Some(quota)) = (policy, quota) {
        if let Ok(value) = HeaderValue::from_str(policy) {
            headers.insert(RATE_LIMIT_POLICY, value);
        }
        if let Ok(value) = HeaderValue::from_str(&quota.field()) {
            headers.insert(RATE_LIMIT, value);
        }
    }
}

/// The authenticated caller of a protected endpoint.
#[derive(Clone, Debug)]
pub struct Caller(pub Principal);

impl std::ops::Deref for Caller {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .map(Caller)
                .ok_or_else(ApiError::unauthorized),
        )
    }
}
