//! `/customers/:id/loyalty`: the balance, the ledger, manual adjustments.

use crate::state::Stack;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::body::{Body, JsonObject};
use crate::envelope::{self, Meta};
use crate::error::ApiError;
use crate::idempotent::{Idempotent, Rendered, run_once};
use crate::middleware::Caller;
use crate::openapi::schemas;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::views::{AdjustView, LedgerEntryView, LoyaltyView};

/// A manual adjustment: points to add (positive) or deduct (negative).
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AdjustInput, example = json!({"delta": 500, "reason": "Compensation for late delivery"}))]
pub struct AdjustBody {
    #[schema(schema_with = schemas::delta, required = true)]
    delta: Option<i64>,
    #[schema(schema_with = schemas::adjust_reason, required = true)]
    reason: Option<String>,
}

impl Body for AdjustBody {}

pub async fn adjust<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
    once: Idempotent,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let canonical = body.canonical();
    let body = body.decode::<AdjustBody>()?;
    let (state, caller) = (&state, &caller);
    let customer = id.into_inner();
    let id = &customer;
    run_once(
        state,
        caller,
        &once,
        &canonical,
        Some(id),
        |claim| async move {
            let outcome = state
                .loyalty
                .adjust(
                    caller,
                    id,
                    body.delta,
                    body.reason.as_deref(),
                    claim.as_deref(),
                )
                .await?;
            Ok(Rendered::json(StatusCode::OK, &AdjustView::from(&outcome)))
        },
    )
    .await
}

pub async fn ledger<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
    query: QueryParams,
) -> Result<HttpResponse, ApiError> {
    let page = query.page()?;
    let ledger = state.loyalty.ledger(&caller, &id, page).await?;
    let view = LoyaltyView {
        balance: ledger.balance,
        entries: ledger
            .entries
            .items
            .iter()
            .map(LedgerEntryView::from)
            .collect(),
    };
    Ok(envelope::list(&view, Meta::of(&ledger.entries)))
}
