//! Property fuzzing of request decoding: arbitrary bytes, JSON and query strings never panic
//! and are either accepted or refused with a 4xx in the contract's terms.
//!
//! `cargo test` runs a few hundred cases per property; `.ci/fuzz` runs them with
//! `PROPTEST_CASES=100000` in release mode.

use customers_domain::customer::Profile;
use customers_http::body::{Body, JsonObject, parse_object};
use customers_http::error::ApiError;
use customers_http::query::QueryParams;
use customers_http::{customers, loyalty, orders, reviews, session, users};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// A refusal the contract allows for a body or a query.
fn is_client_error(error: &ApiError) -> bool {
    error.status.is_client_error()
        && matches!(
            error.code,
            "MALFORMED_JSON" | "VALIDATION_FAILED" | "PAYLOAD_TOO_LARGE"
        )
}

/// JSON values, nested a few levels, with keys the bodies know and keys they do not.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        3 => prop::sample::select([Profile::PLAIN_FIELDS, &[
            "acceptsMarketing", "locale", "defaultAddressLine", "defaultZipcode", "defaultCity",
            "allergens", "reason", "delta", "customerId", "externalId", "placedAt", "items",
            "totalMinor", "productId", "productName", "categoryId", "categoryName", "quantity",
            "unitPriceMinor", "orderId", "rating", "foodRating", "deliveryRating",
            "packagingRating", "comment", "isApproved", "isPublic", "isFeatured",
            "responseText", "storeId", "password", "role", "name", "scopes",
        ]].concat())
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        "[A-Z]{3,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    json().prop_map(|value| match value {
        Value::Object(map) => map,
        other => Map::from_iter([("firstName".to_owned(), other)]),
    })
}

fn decodes<T: Body>(map: &Map<String, Value>) -> Result<(), TestCaseError> {
    if let Err(error) = JsonObject(map.clone()).decode::<T>() {
        prop_assert!(is_client_error(&error), "{} {}", error.code, error.message);
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_bytes_are_an_object_or_malformed(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(error) = parse_object(&bytes) {
            prop_assert!(is_client_error(&error), "{} {}", error.code, error.message);
        }
    }

    /// The strict reader reads what serde_json's own reader reads (a `Value` cannot hold a
    /// key twice), floats included.
    #[test]
    fn json_text_is_read_as_serde_json_reads_it_or_refused(value in json()) {
        let text = value.to_string();
        let plain: Value = serde_json::from_str(&text).unwrap();
        match parse_object(text.as_bytes()) {
            Ok(map) => prop_assert_eq!(Value::Object(map), plain),
            Err(error) => prop_assert!(is_client_error(&error), "{} {}", error.code, error.message),
        }
    }

    #[test]
    fn every_body_decodes_or_is_refused(map in object()) {
        decodes::<customers::ProfileBody>(&map)?;
        decodes::<customers::BlockBody>(&map)?;
        decodes::<loyalty::AdjustBody>(&map)?;
        decodes::<orders::OrderBody>(&map)?;
        decodes::<reviews::ReviewBody>(&map)?;
        decodes::<reviews::ModerationBody>(&map)?;
        decodes::<reviews::ResponseBody>(&map)?;
        decodes::<session::LoginBody>(&map)?;
        decodes::<users::NewUserBody>(&map)?;
        decodes::<users::NewApiKeyBody>(&map)?;
    }

    #[test]
    fn any_query_string_is_read_or_refused(query in prop_oneof![
        any::<String>(),
        "([a-zA-Z%0-9]{0,8}=[a-zA-Z%0-9+&=;]{0,12}&?){0,6}",
    ]) {
        match QueryParams::parse(&query, customers::LIST_QUERY) {
            Ok(params) => {
                if let Err(error) = customers::list_params(params) {
                    prop_assert!(is_client_error(&error), "{}", error.code);
                }
            }
            Err(error) => prop_assert!(is_client_error(&error), "{}", error.code),
        }
    }
}
