//! The success envelope: `{"success": true, "data": …}`, with `meta` for lists.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use customers_domain::page::Page;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    success: bool,
    data: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
}

/// Pagination facts of a list.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub total_pages: u64,
}

impl Meta {
    pub fn of<T>(page: &Page<T>) -> Self {
        Self {
            total: page.total,
            page: page.request.page(),
            limit: page.request.limit(),
            total_pages: page.total_pages(),
        }
    }
}

/// `status` with `{"success": true, "data": data}`.
pub fn respond<T: Serialize>(status: StatusCode, data: &T) -> HttpResponse {
    HttpResponse::build(status).json(Envelope {
        success: true,
        data,
        meta: None,
    })
}

pub fn ok<T: Serialize>(data: &T) -> HttpResponse {
    respond(StatusCode::OK, data)
}

pub fn created<T: Serialize>(data: &T) -> HttpResponse {
    respond(StatusCode::CREATED, data)
}

/// A page of a list, each row shown as a `V`.
pub fn page<T, V>(page: &Page<T>) -> HttpResponse
where
    V: Serialize + for<'a> From<&'a T>,
{
    let rows: Vec<V> = page.items.iter().map(V::from).collect();
    list(&rows, Meta::of(page))
}

/// A list: `data` and `meta` side by side.
pub fn list<T: Serialize>(data: &T, meta: Meta) -> HttpResponse {
    HttpResponse::Ok().json(Envelope {
        success: true,
        data,
        meta: Some(meta),
    })
}
