//! `/healthz` (the process answers), `/readyz` (and so does its database) and `/metrics`.

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

/// Prometheus text format 0.0.4.
pub async fn metrics<P: Ports>(state: web::Data<AppState<P>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(state.pool_gauges()))
}
