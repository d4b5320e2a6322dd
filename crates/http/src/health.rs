//! `/healthz` (the process answers), `/readyz` (and so does its database) and `/metrics`.

use crate::state::Stack;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::envelope;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn health() -> HttpResponse {
    envelope::ok(&json!({ "status": "ok" }))
}

pub async fn ready<P: Stack>(state: web::Data<AppState<P>>) -> Result<HttpResponse, ApiError> {
    if (state.ready)().await {
        Ok(envelope::ok(&json!({ "status": "ready" })))
    } else {
        Err(ApiError::unavailable())
    }
}

/// Prometheus text format 0.0.4.
pub async fn metrics<P: Stack>(state: web::Data<AppState<P>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(state.pool_gauges()))
}
