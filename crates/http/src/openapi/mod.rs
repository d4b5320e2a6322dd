//! The OpenAPI 3.1 document of the API, served at `GET /openapi.json`.
//!
//! Its paths are made by walking the access table ([`ROUTES`]): every row becomes one
//! operation, with the row's summary, its security requirement and the roles and scopes it
//! needs (`x-roles`, `x-scopes`) taken from the row's `access`. What an endpoint takes and
//! answers (parameters, body, success and error responses) is [`shape`], one `match` arm per
//! [`Endpoint`], so an endpoint added to the table cannot compile without being documented. The
//! schemas are derived from the request body and view types themselves.

pub mod schemas;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use customers_domain::access::{Access, Role};
use customers_domain::customer::{CustomerSort, MAX_SEARCH_LEN};
use customers_domain::idempotency::{KEY_LIFETIME, MAX_KEY_LEN};
use utoipa::ToSchema;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{
    ArrayBuilder, ComponentsBuilder, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{ContentBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Required};

use crate::routes::{Endpoint, ROUTES, Route, Verb};
use crate::{customers, envelope, error, loyalty, orders, reviews, session, users, views};

/// Security scheme of staff tokens (`ord_live_sk_…`).
pub const STAFF_TOKEN: &str = "staffToken";
/// Security scheme of API keys (`ord_live_ak_…`).
pub const API_KEY: &str = "apiKey";

/// A query parameter an endpoint takes.
struct Query {
    name: &'static str,
    description: &'static str,
    schema: fn() -> Object,
}

/// The request body of an endpoint.
enum Body {
    None,
    /// A JSON object of this schema, required.
    Json(&'static str),
    /// A JSON object of this schema, or no body at all.
    OptionalJson(&'static str),
}

/// What a success carries in `data`.
enum Data {
    /// `{"success": true, "data": <schema>}`.
    One(RefOr<Schema>),
    /// `{"success": true, "data": [<schema>], "meta": Meta}`.
    List(RefOr<Schema>),
    /// `{"success": true, "data": <schema>, "meta": Meta}`.
    Paged(RefOr<Schema>),
    /// No body.
    Nothing,
    /// A body of another media type.
    Media(&'static [&'static str], RefOr<Schema>),
}

/// The success answers of an endpoint.
struct Success(Vec<(u16, &'static str, Data)>);

/// What one endpoint takes and answers, beyond what its table row says.
struct Shape {
    tag: &'static str,
    query: &'static [Query],
    body: Body,
    success: Success,
    /// Error codes of this endpoint beyond those implied by its access, body, query, path
    /// and `Idempotency-Key`.
    errors: &'static [(u16, &'static str)],
    idempotent: bool,
    /// Whether it reads the database (and so may answer 503).
    database: bool,
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn page_query() -> Object {
    schemas::integer(false)
        .minimum(Some(1))
        .maximum(Some(i64::from(customers_domain::page::MAX_PAGE)))
        .default(Some(1.into()))
        .build()
}

fn limit_query() -> Object {
    schemas::integer(false)
        .minimum(Some(1))
        .maximum(Some(i64::from(customers_domain::page::MAX_LIMIT)))
        .default(Some(customers_domain::page::DEFAULT_LIMIT.into()))
        .build()
}

fn boolean_query() -> Object {
    schemas::boolean(false).build()
}

fn money_query() -> Object {
    schemas::integer(false)
        .minimum(Some(i64::MIN))
        .maximum(Some(i64::MAX))
        .build()
}

fn sort_by_query() -> Object {
    let mut object = schemas::one_of(&CustomerSort::ALL.map(CustomerSort::api_name));
    object.default = Some(CustomerSort::default().api_name().into());
    object
}

fn sort_dir_query() -> Object {
    let mut object = schemas::one_of(&["asc", "desc"]);
    object.default = Some("desc".into());
    object
}

fn period_query() -> Object {
    schemas::one_of(&["today", "7d", "30d", "90d"])
}

fn search_query() -> Object {
    // At most `MAX_SEARCH_LEN` characters once trimmed; no U+0000.
    schemas::text(false)
        .pattern(Some(schemas::trimmed(
            MAX_SEARCH_LEN,
            false,
            r"\u0000",
            schemas::WHITE_SPACE,
        )))
        .build()
}

fn rating_query() -> Object {
    schemas::rating(false)
}

fn day_query() -> Object {
    schemas::text(false)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Date,
        )))
        .pattern(Some(schemas::DATE))
        .build()
}

const PAGE: Query = Query {
    name: "page",
    description: "Page number, from 1.",
    schema: page_query,
};
const LIMIT: Query = Query {
    name: "limit",
    description: "Rows per page.",
    schema: limit_query,
};
const PAGE_ONLY: &[Query] = &[PAGE, LIMIT];

const CUSTOMER_LIST: &[Query] = &[
    PAGE,
    LIMIT,
    Query {
        name: "sortBy",
        description: "Sort key; ties are broken by id.",
        schema: sort_by_query,
    },
    Query {
        name: "sortDir",
        description: "Sort direction.",
        schema: sort_dir_query,
    },
    Query {
        name: "acceptsMarketing",
        description: "Only customers with this newsletter opt-in.",
        schema: boolean_query,
    },
    Query {
        name: "isBlocked",
        description: "Only blocked (or only unblocked) customers.",
        schema: boolean_query,
    },
    Query {
        name: "hasOrders",
        description: "`true`: has ordered; `false`: never ordered.",
        schema: boolean_query,
    },
    Query {
        name: "minSpent",
        description: "Least total spent, in minor units, inclusive.",
        schema: money_query,
    },
    Query {
        name: "maxSpent",
        description: "Most total spent, in minor units, inclusive; not below `minSpent` (422).",
        schema: money_query,
    },
    Query {
        name: "lastOrderPeriod",
        description: "Last ordered since midnight in the store's time zone (`today`) or within the last 7, 30 or 90 days.",
        schema: period_query,
    },
    Query {
        name: "q",
        description: "Case-insensitive substring of the name, email or phone; trimmed.",
        schema: search_query,
    },
    Query {
        name: "allergen",
        description: "Only customers with this allergen.",
        schema: schemas::allergen,
    },
];

const REVIEW_LIST: &[Query] = &[
    PAGE,
    LIMIT,
    Query {
        name: "isApproved",
        description: "Only approved (or only pending) reviews.",
        schema: boolean_query,
    },
    Query {
        name: "isFeatured",
        description: "Only featured (or only not featured) reviews.",
        schema: boolean_query,
    },
    Query {
        name: "hasResponse",
        description: "Only reviews with (or without) the store's response.",
        schema: boolean_query,
    },
    Query {
        name: "minRating",
        description: "Least overall rating.",
        schema: rating_query,
    },
    Query {
        name: "customerId",
        description: "Only this customer's reviews.",
        schema: schemas::customer_id,
    },
    Query {
        name: "dateFrom",
        description: "First day, in the store's time zone, inclusive.",
        schema: day_query,
    },
    Query {
        name: "dateTo",
        description: "Last day, in the store's time zone, inclusive; not before `dateFrom` (422).",
        schema: day_query,
    },
];

const AUDIT_LIST: &[Query] = &[
    PAGE,
    LIMIT,
    Query {
        name: "customerId",
        description: "Only entries about this customer (erased ones included).",
        schema: schemas::customer_id,
    },
    Query {
        name: "actor",
        description: "Only entries of this actor: a user id or an API key id.",
        schema: actor_query,
    },
    Query {
        name: "action",
        description: "Only entries of this action.",
        schema: schemas::audit_action,
    },
    Query {
        name: "dateFrom",
        description: "First day, in the store's time zone, inclusive.",
        schema: day_query,
    },
    Query {
        name: "dateTo",
        description: "Last day, in the store's time zone, inclusive; not before `dateFrom` (422).",
        schema: day_query,
    },
];

fn actor_query() -> Object {
    schemas::text(false)
        .pattern(Some(schemas::actor_pattern()))
        .build()
}

fn one<T: ToSchema>() -> Data {
    Data::One(reference(&T::name()))
}

fn status_data(value: &str) -> Data {
    Data::One(RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Object))
            .property("status", schemas::one_of(&[value]))
            .required("status")
            .build(),
    )))
}

fn success(status: u16, description: &'static str, data: Data) -> Success {
    Success(vec![(status, description, data)])
}

const CUSTOMER_WRITE: &[(u16, &str)] = &[(409, "EMAIL_TAKEN"), (409, "PHONE_TAKEN")];

/// What `endpoint` takes and answers.
fn shape(endpoint: Endpoint) -> Shape {
    let base = |tag| Shape {
        tag,
        query: &[],
        body: Body::None,
        success: success(200, "OK", Data::Nothing),
        errors: &[],
        idempotent: false,
        database: true,
    };
    match endpoint {
        Endpoint::CreateCustomer => Shape {
            body: Body::Json("ProfileInput"),
            success: success(201, "The new customer", one::<views::CustomerView>()),
            errors: CUSTOMER_WRITE,
            ..base("Customers")
        },
        Endpoint::ListCustomers => Shape {
            query: CUSTOMER_LIST,
            success: success(
                200,
                "A page of customers",
                Data::List(reference(&views::CustomerSummaryView::name())),
            ),
            ..base("Customers")
        },
        Endpoint::GetCustomer => Shape {
            success: success(200, "The customer", one::<views::CustomerView>()),
            ..base("Customers")
        },
        Endpoint::UpdateCustomer => Shape {
            body: Body::Json("ProfileInput"),
            success: success(200, "The customer as changed", one::<views::CustomerView>()),
            errors: CUSTOMER_WRITE,
            ..base("Customers")
        },
        Endpoint::DeleteCustomer => Shape {
            success: success(204, "Erased for good", Data::Nothing),
            ..base("Customers")
        },
        Endpoint::BlockCustomer => Shape {
            body: Body::OptionalJson("BlockInput"),
            success: success(200, "Blocked", one::<views::BlockView>()),
            ..base("Customers")
        },
        Endpoint::UnblockCustomer => Shape {
            success: success(200, "Not blocked", one::<views::BlockView>()),
            ..base("Customers")
        },
        Endpoint::CustomerOrders => Shape {
            query: PAGE_ONLY,
            success: success(
                200,
                "A page of the customer's orders, newest first",
                Data::List(reference(&views::OrderView::name())),
            ),
            ..base("Customers")
        },
        Endpoint::CustomerAnalytics => Shape {
            success: success(200, "Purchase analytics", one::<views::AnalyticsView>()),
            ..base("Customers")
        },
        Endpoint::ExportCustomer => Shape {
            success: success(200, "Everything held", one::<views::ExportView>()),
            ..base("Customers")
        },
        Endpoint::AdjustLoyalty => Shape {
            body: Body::Json("AdjustInput"),
            success: success(200, "The adjustment", one::<views::AdjustView>()),
            errors: &[(422, "INSUFFICIENT_POINTS"), (422, "TOTALS_OUT_OF_RANGE")],
            idempotent: true,
            ..base("Loyalty")
        },
        Endpoint::CustomerLoyalty => Shape {
            query: PAGE_ONLY,
            success: success(
                200,
                "The balance and a page of the ledger, newest first",
                Data::Paged(reference(&views::LoyaltyView::name())),
            ),
            ..base("Loyalty")
        },
        Endpoint::RecordOrder => Shape {
            body: Body::Json("OrderInput"),
            success: Success(vec![
                (201, "The new order", one::<views::OrderView>()),
                (
                    200,
                    "The order already recorded under this `externalId`, to a caller that may \
                     read orders (a staff token, or an API key with `read:orders`); other \
                     callers get 409 `ORDER_EXISTS` with `details: {\"id\"}` only",
                    one::<views::OrderView>(),
                ),
            ]),
            errors: &[
                (409, "ORDER_EXISTS"),
                (422, "CUSTOMER_BLOCKED"),
                (422, "TOTALS_OUT_OF_RANGE"),
            ],
            idempotent: true,
            ..base("Orders")
        },
        Endpoint::GetOrder => Shape {
            success: success(200, "The order", one::<views::OrderView>()),
            ..base("Orders")
        },
        Endpoint::CancelOrder => Shape {
            success: success(
                200,
                "The cancelled order (a second cancel changes nothing)",
                one::<views::OrderView>(),
            ),
            ..base("Orders")
        },
        Endpoint::CreateReview => Shape {
            body: Body::Json("ReviewInput"),
            success: success(201, "The new review", one::<views::ReviewView>()),
            errors: &[(409, "REVIEW_EXISTS")],
            ..base("Reviews")
        },
        Endpoint::ListReviews => Shape {
            query: REVIEW_LIST,
            success: success(
                200,
                "A page of reviews, newest first",
                Data::List(reference(&views::ReviewView::name())),
            ),
            ..base("Reviews")
        },
        Endpoint::ReviewStats => Shape {
            success: success(200, "Review statistics", one::<views::ReviewStatsView>()),
            ..base("Reviews")
        },
        Endpoint::GetReview => Shape {
            success: success(200, "The review", one::<views::ReviewView>()),
            ..base("Reviews")
        },
        Endpoint::ModerateReview => Shape {
            body: Body::Json("ModerationInput"),
            success: success(200, "The review as changed", one::<views::ReviewView>()),
            errors: &[(422, "REVIEW_NOT_FEATURABLE")],
            ..base("Reviews")
        },
        Endpoint::RespondToReview => Shape {
            body: Body::Json("ResponseInput"),
            success: success(200, "The response", one::<views::ReviewResponseView>()),
            ..base("Reviews")
        },
        Endpoint::DeleteReview => Shape {
            success: success(204, "Deleted", Data::Nothing),
            ..base("Reviews")
        },
        Endpoint::Login => Shape {
            body: Body::Json("LoginInput"),
            success: success(200, "A new staff token", one::<session::LoginView>()),
            errors: &[(401, "UNAUTHORIZED"), (429, "RATE_LIMITED")],
            ..base("Access")
        },
        Endpoint::Logout => Shape {
            success: success(204, "The credential is revoked", Data::Nothing),
            ..base("Access")
        },
        Endpoint::Me => Shape {
            success: success(200, "The credential in use", one::<views::MeView>()),
            ..base("Access")
        },
        Endpoint::CreateUser => Shape {
            body: Body::Json("NewUserInput"),
            success: success(201, "The new user", one::<views::UserView>()),
            errors: &[(409, "EMAIL_TAKEN")],
            ..base("Access")
        },
        Endpoint::ListUsers => Shape {
            query: PAGE_ONLY,
            success: success(
                200,
                "A page of users, oldest first",
                Data::List(reference(&views::UserView::name())),
            ),
            ..base("Access")
        },
        Endpoint::CreateApiKey => Shape {
            body: Body::Json("NewApiKeyInput"),
            success: success(
                201,
                "The new key with its secret, shown this once",
                one::<views::NewApiKeyView>(),
            ),
            ..base("Access")
        },
        Endpoint::ListApiKeys => Shape {
            query: PAGE_ONLY,
            success: success(
                200,
                "A page of keys, newest first, revoked ones included",
                Data::List(reference(&views::ApiKeyView::name())),
            ),
            ..base("Access")
        },
        Endpoint::RevokeApiKey => Shape {
            success: success(204, "Revoked", Data::Nothing),
            ..base("Access")
        },
        Endpoint::Audit => Shape {
            query: AUDIT_LIST,
            success: success(
                200,
                "A page of the audit trail, newest first",
                Data::List(reference(&views::AuditEntryView::name())),
            ),
            ..base("Access")
        },
        Endpoint::Health => Shape {
            success: success(200, "The process answers", status_data("ok")),
            database: false,
            ..base("Service")
        },
        Endpoint::Ready => Shape {
            success: success(200, "The database answers", status_data("ready")),
            ..base("Service")
        },
        Endpoint::Metrics => Shape {
            success: success(
                200,
                "Prometheus text format 0.0.4",
                Data::Media(
                    &["text/plain"],
                    RefOr::T(schemas::text(false).build().into()),
                ),
            ),
            database: false,
            ..base("Service")
        },
        Endpoint::OpenApi => Shape {
            success: success(
                200,
                "This document",
                Data::Media(
                    &["application/json"],
                    RefOr::T(
                        ObjectBuilder::new()
                            .schema_type(SchemaType::new(Type::Object))
                            .required("openapi")
                            .required("paths")
                            .build()
                            .into(),
                    ),
                ),
            ),
            database: false,
            ..base("Service")
        },
        Endpoint::Docs => Shape {
            success: success(
                200,
                "The interactive API reference",
                Data::Media(
                    &["text/html"],
                    RefOr::T(schemas::text(false).build().into()),
                ),
            ),
            database: false,
            ..base("Service")
        },
        Endpoint::DocsAsset => Shape {
            success: success(
                200,
                "A file of the reference page",
                Data::Media(
                    &["text/css", "text/javascript", "image/png"],
                    RefOr::T(schemas::text(false).build().into()),
                ),
            ),
            errors: &[(404, "NOT_FOUND")],
            database: false,
            ..base("Service")
        },
    }
}

/// The roles whose staff tokens a row accepts.
pub fn roles(access: Access) -> Vec<&'static str> {
    let least = match access {
        Access::Public => return Vec::new(),
        Access::AnyCredential | Access::StaffOrKey(_) => Role::Staff,
        Access::Staff(role) => role,
    };
    Role::ALL
        .into_iter()
        .filter(|role| *role >= least)
        .map(Role::as_str)
        .collect()
}

/// The scopes an API key needs for a row; `None` when API keys are refused.
pub fn scopes(access: Access) -> Option<Vec<&'static str>> {
    match access {
        Access::Public | Access::Staff(_) => None,
        Access::AnyCredential => Some(Vec::new()),
        Access::StaffOrKey(scopes) => Some(scopes.iter().map(|s| s.as_str()).collect()),
    }
}

fn who(access: Access) -> String {
    match access {
        Access::Public => "Public: no credential needed.".to_owned(),
        Access::AnyCredential => "Any credential: a staff token of any role or an API key.".into(),
        Access::Staff(Role::Staff) => {
            "Staff token of any role; API keys are refused (403).".to_owned()
        }
        Access::Staff(role) => format!(
            "Staff token of role {} or above ({}); API keys are refused (403).",
            role.as_str(),
            roles(access).join(", ")
        ),
        Access::StaffOrKey(scopes) => format!(
            "Staff token of any role, or an API key holding {}: {}.",
            if scopes.len() == 1 {
                "the scope"
            } else {
                "every one of the scopes"
            },
            scopes
                .iter()
                .map(|s| format!("`{}`", s.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn security(access: Access) -> Vec<SecurityRequirement> {
    let staff = || SecurityRequirement::new(STAFF_TOKEN, Vec::<String>::new());
    match access {
        Access::Public => Vec::new(),
        Access::Staff(_) => vec![staff()],
        Access::AnyCredential | Access::StaffOrKey(_) => vec![
            staff(),
            SecurityRequirement::new(API_KEY, scopes(access).unwrap_or_default()),
        ],
    }
}

/// `createCustomer` for `CreateCustomer`.
fn operation_id(endpoint: Endpoint) -> String {
    let name = format!("{endpoint:?}");
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn http_method(verb: Verb) -> HttpMethod {
    match verb {
        Verb::Get => HttpMethod::Get,
        Verb::Post => HttpMethod::Post,
        Verb::Patch => HttpMethod::Patch,
        Verb::Delete => HttpMethod::Delete,
    }
}

/// Path parameters of an actix pattern: `{id}`, `{asset}`.
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// Every error an operation may answer, by status.
fn error_codes(route: &Route, shape: &Shape) -> BTreeMap<u16, Vec<&'static str>> {
    let mut codes: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    let mut add = |status: u16, code: &'static str| {
        let list = codes.entry(status).or_default();
        if !list.contains(&code) {
            list.push(code);
        }
    };
    if route.access != Access::Public {
        add(401, "UNAUTHORIZED");
        // The per-credential limits (`crate::limits`).
        add(429, "RATE_LIMITED");
        if route.access != Access::AnyCredential {
            add(403, "FORBIDDEN");
        }
    }
    if !path_parameters(route.path).is_empty() {
        add(404, "NOT_FOUND");
    }
    if !matches!(shape.body, Body::None) {
        add(400, "MALFORMED_JSON");
        add(413, "PAYLOAD_TOO_LARGE");
        add(415, "UNSUPPORTED_MEDIA_TYPE");
        add(422, "VALIDATION_FAILED");
    }
    if !shape.query.is_empty() {
        add(422, "VALIDATION_FAILED");
    }
    if shape.idempotent {
        add(409, "IDEMPOTENCY_IN_PROGRESS");
        add(422, "VALIDATION_FAILED");
        add(422, "IDEMPOTENCY_KEY_REUSED");
    }
    for (status, code) in shape.errors {
        add(*status, code);
    }
    if shape.database {
        add(503, "SERVICE_UNAVAILABLE");
    }
    codes
}

/// Every error code of the API with its status (docs/api.md §1).
pub const ERROR_CODES: &[(u16, &str)] = &[
    (400, "BAD_REQUEST"),
    (400, "MALFORMED_JSON"),
    (401, "UNAUTHORIZED"),
    (403, "FORBIDDEN"),
    (404, "NOT_FOUND"),
    (405, "METHOD_NOT_ALLOWED"),
    (409, "EMAIL_TAKEN"),
    (409, "PHONE_TAKEN"),
    (409, "REVIEW_EXISTS"),
    (409, "ORDER_EXISTS"),
    (409, "IDEMPOTENCY_IN_PROGRESS"),
    (413, "PAYLOAD_TOO_LARGE"),
    (415, "UNSUPPORTED_MEDIA_TYPE"),
    (422, "VALIDATION_FAILED"),
    (422, "INSUFFICIENT_POINTS"),
    (422, "CUSTOMER_BLOCKED"),
    (422, "TOTALS_OUT_OF_RANGE"),
    (422, "REVIEW_NOT_FEATURABLE"),
    (422, "IDEMPOTENCY_KEY_REUSED"),
    (429, "RATE_LIMITED"),
    (500, "INTERNAL_ERROR"),
    (503, "SERVICE_UNAVAILABLE"),
];

/// The error envelope with `code` limited to `codes`.
fn error_envelope(codes: &[&str]) -> Schema {
    let error = ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Object))
        .property("code", schemas::one_of(codes))
        .required("code")
        .property("message", schemas::text(false))
        .required("message")
        .property(
            "details",
            OneOfBuilder::new()
                .item(
                    ArrayBuilder::new()
                        .items(reference(&error::Detail::name()))
                        .description(Some("Validation errors: one entry per field.")),
                )
                .item(
                    ObjectBuilder::new()
                        .schema_type(SchemaType::new(Type::Object))
                        .property("id", schemas::text(false))
                        .required("id")
                        .description(Some(
                            "`ORDER_EXISTS`: the id of the order already recorded, and nothing \
                             else.",
                        )),
                ),
        )
        .property("requestId", schemas::text(false))
        .required("requestId");
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Object))
        .property(
            "success",
            schemas::boolean(false).enum_values(Some([false])),
        )
        .required("success")
        .property("error", error)
        .required("error")
        .build()
        .into()
}

fn success_envelope(data: RefOr<Schema>, paged: bool) -> Schema {
    let mut envelope = ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Object))
        .property("success", schemas::boolean(false).enum_values(Some([true])))
        .required("success")
        .property("data", data)
        .required("data");
    if paged {
        envelope = envelope
            .property("meta", reference(&envelope::Meta::name()))
            .required("meta");
    }
    envelope.build().into()
}

fn request_id_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(schemas::text(false)))
        .description(Some(
            "The request's id: the client's `X-Request-Id` echoed, or one made.",
        ))
        .build()
}

/// The operations that take the id a create answers: for `POST /customers`, every row under
/// `/customers/{id}`. Each becomes an OpenAPI link from the 201 response.
fn links(route: &Route) -> Vec<(String, utoipa::openapi::link::Link)> {
    if route.verb != Verb::Post || !path_parameters(route.path).is_empty() {
        return Vec::new();
    }
    let prefix = format!("{}/{{id}}", route.path);
    ROUTES
        .iter()
        .filter(|other| other.path == prefix || other.path.starts_with(&format!("{prefix}/")))
        .map(|other| {
            let id = operation_id(other.endpoint);
            let link = LinkBuilder::new()
                .operation_id(id.clone())
                .parameter("id", "$response.body#/data/id")
                .description(format!(
                    "The new resource's `id` as `id` of {}",
                    other.summary
                ))
                .build();
            (id[..1].to_ascii_uppercase() + &id[1..], link)
        })
        .collect()
}

fn response(
    description: impl Into<String>,
    media: &[&str],
    schema: Option<RefOr<Schema>>,
    status: u16,
) -> utoipa::openapi::response::Response {
    response_with_links(description, media, schema, status, Vec::new())
}

fn response_with_links(
    description: impl Into<String>,
    media: &[&str],
    schema: Option<RefOr<Schema>>,
    status: u16,
    links: Vec<(String, utoipa::openapi::link::Link)>,
) -> utoipa::openapi::response::Response {
    let mut builder = ResponseBuilder::new()
        .description(description)
        .header("X-Request-Id", request_id_header());
    for (name, link) in links {
        builder = builder.link(name, link);
    }
    if let Some(schema) = schema {
        for media_type in media {
            builder = builder.content(
                *media_type,
                ContentBuilder::new().schema(Some(schema.clone())).build(),
            );
        }
    }
    let header = |description: &str, schema: Object| {
        HeaderBuilder::new()
            .schema(Some(schema))
            .description(Some(description))
            .build()
    };
    match status {
        401 => {
            builder = builder.header(
                "WWW-Authenticate",
                header("`Bearer`", schemas::text(false).build()),
            )
        }
        429 | 503 => {
            builder = builder.header(
                "Retry-After",
                header(
                    "Seconds to wait before trying again",
                    schemas::integer(false).minimum(Some(0)).build(),
                ),
            )
        }
        _ => {}
    }
    if status == 429 || (200..300).contains(&status) {
        builder = builder
            .header(
                "RateLimit-Policy",
                header(
                    "On answers to a credential (when the service limits rates): the \
                     per-credential token bucket as `\"credential\";q=<burst>;w=<seconds to \
                     refill it>` (draft-ietf-httpapi-ratelimit-headers)",
                    schemas::text(false).build(),
                ),
            )
            .header(
                "RateLimit",
                header(
                    "On answers to a credential (when the service limits rates): \
                     `\"credential\";r=<requests left now>;t=<seconds until the bucket is \
                     full>`",
                    schemas::text(false).build(),
                ),
            );
    }
    builder.build()
}

fn operation(route: &Route) -> utoipa::openapi::path::Operation {
    let shape = shape(route.endpoint);
    let mut description = who(route.access);
    if shape.idempotent {
        description.push_str(
            " Takes an `Idempotency-Key`: a repeat of the same request answers the first \
             response (with `Idempotent-Replayed: true`) and writes nothing.",
        );
    }
    let mut extensions = ExtensionsBuilder::new()
        .add("x-roles", serde_json::json!(roles(route.access)))
        .add("x-scopes", serde_json::json!(scopes(route.access)));
    extensions = extensions.add(
        "x-access",
        serde_json::json!(match route.access {
            Access::Public => "public",
            Access::AnyCredential => "anyCredential",
            Access::Staff(_) => "staff",
            Access::StaffOrKey(_) => "staffOrApiKey",
        }),
    );
    let mut builder = OperationBuilder::new()
        .operation_id(Some(operation_id(route.endpoint)))
        .summary(Some(route.summary))
        .description(Some(description))
        .tag(shape.tag)
        .securities(Some(security(route.access)))
        .extensions(Some(extensions.build()));
    for name in path_parameters(route.path) {
        let schema = match name {
            "asset" => schemas::one_of(
                &crate::docs::ASSETS
                    .iter()
                    .map(|(asset, _)| *asset)
                    .collect::<Vec<_>>(),
            ),
            _ => schemas::text(false).min_length(Some(1)).build(),
        };
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(if name == "asset" {
                    "File name"
                } else {
                    "The resource's id; an id of another store, or malformed, is 404."
                }))
                .schema(Some(schema)),
        );
    }
    for query in shape.query {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(query.name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(query.description))
                .schema(Some((query.schema)())),
        );
    }
    if shape.idempotent {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(format!(
                    "1–{MAX_KEY_LEN} visible ASCII characters; kept {} hours per store and \
                     credential.",
                    KEY_LIFETIME.num_hours()
                )))
                .schema(Some(
                    schemas::text(false)
                        .min_length(Some(1))
                        .max_length(Some(MAX_KEY_LEN))
                        .pattern(Some(r"^[!-~]+$"))
                        .build(),
                )),
        );
    }
    match shape.body {
        Body::None => {}
        Body::Json(name) | Body::OptionalJson(name) => {
            let required = matches!(shape.body, Body::Json(_));
            builder = builder.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(reference(name))).build(),
                    )
                    .required(Some(if required {
                        Required::True
                    } else {
                        Required::False
                    }))
                    .description(Some(if required {
                        "A JSON object; unknown fields are refused (422)."
                    } else {
                        "Optional: no body at all, or a JSON object; unknown fields are refused (422)."
                    }))
                    .build(),
            ));
        }
    }
    let errors = error_codes(route, &shape);
    let mut responses = ResponsesBuilder::new();
    for (status, description, data) in shape.success.0 {
        let (media, schema): (&[&str], Option<RefOr<Schema>>) = match data {
            Data::One(schema) => (
                &["application/json"],
                Some(success_envelope(schema, false).into()),
            ),
            Data::List(row) => (
                &["application/json"],
                Some(
                    success_envelope(
                        RefOr::T(ArrayBuilder::new().items(row).build().into()),
                        true,
                    )
                    .into(),
                ),
            ),
            Data::Paged(data) => (
                &["application/json"],
                Some(success_envelope(data, true).into()),
            ),
            Data::Nothing => (&[], None),
            Data::Media(media, schema) => (media, Some(schema)),
        };
        let links = if status == 201 {
            links(route)
        } else {
            Vec::new()
        };
        responses = responses.response(
            status.to_string(),
            response_with_links(description, media, schema, status, links),
        );
    }
    for (status, codes) in errors {
        let description = codes
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        responses = responses.response(
            status.to_string(),
            response(
                description,
                &["application/json"],
                Some(error_envelope(&codes).into()),
                status,
            ),
        );
    }
    builder.responses(responses.build()).build()
}

fn register<T: ToSchema>(components: &mut BTreeMap<String, RefOr<Schema>>) {
    components.insert(T::name().into_owned(), T::schema());
    let mut nested = Vec::new();
    T::schemas(&mut nested);
    for (name, schema) in nested {
        components.entry(name).or_insert(schema);
    }
}

/// Response views serialise every field, `null` included: each property is required.
fn require_every_property(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::Object(object)) = schema {
        object.required = object.properties.keys().cloned().collect();
    }
}

fn component_schemas() -> BTreeMap<String, RefOr<Schema>> {
    let mut views = BTreeMap::new();
    register::<views::CustomerView>(&mut views);
    register::<views::CustomerSummaryView>(&mut views);
    register::<views::BlockView>(&mut views);
    register::<views::OrderView>(&mut views);
    register::<views::AnalyticsView>(&mut views);
    register::<views::ExportView>(&mut views);
    register::<views::AdjustView>(&mut views);
    register::<views::LoyaltyView>(&mut views);
    register::<views::ReviewView>(&mut views);
    register::<views::ReviewResponseView>(&mut views);
    register::<views::ReviewStatsView>(&mut views);
    register::<views::UserView>(&mut views);
    register::<views::ApiKeyView>(&mut views);
    register::<views::NewApiKeyView>(&mut views);
    register::<views::AuditEntryView>(&mut views);
    register::<views::ActorView>(&mut views);
    register::<session::LoginView>(&mut views);
    register::<envelope::Meta>(&mut views);
    register::<error::Detail>(&mut views);
    for schema in views.values_mut() {
        require_every_property(schema);
    }
    // `user` and `apiKey` are present only for their kind of credential.
    register::<views::MeView>(&mut views);
    register::<customers::ProfileBody>(&mut views);
    register::<customers::BlockBody>(&mut views);
    register::<orders::OrderBody>(&mut views);
    register::<orders::OrderItemBody>(&mut views);
    register::<loyalty::AdjustBody>(&mut views);
    register::<reviews::ReviewBody>(&mut views);
    register::<reviews::ModerationBody>(&mut views);
    register::<reviews::ResponseBody>(&mut views);
    register::<session::LoginBody>(&mut views);
    register::<users::NewUserBody>(&mut views);
    register::<users::NewApiKeyBody>(&mut views);
    views.insert(
        "Error".to_owned(),
        RefOr::T(error_envelope(
            &ERROR_CODES
                .iter()
                .map(|(_, code)| *code)
                .collect::<Vec<_>>(),
        )),
    );
    views
}

fn bearer(format: &str, description: &str) -> SecurityScheme {
    let mut http = Http::new(HttpAuthScheme::Bearer);
    http.bearer_format = Some(format.to_owned());
    http.description = Some(description.to_owned());
    SecurityScheme::Http(http)
}

/// The document, built from the access table.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        paths = paths.path(
            route.path,
            PathItem::new(http_method(route.verb), operation(route)),
        );
    }
    let mut components = ComponentsBuilder::new()
        .schemas_from_iter(component_schemas())
        .security_scheme(
            STAFF_TOKEN,
            bearer(
                "ord_live_sk_…",
                "A staff user's token: from `POST /auth/login`, the first start or `customers store create`. Its role is staff, manager, admin or owner.",
            ),
        )
        .security_scheme(
            API_KEY,
            bearer(
                "ord_live_ak_…",
                "A store's API key from `POST /api-keys`, with scopes `read:customers`, `read:orders`, `read:analytics`, `write:orders`.",
            ),
        );
    components = components.response(
        "Error",
        response(
            "An error",
            &["application/json"],
            Some(reference("Error")),
            0,
        ),
    );
    let tags = [
        (
            "Customers",
            "Customer profiles, blocking, history, analytics and export",
        ),
        ("Loyalty", "The loyalty points ledger"),
        ("Orders", "Orders recorded for customers"),
        ("Reviews", "Reviews, moderation and responses"),
        ("Access", "Sign-in, staff users and API keys"),
        ("Service", "Health, metrics and this documentation"),
    ];
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Ordeliya Customers")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Customer profiles, loyalty points, reviews and purchase analytics of a restaurant. \
                     JSON in and out: `{\"success\": true, \"data\": …}` on success (lists add `meta`), \
                     `{\"success\": false, \"error\": {code, message, details?, requestId}}` on failure. \
                     Every credential belongs to one store and sees only that store's data.",
                ))
                .license(Some(LicenseBuilder::new().name("MIT").build())),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .tags(Some(
            tags.map(|(name, description)| {
                TagBuilder::new()
                    .name(name)
                    .description(Some(description))
                    .build()
            }),
        ))
        .build()
}

/// The document as JSON, made once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        serde_json::to_string(&document()).expect("the OpenAPI document serialises")
    })
}

/// `GET /openapi.json`.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .body(json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(json()).expect("the document is JSON")
    }

    #[test]
    fn is_openapi_3_1() {
        let doc = doc();
        let version = doc["openapi"].as_str().unwrap();
        assert!(version.starts_with("3.1."), "{version}");
        assert_eq!(doc["info"]["title"], "Ordeliya Customers");
    }

    #[test]
    fn every_route_of_the_table_is_an_operation() {
        let doc = doc();
        for route in ROUTES {
            let operation = &doc["paths"][route.path][route.verb.as_str().to_lowercase()];
            assert!(
                operation.is_object(),
                "{} {} is missing",
                route.verb.as_str(),
                route.path
            );
            assert_eq!(operation["summary"], route.summary);
            assert_eq!(operation["operationId"], operation_id(route.endpoint));
            assert_eq!(operation["x-roles"], serde_json::json!(roles(route.access)));
            assert_eq!(
                operation["x-scopes"],
                serde_json::json!(scopes(route.access))
            );
            let success = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|status| status.starts_with('2'));
            assert!(
                success,
                "{} {} has a success",
                route.verb.as_str(),
                route.path
            );
        }
        let operations: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(operations, ROUTES.len(), "no operation outside the table");
    }

    #[test]
    fn security_and_roles_follow_the_access_table() {
        let doc = doc();
        let op = |method: &str, path: &str| doc["paths"][path][method].clone();
        let create = op("post", "/customers");
        assert_eq!(create["security"], serde_json::json!([{ STAFF_TOKEN: [] }]));
        assert_eq!(
            create["x-roles"],
            serde_json::json!(["staff", "manager", "admin", "owner"])
        );
        assert_eq!(create["x-scopes"], Value::Null);
        let delete = op("delete", "/customers/{id}");
        assert_eq!(delete["x-roles"], serde_json::json!(["admin", "owner"]));
        let orders = op("get", "/customers/{id}/orders");
        assert_eq!(
            orders["security"],
            serde_json::json!([{ STAFF_TOKEN: [] }, { API_KEY: ["read:customers", "read:orders"] }])
        );
        assert_eq!(
            orders["x-scopes"],
            serde_json::json!(["read:customers", "read:orders"])
        );
        let login = op("post", "/auth/login");
        assert_eq!(
            login["security"],
            serde_json::json!([]),
            "public: no credential"
        );
        assert!(login["responses"]["429"].is_object());
        let schemes = &doc["components"]["securitySchemes"];
        for name in [STAFF_TOKEN, API_KEY] {
            assert_eq!(schemes[name]["type"], "http");
            assert_eq!(schemes[name]["scheme"], "bearer");
        }
    }

    #[test]
    fn errors_use_the_envelope_with_their_codes() {
        let doc = doc();
        let adjust = &doc["paths"]["/customers/{id}/loyalty/adjust"]["post"];
        let codes = |status: &str| {
            adjust["responses"][status]["content"]["application/json"]["schema"]["properties"]
                ["error"]["properties"]["code"]["enum"]
                .clone()
        };
        assert_eq!(codes("401"), serde_json::json!(["UNAUTHORIZED"]));
        assert_eq!(codes("404"), serde_json::json!(["NOT_FOUND"]));
        assert_eq!(
            codes("422"),
            serde_json::json!([
                "VALIDATION_FAILED",
                "IDEMPOTENCY_KEY_REUSED",
                "INSUFFICIENT_POINTS",
                "TOTALS_OUT_OF_RANGE"
            ])
        );
        assert_eq!(codes("409"), serde_json::json!(["IDEMPOTENCY_IN_PROGRESS"]));
        let record = &doc["paths"]["/orders"]["post"];
        let record_codes = |status: &str| {
            record["responses"][status]["content"]["application/json"]["schema"]["properties"]
                ["error"]["properties"]["code"]["enum"]
                .clone()
        };
        assert_eq!(
            record_codes("409"),
            serde_json::json!(["IDEMPOTENCY_IN_PROGRESS", "ORDER_EXISTS"])
        );
        // `details` is field errors or, for ORDER_EXISTS, the id alone.
        let details = &record["responses"]["409"]["content"]["application/json"]["schema"]["properties"]
            ["error"]["properties"]["details"]["oneOf"];
        assert_eq!(details[1]["required"], serde_json::json!(["id"]));
        let all = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
            ["code"]["enum"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(all, ERROR_CODES.len());
    }

    #[test]
    fn bodies_refuse_unknown_fields_and_views_list_every_field() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        for body in [
            "ProfileInput",
            "OrderInput",
            "OrderItemInput",
            "ReviewInput",
            "AdjustInput",
            "LoginInput",
        ] {
            assert_eq!(
                schemas[body]["additionalProperties"], false,
                "{body} refuses unknown fields"
            );
        }
        let customer = &schemas["CustomerView"];
        assert_eq!(
            customer["required"].as_array().unwrap().len(),
            customer["properties"].as_object().unwrap().len()
        );
        assert_eq!(
            schemas["ReviewInput"]["required"],
            serde_json::json!(["orderId", "rating"])
        );
    }

    #[test]
    fn creates_link_to_the_operations_on_what_they_create() {
        let doc = doc();
        let links = |method: &str, path: &str| {
            let mut names: Vec<String> = doc["paths"][path][method]["responses"]["201"]["links"]
                .as_object()
                .map(|links| links.keys().cloned().collect())
                .unwrap_or_default();
            names.sort();
            names
        };
        assert_eq!(
            links("post", "/orders"),
            ["CancelOrder", "GetOrder"].map(String::from)
        );
        let reviews = links("post", "/reviews");
        assert!(reviews.contains(&"RespondToReview".to_owned()));
        assert!(!reviews.contains(&"ReviewStats".to_owned()));
        assert_eq!(links("post", "/customers").len(), 10);
        let link = &doc["paths"]["/api-keys"]["post"]["responses"]["201"]["links"]["RevokeApiKey"];
        assert_eq!(link["operationId"], "revokeApiKey");
        assert_eq!(link["parameters"]["id"], "$response.body#/data/id");
    }

    #[test]
    fn path_parameters_are_read_from_the_pattern() {
        assert_eq!(path_parameters("/customers/{id}/loyalty"), ["id"]);
        assert!(path_parameters("/customers").is_empty());
        assert_eq!(operation_id(Endpoint::CreateCustomer), "createCustomer");
    }
}
