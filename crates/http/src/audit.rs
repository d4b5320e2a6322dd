//! `GET /audit`: the store's audit trail, newest first (admins and owners).

use crate::state::Stack;
use actix_web::{HttpResponse, web};
use customers_domain::audit::AuditListParams;

use crate::envelope;
use crate::error::ApiError;
use crate::middleware::Caller;
use crate::openapi::{parameters, schemas};
use crate::query::{LIMIT, PAGE, Param, QueryParams};
use crate::state::AppState;
use crate::views::AuditEntryView;

/// Query parameters of `GET /audit`.
pub const LIST_QUERY: &[Param] = &[
    PAGE,
    LIMIT,
    Param::text(
        "customerId",
        "Only entries about this customer (erased ones included).",
        schemas::customer_id,
    ),
    Param::text(
        "actor",
        "Only entries of this actor: a user id or an API key id.",
        parameters::actor,
    ),
    Param::text(
        "action",
        "Only entries of this action.",
        schemas::audit_action,
    ),
    Param::text(
        "dateFrom",
        "First day, in the store's time zone, inclusive.",
        parameters::day,
    ),
    Param::text(
        "dateTo",
        "Last day, in the store's time zone, inclusive; not before `dateFrom` (422).",
        parameters::day,
    ),
];

/// Reads [`LIST_QUERY`].
pub fn list_params(mut query: QueryParams) -> Result<AuditListParams, ApiError> {
    let params = AuditListParams {
        page: query.integer("page"),
        limit: query.integer("limit"),
        customer_id: query.text("customerId"),
        actor: query.text("actor"),
        action: query.text("action"),
        date_from: query.text("dateFrom"),
        date_to: query.text("dateTo"),
    };
    query.finish(params)
}

pub async fn list<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    query: QueryParams,
) -> Result<HttpResponse, ApiError> {
    let params = list_params(query)?;
    let page = state.audit.list(&caller, &params).await?;
    Ok(envelope::page::<_, AuditEntryView>(&page))
}
