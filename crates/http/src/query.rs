//! Strict query strings: known parameters only, each at most once, typed values checked.
//!
//! What an endpoint takes is its row's [`Param`] list in the access table
//! (`crate::routes::Route::query`): [`QueryParams`] accepts those names and no other, the
//! handler reads each of them with the accessor of its [`Kind`], and the OpenAPI document lists
//! the same parameters with the same kinds and bounds.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use customers_domain::page::{DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, PageRequest};
use customers_domain::validation::ValidationErrors;
use utoipa::openapi::schema::Object;

use crate::error::ApiError;

/// What a query parameter holds.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A whole number. The bounds are the domain's: the use case checks them, the document
    /// shows them.
    Integer {
        min: i64,
        max: i64,
        default: Option<i64>,
    },
    /// `true` or `false`.
    Boolean,
    /// Text, checked by the use case; `schema` is how the document shows it (an enumeration, a
    /// pattern, a format).
    Text { schema: fn() -> Object },
}

impl Kind {
    fn same(self, other: Kind) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

/// One query parameter of an endpoint.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    /// For the document.
    pub description: &'static str,
    pub kind: Kind,
}

impl Param {
    pub const fn integer(
        name: &'static str,
        description: &'static str,
        min: i64,
        max: i64,
        default: Option<i64>,
    ) -> Self {
        Self {
            name,
            description,
            kind: Kind::Integer { min, max, default },
        }
    }

    pub const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            description,
            kind: Kind::Boolean,
        }
    }

    pub const fn text(
        name: &'static str,
        description: &'static str,
        schema: fn() -> Object,
    ) -> Self {
        Self {
            name,
            description,
            kind: Kind::Text { schema },
        }
    }
}

pub const PAGE: Param = Param::integer("page", "Page number, from 1.", 1, MAX_PAGE as i64, Some(1));
pub const LIMIT: Param = Param::integer(
    "limit",
    "Rows per page.",
    1,
    MAX_LIMIT as i64,
    Some(DEFAULT_LIMIT as i64),
);
/// Cursor mode of a list: the rows after this cursor.
pub const AFTER: Param = Param::text(
    "after",
    "Cursor mode: the rows after this cursor (`nextCursor` of a page), or the first page when empty. Not with `page` or `before`.",
    crate::openapi::parameters::cursor,
);
/// Cursor mode of a list: the rows before this cursor.
pub const BEFORE: Param = Param::text(
    "before",
    "Cursor mode: the rows before this cursor (`prevCursor` of a page), or the last page when empty. Not with `page` or `after`.",
    crate::openapi::parameters::cursor,
);
/// How a list counts its matches.
pub const TOTAL: Param = Param::text(
    "total",
    "How matches are counted: `exact` (page numbers' only and default), `bounded` (up to 10,000, with `totalRelation`) or `none` (the default of cursors).",
    crate::openapi::parameters::total,
);
/// The parameters of a list that takes nothing but a page.
pub const PAGE_ONLY: &[Param] = &[PAGE, LIMIT];

/// The parameters of one request, checked against the names its endpoint takes.
///
/// As an extractor it reads the spec from the request's row of the access table. Every
/// parameter of the spec must be read, each with the accessor of its kind, before
/// [`finish`](Self::finish): a handler that does otherwise has drifted from its row and
/// answers 500 (the tests walk every row's reader).
#[derive(Debug)]
pub struct QueryParams {
    spec: &'static [Param],
    values: HashMap<String, String>,
    errors: ValidationErrors,
    read: Vec<&'static str>,
    /// Names read that the spec does not hold, or holds with another kind.
    misread: Vec<String>,
}

impl QueryParams {
    pub fn parse(query_string: &str, spec: &'static [Param]) -> Result<Self, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
            .map_err(|_| ApiError::invalid_field("query", "is not a valid query string"))?
            .into_inner();
        let mut errors = ValidationErrors::new();
        let mut values = HashMap::new();
        for (name, value) in pairs {
            if !spec.iter().any(|param| param.name == name) {
                errors.add(name, "is not a known query parameter");
                continue;
            }
            if value.contains('\0') {
                errors.add(name, crate::body::NUL_MESSAGE);
                continue;
            }
            match values.entry(name) {
                Entry::Occupied(entry) => {
                    errors.add(entry.key().clone(), "must be given at most once")
                }
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
            }
        }
        if errors.is_empty() {
            Ok(Self {
                spec,
                values,
                errors: ValidationErrors::new(),
                read: Vec::new(),
                misread: Vec::new(),
            })
        } else {
            Err(ApiError::validation(&errors))
        }
    }

    /// The value of `name`, which the spec must hold as a parameter of `kind`.
    fn value(&mut self, name: &str, kind: Kind) -> Option<String> {
        match self.spec.iter().find(|param| param.name == name) {
            Some(param) if param.kind.same(kind) => {
                self.read.push(param.name);
                self.values.get(name).cloned()
            }
            _ => {
                self.misread.push(name.to_owned());
                None
            }
        }
    }

    pub fn text(&mut self, name: &str) -> Option<String> {
        self.value(
            name,
            Kind::Text {
                schema: Object::new,
            },
        )
    }

    /// A whole number, or a recorded error.
    pub fn integer(&mut self, name: &str) -> Option<i64> {
        let any = Kind::Integer {
            min: 0,
            max: 0,
            default: None,
        };
        let value = self.value(name, any)?;
        match value.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors.add(name, "must be a whole number");
                None
            }
        }
    }

    /// `true` or `false`, or a recorded error.
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.value(name, Kind::Boolean)?.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.errors.add(name, "must be true or false");
                None
            }
        }
    }

    /// The typed values, or every type error found while reading them. A handler that read a
    /// parameter its spec does not hold, or left one of the spec unread, is a fault: 500.
    pub fn finish<T>(self, value: T) -> Result<T, ApiError> {
        let unread: Vec<&str> = self
            .spec
            .iter()
            .map(|param| param.name)
            .filter(|name| !self.read.contains(name))
            .collect();
        if !self.misread.is_empty() || !unread.is_empty() {
            tracing::error!(
                misread = ?self.misread,
                unread = ?unread,
                "a handler's query reading differs from its row of the access table"
            );
            return Err(ApiError::internal());
        }
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::validation(&self.errors))
        }
    }

    /// `page` and `limit`, for a list that takes nothing else ([`PAGE_ONLY`]).
    pub fn page(mut self) -> Result<PageRequest, ApiError> {
        let (page, limit) = (self.integer("page"), self.integer("limit"));
        self.finish(())?;
        PageRequest::new(page, limit).map_err(|e| ApiError::validation(&e))
    }
}

impl FromRequest for QueryParams {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match crate::middleware::matched_route(req) {
            Some(route) => Self::parse(req.query_string(), route.query),
            None => Err(ApiError::internal()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{Endpoint, ROUTES};
    use crate::{audit, customers, reviews};

    const SAMPLE: &[Param] = &[
        PAGE,
        Param::boolean("isBlocked", "-"),
        Param::text("q", "-", Object::new),
    ];

    #[test]
    fn refuses_unknown_and_repeated_parameters() {
        let error = QueryParams::parse("page=1&page=2&color=red", SAMPLE).unwrap_err();
        let fields: Vec<_> = error.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["page", "color"]);
    }

    #[test]
    fn types_values_and_collects_errors() {
        let mut params = QueryParams::parse("page=x&isBlocked=yes&q=a%25b", SAMPLE).unwrap();
        assert_eq!(params.text("q").as_deref(), Some("a%b"));
        assert_eq!(params.integer("page"), None);
        assert_eq!(params.boolean("isBlocked"), None);
        let error = params.finish(()).unwrap_err();
        assert_eq!(error.code, "VALIDATION_FAILED");
        assert_eq!(error.details.len(), 2);
    }

    #[test]
    fn refuses_nul_characters() {
        let error = QueryParams::parse("q=a%00b", SAMPLE).unwrap_err();
        assert_eq!(error.details[0].field, "q");
    }

    #[test]
    fn absent_parameters_are_none() {
        let mut params = QueryParams::parse("", SAMPLE).unwrap();
        assert_eq!(params.integer("page"), None);
        assert_eq!(params.boolean("isBlocked"), None);
        assert_eq!(params.text("q"), None);
        assert!(params.finish(()).is_ok());
    }

    #[test]
    fn reading_other_than_the_spec_is_a_fault() {
        let unread = QueryParams::parse("", SAMPLE).unwrap();
        assert_eq!(unread.finish(()).unwrap_err().code, "INTERNAL_ERROR");
        let mut unknown = QueryParams::parse("", SAMPLE).unwrap();
        let _ = (unknown.integer("page"), unknown.boolean("isBlocked"));
        let _ = (unknown.text("q"), unknown.text("limit"));
        assert_eq!(unknown.finish(()).unwrap_err().code, "INTERNAL_ERROR");
        let mut wrong_kind = QueryParams::parse("", SAMPLE).unwrap();
        let _ = (wrong_kind.text("page"), wrong_kind.boolean("isBlocked"));
        let _ = wrong_kind.text("q");
        assert_eq!(wrong_kind.finish(()).unwrap_err().code, "INTERNAL_ERROR");
    }

    /// How each list reads its query: the handlers call these.
    fn reader(endpoint: Endpoint) -> Option<fn(QueryParams) -> Result<(), ApiError>> {
        match endpoint {
            Endpoint::ListCustomers => Some(|q| customers::list_params(q).map(drop)),
            Endpoint::ListReviews => Some(|q| reviews::list_params(q).map(drop)),
            Endpoint::Audit => Some(|q| audit::list_params(q).map(drop)),
            Endpoint::CustomerOrders
            | Endpoint::CustomerLoyalty
            | Endpoint::ListUsers
            | Endpoint::ListApiKeys => Some(|q| q.page().map(drop)),
            _ => None,
        }
    }

    /// A value of each parameter's kind, within its bounds.
    fn every_parameter(spec: &[Param]) -> String {
        spec.iter()
            .map(|param| {
                let value = match param.kind {
                    Kind::Integer { min, default, .. } => default.unwrap_or(min).to_string(),
                    Kind::Boolean => "true".to_owned(),
                    Kind::Text { .. } => "x".to_owned(),
                };
                format!("{}={value}", param.name)
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn every_list_reads_exactly_the_parameters_of_its_row() {
        for route in ROUTES {
            let Some(read) = reader(route.endpoint) else {
                assert!(route.query.is_empty(), "{:?} has no reader", route.endpoint);
                continue;
            };
            assert!(!route.query.is_empty(), "{:?} has no query", route.endpoint);
            for query in [String::new(), every_parameter(route.query)] {
                let params = QueryParams::parse(&query, route.query).unwrap();
                if let Err(error) = read(params) {
                    panic!(
                        "{:?} `{query}`: {} {:?}",
                        route.endpoint, error.code, error.details
                    );
                }
            }
        }
    }
}
