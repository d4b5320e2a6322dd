//! The answers of an operation: the success and error envelopes, the error codes each
//! operation may answer, and the headers that come with them.

use std::collections::BTreeMap;

use customers_domain::access::Access;
use utoipa::ToSchema;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::link::Link;
use utoipa::openapi::response::{Response, ResponseBuilder, Responses, ResponsesBuilder};
use utoipa::openapi::schema::{
    ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{ContentBuilder, RefOr};

use super::shapes::{Data, Shape, reference};
use super::{parameters, schemas};
use crate::routes::Route;
use crate::{envelope, error};

/// The responses of `route`: its successes (a 201 with `links`), then its errors by status.
pub(super) fn responses(route: &Route, shape: Shape, links: Vec<(String, Link)>) -> Responses {
    let errors = error_codes(route, &shape);
    let mut links = Some(links);
    let mut responses = ResponsesBuilder::new();
    for (status, description, data) in shape.success.0 {
        let (media, schema): (&[&str], Option<RefOr<Schema>>) = match data {
            Data::One(schema) => (
                &["application/json"],
                Some(success_envelope(schema, Paging::None).into()),
            ),
            Data::List(row) => (
                &["application/json"],
                Some(
                    success_envelope(
                        RefOr::T(ArrayBuilder::new().items(row).build().into()),
                        Paging::Numbered,
                    )
                    .into(),
                ),
            ),
            Data::Walked(row) => (
                &["application/json"],
                Some(
                    success_envelope(
                        RefOr::T(ArrayBuilder::new().items(row).build().into()),
                        Paging::NumberedOrCursor,
                    )
                    .into(),
                ),
            ),
            Data::Paged(data) => (
                &["application/json"],
                Some(success_envelope(data, Paging::Numbered).into()),
            ),
            Data::Nothing => (&[], None),
            Data::Media(media, schema) => (media, Some(schema)),
        };
        let links = match status {
            201 => links.take().unwrap_or_default(),
            _ => Vec::new(),
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
    responses.build()
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
    if !parameters::path_parameters(route.path).is_empty() {
        add(404, "NOT_FOUND");
    }
    if shape.body.of().is_some() {
        add(400, "MALFORMED_JSON");
        add(413, "PAYLOAD_TOO_LARGE");
        add(415, "UNSUPPORTED_MEDIA_TYPE");
        add(422, "VALIDATION_FAILED");
    }
    if !route.query.is_empty() {
        add(422, "VALIDATION_FAILED");
    }
    if route.idempotent {
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
pub(super) fn error_envelope(codes: &[&str]) -> Schema {
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

/// What a success's `meta` holds.
enum Paging {
    /// No `meta`.
    None,
    /// [`envelope::Meta`].
    Numbered,
    /// [`envelope::Meta`] or [`envelope::CursorMeta`].
    NumberedOrCursor,
}

fn success_envelope(data: RefOr<Schema>, paging: Paging) -> Schema {
    let envelope = ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Object))
        .property("success", schemas::boolean(false).enum_values(Some([true])))
        .required("success")
        .property("data", data)
        .required("data");
    let meta: RefOr<Schema> = match paging {
        Paging::None => return envelope.build().into(),
        Paging::Numbered => reference(&envelope::Meta::name()),
        Paging::NumberedOrCursor => RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(reference(&envelope::Meta::name()))
                .item(reference(&envelope::CursorMeta::name()))
                .build(),
        )),
    };
    envelope
        .property("meta", meta)
        .required("meta")
        .build()
        .into()
}

fn request_id_header() -> Header {
    HeaderBuilder::new()
        .schema(Some(schemas::text(false)))
        .description(Some(
            "The request's id: the client's `X-Request-Id` echoed, or one made.",
        ))
        .build()
}

pub(super) fn response(
    description: impl Into<String>,
    media: &[&str],
    schema: Option<RefOr<Schema>>,
    status: u16,
) -> Response {
    response_with_links(description, media, schema, status, Vec::new())
}

fn response_with_links(
    description: impl Into<String>,
    media: &[&str],
    schema: Option<RefOr<Schema>>,
    status: u16,
    links: Vec<(String, Link)>,
) -> Response {
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
