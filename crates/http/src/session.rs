//! `/auth`: login, logout, and who am I.

use crate::state::Stack;
use actix_web::{HttpRequest, HttpResponse, web};
use customers_domain::access::AuthError;
use customers_domain::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::body::{Body, JsonObject};
use crate::envelope;
use crate::error::ApiError;
use crate::middleware::Caller;
use crate::openapi::schemas;
use crate::state::AppState;
use crate::views::{MeView, UserRef, timestamp};

/// Credentials of a staff user of one store.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LoginInput, example = json!({
    "storeId": "store_r4k7abcdefgh", "email": "manager@example.dk", "password": "correct horse battery"
}))]
pub struct LoginBody {
    #[schema(schema_with = schemas::plain_text, required = true)]
    store_id: Option<String>,
    #[schema(schema_with = schemas::plain_text, required = true)]
    email: Option<String>,
    #[schema(schema_with = schemas::login_password, required = true)]
    password: Option<String>,
}

impl Body for LoginBody {}

/// A new staff token, shown this once.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginView {
    token: String,
    #[schema(format = DateTime)]
    expires_at: String,
    user: UserRef,
}

pub async fn login<P: Stack>(
    state: web::Data<AppState<P>>,
    req: HttpRequest,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let body = body.decode::<LoginBody>()?;
    let mut errors = ValidationErrors::new();
    for (field, value) in [
        ("storeId", &body.store_id),
        ("email", &body.email),
        ("password", &body.password),
    ] {
        if value.is_none() {
            errors.add(field, "is required");
        }
    }
    let (Some(store_id), Some(email), Some(password)) = (body.store_id, body.email, body.password)
    else {
        return Err(ApiError::validation(&errors));
    };
    // The socket's address, or behind a trusted proxy the address it forwards for: see
    // `crate::client_address`.
    let client = req.peer_addr().map(|addr| {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok());
        state
            .trusted_proxies
            .client(addr.ip(), forwarded)
            .to_string()
    });
    let outcome = state
        .sessions
        .login(&store_id, &email, &password, client.as_deref())
        .await
        .inspect_err(|error| log_refusal(error, client.as_deref()))?;
    Ok(envelope::ok(&LoginView {
        token: outcome.token,
        expires_at: timestamp(outcome.expires_at),
        user: UserRef {
            id: outcome.user.id.to_string(),
            email: outcome.user.email.to_string(),
            role: outcome.user.role.as_str(),
        },
    }))
}

/// One line per refused or shed login: the rule, the count and the address, never the email.
fn log_refusal(error: &AuthError, client: Option<&str>) {
    match error {
        AuthError::Throttled(refusal) => tracing::warn!(
            client = client.unwrap_or("-"),
            rule = refusal.rule.as_str(),
            failures = refusal.failures,
            retry_after_secs = refusal.retry_after_secs,
            "login refused: too many failures"
        ),
        AuthError::Busy { retry_after_secs } => tracing::warn!(
            client = client.unwrap_or("-"),
            retry_after_secs,
            "login shed: too many password checks at once"
        ),
        _ => {}
    }
}

pub async fn logout<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    state.sessions.logout(&caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn me(caller: Caller) -> HttpResponse {
    envelope::ok(&MeView::from(&caller.0))
}
