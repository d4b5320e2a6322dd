//! `GET /audit`: the store's audit trail, newest first (admins and owners).

use crate::state::Stack;
use actix_web::{HttpRequest, HttpResponse, web};
use customers_domain::audit::AuditListParams;

use crate::envelope;
use crate::error::ApiError;
use crate::middleware::Caller;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::views::AuditEntryView;

pub const LIST_PARAMETERS: &[&str] = &[
    "page",
    "limit",
    "customerId",
    "actor",
    "action",
    "dateFrom",
    "dateTo",
];

pub async fn list<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut query = QueryParams::parse(req.query_string(), LIST_PARAMETERS)?;
    let params = AuditListParams {
        page: query.integer("page"),
        limit: query.integer("limit"),
        customer_id: query.text("customerId"),
        actor: query.text("actor"),
        action: query.text("action"),
        date_from: query.text("dateFrom"),
        date_to: query.text("dateTo"),
    };
    let params = query.finish(params)?;
    let page = state.audit.list(&caller, &params).await?;
    Ok(envelope::page::<_, AuditEntryView>(&page))
}
