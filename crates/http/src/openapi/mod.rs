//! The OpenAPI 3.1 document of the API, served at `GET /openapi.json`.
//!
//! Everything in it is read from what the service runs:
//! - `operations`: one operation per row of the access table ([`ROUTES`]): its summary, its
//!   security requirement and the roles and scopes it needs (`x-roles`, `x-scopes`) from the
//!   row's `access`; its query parameters and `Idempotency-Key` from the row's `query` and
//!   `idempotent` ([`parameters`]), which the query parser and the handler dispatch read too.
//! - `shapes`: what an endpoint takes and answers beyond its row (its body type, successes,
//!   error codes of its own), one `match` arm per endpoint.
//! - `responses`: the envelopes, the error codes each operation may answer, the headers.
//! - [`schemas`]: the schemas of single fields, with the domain's rules and constants. The
//!   body and view schemas are derived from the types themselves.
//!
//! This module assembles them: paths, components, security schemes, tags.

mod operations;
pub mod parameters;
mod patterns;
mod responses;
pub mod schemas;
mod shapes;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use utoipa::ToSchema;
use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::path::{PathItem, PathsBuilder};
use utoipa::openapi::schema::{ComponentsBuilder, Schema};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{OpenApi, OpenApiBuilder, RefOr};

pub use operations::{roles, scopes};
pub use responses::ERROR_CODES;

use crate::routes::ROUTES;
use crate::{envelope, error, session, views};

/// Security scheme of staff tokens (`ord_live_sk_…`).
pub const STAFF_TOKEN: &str = "staffToken";
/// Security scheme of API keys (`ord_live_ak_…`).
pub const API_KEY: &str = "apiKey";

/// Adds `T`'s schema and those it refers to.
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
    // `total` and `totalRelation` are absent with `total=none`.
    register::<envelope::CursorMeta>(&mut views);
    // The request bodies: those the endpoints take, and their parts.
    let bodies = ROUTES
        .iter()
        .filter_map(|route| shapes::shape(route.endpoint).body.of())
        .chain(shapes::nested_bodies());
    for body in bodies {
        (body.register)(&mut views);
    }
    views.insert(
        "Error".to_owned(),
        RefOr::T(responses::error_envelope(
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
            PathItem::new(
                operations::http_method(route.verb),
                operations::operation(route),
            ),
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
        responses::response(
            "An error",
            &["application/json"],
            Some(shapes::reference("Error")),
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
