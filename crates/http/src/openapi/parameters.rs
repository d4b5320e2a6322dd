//! The parameters of an operation: the path's from the row's pattern, the query's from the
//! row's `query` (the very list [`QueryParams`](crate::query::QueryParams) accepts), and
//! `Idempotency-Key` when the row is `idempotent`. Also the schemas of the query parameters
//! that are text.

use customers_domain::customer::{CustomerSort, MAX_SEARCH_LEN};
use customers_domain::idempotency::{KEY_LIFETIME, MAX_KEY_LEN};
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, Object, SchemaFormat};

use super::{patterns, schemas};
use crate::query::{Kind, Param};

/// Path parameters of an actix pattern: `{id}`, `{asset}`.
pub(super) fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// A path parameter: a file of the reference page, or a resource's id.
pub(super) fn path(name: &str) -> Parameter {
    let (schema, description) = match name {
        "asset" => (
            schemas::one_of(
                &crate::docs::ASSETS
                    .iter()
                    .map(|(asset, _)| *asset)
                    .collect::<Vec<_>>(),
            ),
            "File name",
        ),
        _ => (
            schemas::text(false).min_length(Some(1)).build(),
            "The resource's id; an id of another store, or malformed, is 404.",
        ),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// A query parameter, as its row's spec has it.
pub(super) fn query(param: &Param) -> Parameter {
    let schema = match param.kind {
        Kind::Integer { min, max, default } => schemas::integer(false)
            .minimum(Some(min))
            .maximum(Some(max))
            .default(default.map(Into::into))
            .build(),
        Kind::Boolean => schemas::boolean(false).build(),
        Kind::Text { schema } => schema(),
    };
    ParameterBuilder::new()
        .name(param.name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(param.description))
        .schema(Some(schema))
        .build()
}

/// `Idempotency-Key`, as `customers_domain::idempotency::parse_key` takes it.
pub(super) fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(format!(
            "1–{MAX_KEY_LEN} visible ASCII characters; kept {} hours per store and credential.",
            KEY_LIFETIME.num_hours()
        )))
        .schema(Some(
            schemas::text(false)
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_LEN))
                .pattern(Some(r"^[!-~]+$"))
                .build(),
        ))
        .build()
}

/// `sortBy` of the customer list.
pub fn sort_by() -> Object {
    let mut object = schemas::one_of(&CustomerSort::ALL.map(CustomerSort::api_name));
    object.default = Some(CustomerSort::default().api_name().into());
    object
}

/// `sortDir` of the customer list.
pub fn sort_direction() -> Object {
    let mut object = schemas::one_of(&["asc", "desc"]);
    object.default = Some("desc".into());
    object
}

/// `lastOrderPeriod` of the customer list.
pub fn last_order_period() -> Object {
    schemas::one_of(&["today", "7d", "30d", "90d"])
}

/// `q` of the customer list: at most `MAX_SEARCH_LEN` characters once trimmed; no U+0000.
pub fn search() -> Object {
    schemas::text(false)
        .pattern(Some(patterns::trimmed(
            MAX_SEARCH_LEN,
            false,
            r"\u0000",
            patterns::WHITE_SPACE,
        )))
        .build()
}

/// `after` or `before`: a cursor the list gave (URL-safe base64), or empty for either end.
pub fn cursor() -> Object {
    schemas::text(false)
        .pattern(Some(format!(
            "^[A-Za-z0-9_-]{{0,{}}}$",
            customers_domain::keyset::MAX_CURSOR_LEN
        )))
        .build()
}

/// `total`: how a list counts its matches.
pub fn total() -> Object {
    schemas::one_of(&["exact", "bounded", "none"])
}

/// A whole day, `YYYY-MM-DD`.
pub fn day() -> Object {
    schemas::text(false)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(patterns::DATE))
        .build()
}

/// A user id or an API key id.
pub fn actor() -> Object {
    schemas::text(false)
        .pattern(Some(schemas::actor_pattern()))
        .build()
}
