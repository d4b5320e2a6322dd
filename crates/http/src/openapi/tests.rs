//! The document against the access table, the body types and the domain's rules.

use std::collections::BTreeSet;

use serde_json::Value;

use super::operations::operation_id;
use super::parameters::path_parameters;
use super::*;
use crate::routes::Endpoint;

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
        adjust["responses"][status]["content"]["application/json"]["schema"]["properties"]["error"]
            ["properties"]["code"]["enum"]
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
        record["responses"][status]["content"]["application/json"]["schema"]["properties"]["error"]
            ["properties"]["code"]["enum"]
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
    let all =
        doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
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

/// Every request body type (those the endpoints take, and their parts) accepts exactly the
/// properties its schema documents, and its schema refuses any other.
#[test]
fn every_body_accepts_exactly_the_properties_of_its_schema() {
    let doc = doc();
    let bodies: Vec<_> = ROUTES
        .iter()
        .filter_map(|route| shapes::shape(route.endpoint).body.of())
        .chain(shapes::nested_bodies())
        .collect();
    assert!(bodies.len() > ROUTES.len() / 4, "the bodies are found");
    for body in bodies {
        let name = (body.name)();
        let schema = &doc["components"]["schemas"][name.as_ref()];
        let documented: BTreeSet<&str> = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has properties"))
            .keys()
            .map(String::as_str)
            .collect();
        let accepted: BTreeSet<&str> = (body.fields)().iter().copied().collect();
        assert!(!accepted.is_empty(), "{name} is a struct");
        assert_eq!(accepted.len(), (body.fields)().len(), "{name}");
        assert_eq!(
            accepted, documented,
            "{name}: accepted and documented fields"
        );
        assert_eq!(schema["additionalProperties"], false, "{name}");
    }
}

/// Walks a JSON value, calling `visit` with every `$ref`.
fn references<'a>(value: &'a Value, visit: &mut impl FnMut(&'a str)) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => visit(target),
                    _ => references(value, visit),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, visit)),
        _ => {}
    }
}

#[test]
fn every_reference_leads_to_a_component() {
    let doc = doc();
    let mut count = 0;
    references(&doc, &mut |target| {
        count += 1;
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{target} is local"));
        assert!(doc.pointer(pointer).is_some(), "{target} leads nowhere");
    });
    assert!(count > ROUTES.len(), "{count} references");
}

/// The `Idempotency-Key` header and its errors are documented exactly on the rows marked
/// idempotent, and the query parameters are each row's own, in its order.
#[test]
fn parameters_follow_the_row() {
    let doc = doc();
    let mut idempotent = 0;
    for route in ROUTES {
        let operation = &doc["paths"][route.path][route.verb.as_str().to_lowercase()];
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let named = |place: &str| -> Vec<String> {
            parameters
                .iter()
                .filter(|p| p["in"] == place)
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let name = format!("{} {}", route.verb.as_str(), route.path);
        let header = named("header") == ["Idempotency-Key"];
        assert_eq!(header, route.idempotent, "{name}");
        let in_progress = operation["responses"]["409"]["content"]["application/json"]["schema"]
            ["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .is_some_and(|codes| codes.contains(&Value::from("IDEMPOTENCY_IN_PROGRESS")));
        assert_eq!(in_progress, route.idempotent, "{name}");
        idempotent += usize::from(route.idempotent);
        let query: Vec<&str> = route.query.iter().map(|p| p.name).collect();
        assert_eq!(named("query"), query, "{name}");
    }
    assert_eq!(
        idempotent, 2,
        "docs/api.md §4, Idempotency: adjust and record order"
    );
}

/// Query integers carry the domain's bounds: what the use cases check.
#[test]
fn query_bounds_are_the_domains() {
    let doc = doc();
    let parameter = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} {name}"))["schema"]
            .clone()
    };
    let limit = parameter("/audit", "limit");
    assert_eq!(limit["maximum"], customers_domain::page::MAX_LIMIT);
    assert_eq!(limit["default"], customers_domain::page::DEFAULT_LIMIT);
    let page = parameter("/users", "page");
    assert_eq!(page["maximum"], customers_domain::page::MAX_PAGE);
    let rating = parameter("/reviews", "minRating");
    assert_eq!(rating["minimum"], customers_domain::review::Rating::MIN);
    assert_eq!(rating["maximum"], customers_domain::review::Rating::MAX);
    assert_eq!(parameter("/customers", "isBlocked")["type"], "boolean");
}
