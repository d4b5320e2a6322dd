//! `/healthz` (the process answers) and `/readyz` (and so does its database).

use actix_web::{HttpResponse, web};
use customers_domain::Ports;
use serde_json::json;

use crate::envelope;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn health() -> HttpResponse {
    envelope::ok(&json!({ "status": "ok" }))
}

pub async fn ready<P: Ports>(state: web::Data<AppState<P>>) -> Result<HttpResponse, ApiError> {
    if (state.ready)().await {
        Ok(envelope::ok(&json!({ "status": "ready" })))
    } else {
        Err(ApiError::unavailable())
    }
}
