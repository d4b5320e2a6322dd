//! The success envelope: `{"success": true, "data": …}`, with `meta` for lists.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, LINK};
use actix_web::{HttpRequest, HttpResponse, web};
use customers_domain::keyset::{Listing, Slice};
use customers_domain::page::Page;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize, M: Serialize = Meta> {
    success: bool,
    data: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<M>,
}

/// Pagination facts of a list read by cursor (`after` or `before`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CursorMeta {
    /// The most rows a page holds.
    pub limit: u32,
    /// Whether more rows follow in the direction read: after this page with `after`, before it
    /// with `before`.
    pub has_more: bool,
    /// `after` this cursor for the rows that follow this page; `null` when none do.
    pub next_cursor: Option<String>,
    /// `before` this cursor for the rows that precede this page; `null` at the list's start.
    pub prev_cursor: Option<String>,
    /// The number of matches (`total=exact` or `bounded`), absent with `total=none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// `eq` when `total` is exact, `gte` when a bounded count stopped at its bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^(eq|gte)$")]
    pub total_relation: Option<&'static str>,
}

impl CursorMeta {
    pub fn of<T>(slice: &Slice<T>) -> Self {
        Self {
            limit: slice.limit,
            has_more: slice.has_more,
            next_cursor: slice.next.clone(),
            prev_cursor: slice.prev.clone(),
            total: slice.total.map(|total| total.value()),
            total_relation: slice.total.map(|total| total.relation()),
        }
    }
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
    HttpResponse::build(status).json(Envelope::<T, Meta> {
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

/// A list read by page number or by cursor, each row shown as a `V`, with RFC 8288 `Link`s to
/// the pages around it.
pub fn listing<T, V>(request: &HttpRequest, listing: &Listing<T>) -> HttpResponse
where
    V: Serialize + for<'a> From<&'a T>,
{
    let rows: Vec<V> = listing.items().iter().map(V::from).collect();
    let links = Links::of(request);
    match listing {
        Listing::Page(page) => {
            let meta = Meta::of(page);
            let mut found = vec![("first", links.to("page", "1"))];
            if meta.page > 1 {
                let prev = u64::from(meta.page - 1).min(meta.total_pages.max(1));
                found.push(("prev", links.to("page", &prev.to_string())));
            }
            if u64::from(meta.page) < meta.total_pages {
                found.push(("next", links.to("page", &(meta.page + 1).to_string())));
            }
            if meta.total_pages > 0 {
                found.push(("last", links.to("page", &meta.total_pages.to_string())));
            }
            linked(&found).json(Envelope {
                success: true,
                data: &rows,
                meta: Some(meta),
            })
        }
        Listing::Slice(slice) => {
            let mut found = vec![("first", links.to("after", ""))];
            if let Some(prev) = &slice.prev {
                found.push(("prev", links.to("before", prev)));
            }
            if let Some(next) = &slice.next {
                found.push(("next", links.to("after", next)));
            }
            found.push(("last", links.to("before", "")));
            linked(&found).json(Envelope {
                success: true,
                data: &rows,
                meta: Some(CursorMeta::of(slice)),
            })
        }
    }
}

/// A 200 with these links in its `Link` header.
fn linked(links: &[(&str, String)]) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    if let Some(value) = Links::header(links) {
        response.insert_header((LINK, value));
    }
    response
}

/// The request's path and its query without the parameters that choose a page, from which
/// the links to other pages of the same list are made.
struct Links {
    path: String,
    /// The other parameters, as sent.
    kept: Vec<String>,
}

impl Links {
    /// The parameters a link replaces.
    const PAGING: [&'static str; 3] = ["page", "after", "before"];

    fn of(request: &HttpRequest) -> Self {
        let kept = request
            .query_string()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| {
                let decoded = web::Query::<Vec<(String, String)>>::from_query(pair);
                !decoded.is_ok_and(|pairs| {
                    pairs
                        .iter()
                        .any(|(name, _)| Self::PAGING.contains(&name.as_str()))
                })
            })
            .map(str::to_owned)
            .collect();
        Self {
            path: request.path().to_owned(),
            kept,
        }
    }

    /// This list with `name=value` (a value that needs no escaping: a number or a cursor).
    fn to(&self, name: &str, value: &str) -> String {
        let mut query = self.kept.clone();
        query.push(format!("{name}={value}"));
        format!("{}?{}", self.path, query.join("&"))
    }

    /// The `Link` header's value. The targets are made of the request's own path and query,
    /// which its request line already carried; a value a header cannot hold (not expected)
    /// leaves the header out rather than failing the answer.
    fn header(links: &[(&str, String)]) -> Option<HeaderValue> {
        let value = links
            .iter()
            .map(|(rel, target)| format!("<{target}>; rel=\"{rel}\""))
            .collect::<Vec<_>>()
            .join(", ");
        HeaderValue::try_from(value).ok()
    }
}

/// A list: `data` and `meta` side by side.
pub fn list<T: Serialize>(data: &T, meta: Meta) -> HttpResponse {
    HttpResponse::Ok().json(Envelope {
        success: true,
        data,
        meta: Some(meta),
    })
}
