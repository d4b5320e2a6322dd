//! One text policy for every stored string: control characters, zero-width and other
//! invisible characters, bidirectional overrides and isolates, and tag characters are refused
//! in every text the service keeps, with 422 naming the field and nothing written.

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(
    hidden_characters_are_refused_in_every_stored_text,
    joiners_are_prose_not_identifiers,
);

/// Characters that show nothing or disguise the text around them.
const HIDDEN: [(&str, &str); 6] = [
    ("a zero-width space", "\u{200B}"),
    ("a word joiner", "\u{2060}"),
    ("a byte-order mark", "\u{FEFF}"),
    ("a right-to-left override", "\u{202E}"),
    ("a left-to-right isolate", "\u{2066}"),
    ("tag characters", "\u{E0041}\u{E007F}"),
];

/// Inserts `hidden` into the middle of `text`.
fn with(text: &str, hidden: &str) -> String {
    let middle = text.len() / 2;
    let middle = (0..=middle)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}{hidden}{}", &text[..middle], &text[middle..])
}

/// Sets `pointer` (a JSON pointer) of `body` to `value`.
fn set(mut body: Value, pointer: &str, value: &str) -> Value {
    *body.pointer_mut(pointer).expect("the field is in the body") = Value::String(value.into());
    body
}

/// Totals of every list a refused write could have grown, and the customer it could have changed.
async fn snapshot(s: &TestServer, customer: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/customers?limit=100",
        "/users?limit=100",
        "/api-keys?limit=100",
        "/reviews?limit=100",
        "/audit?limit=100",
    ] {
        let reply = s.get(path, &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        seen.push(reply.body["meta"]["total"].clone());
    }
    let loyalty = s
        .get(&format!("/customers/{customer}/loyalty"), &s.owner_token)
        .await;
    seen.push(loyalty.body["meta"]["total"].clone());
    seen.push(
        s.get(&format!("/customers/{customer}"), &s.owner_token)
            .await
            .data()
            .clone(),
    );
    seen
}

async fn hidden_characters_are_refused_in_every_stored_text(s: TestServer) {
    let customer = s
        .customer(json!({"firstName": "Maria", "email": "maria@example.dk"}))
        .await;
    let order = s
        .order(json!({
            "customerId": customer,
            "items": [{"productId": "p1", "productName": "Pizza", "quantity": 1, "unitPriceMinor": 9900}]
        }))
        .await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let review = s
        .post(
            "/reviews",
            &s.owner_token,
            json!({"orderId": order_id, "rating": 5, "comment": "Lovely"}),
        )
        .await;
    assert_eq!(review.status, StatusCode::CREATED, "{:?}", review.body);
    let review_id = review.data()["id"].as_str().unwrap().to_owned();
    let second_order = s
        .order(json!({
            "items": [{"productId": "p2", "productName": "Pasta", "quantity": 1, "unitPriceMinor": 100}]
        }))
        .await;

    // (method, path, a valid body, the pointer of the text field, its API name, valid text)
    let cases: Vec<(Method, String, Value, &str, &str)> = vec![
        (
            Method::POST,
            "/customers".into(),
            json!({"firstName": "Karoline"}),
            "/firstName",
            "firstName",
        ),
        (
            Method::POST,
            "/customers".into(),
            json!({"lastName": "Jensen"}),
            "/lastName",
            "lastName",
        ),
        (
            Method::POST,
            "/customers".into(),
            json!({"email": "karo@example.dk"}),
            "/email",
            "email",
        ),
        (
            Method::POST,
            "/customers".into(),
            json!({"adminNotes": "window table"}),
            "/adminNotes",
            "adminNotes",
        ),
        (
            Method::POST,
            "/customers".into(),
            json!({"defaultAddressLine": "Main Street 1"}),
            "/defaultAddressLine",
            "defaultAddressLine",
        ),
        (
            Method::POST,
            "/customers".into(),
            json!({"defaultCity": "Aarhus"}),
            "/defaultCity",
            "defaultCity",
        ),
        (
            Method::POST,
            "/customers".into(),
            json!({"defaultZipcode": "8000 C"}),
            "/defaultZipcode",
            "defaultZipcode",
        ),
        (
            Method::PATCH,
            format!("/customers/{customer}"),
            json!({"lastName": "Hansen"}),
            "/lastName",
            "lastName",
        ),
        (
            Method::POST,
            format!("/customers/{customer}/block"),
            json!({"reason": "no-show twice"}),
            "/reason",
            "reason",
        ),
        (
            Method::POST,
            format!("/customers/{customer}/loyalty/adjust"),
            json!({"delta": 5, "reason": "birthday"}),
            "/reason",
            "reason",
        ),
        (
            Method::POST,
            "/orders".into(),
            json!({"items": [{"productId": "p9", "productName": "Lasagne", "quantity": 1, "unitPriceMinor": 100}]}),
            "/items/0/productName",
            "items[0].productName",
        ),
        (
            Method::POST,
            "/reviews".into(),
            json!({"orderId": second_order["id"], "rating": 4, "comment": "Tasty food"}),
            "/comment",
            "comment",
        ),
        (
            Method::POST,
            format!("/reviews/{review_id}/response"),
            json!({"responseText": "Thank you"}),
            "/responseText",
            "responseText",
        ),
        (
            Method::POST,
            "/users".into(),
            json!({"email": "chef@example.dk", "password": "a long enough password", "role": "staff"}),
            "/email",
            "email",
        ),
        (
            Method::POST,
            "/users".into(),
            json!({"email": "cook@example.dk", "password": "a long enough password", "role": "staff", "name": "Chef Anna"}),
            "/name",
            "name",
        ),
        (
            Method::POST,
            "/api-keys".into(),
            json!({"name": "Till one", "scopes": ["read:orders"]}),
            "/name",
            "name",
        ),
    ];

    let before = snapshot(&s, &customer).await;
    for (method, path, body, pointer, field) in &cases {
        let valid = body.pointer(pointer).unwrap().as_str().unwrap().to_owned();
        // The valid body itself is accepted shape-wise: no unknown field hides the check.
        let probe = set(body.clone(), pointer, &format!("{valid}\u{7}"));
        let reply = s
            .send(method.clone(), path, Some(&s.owner_token), Some(&probe))
            .await;
        assert_eq!(reply.body["error"]["details"][0]["field"], *field, "{path}");
        assert_ne!(
            reply.body["error"]["details"][0]["message"], "is not a known field",
            "{field} of {method} {path}: the field itself refused a control character"
        );
        for (what, hidden) in HIDDEN {
            let bad = set(body.clone(), pointer, &with(&valid, hidden));
            let reply = s
                .send(method.clone(), path, Some(&s.owner_token), Some(&bad))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what} in {field} of {method} {path}: {:?}",
                reply.body
            );
            assert_eq!(reply.code(), "VALIDATION_FAILED");
            let fields: Vec<&str> = reply.body["error"]["details"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["field"].as_str().unwrap())
                .collect();
            assert_eq!(fields, [*field], "{what} in {field} of {method} {path}");
        }
    }
    assert_eq!(snapshot(&s, &customer).await, before, "nothing was written");
}

/// Zero-width joiners and non-joiners belong to some scripts and to emoji sequences, and
/// direction marks to mixed-direction text: names keep them. An email address may not hold
/// them: two addresses that look the same must be the same.
async fn joiners_are_prose_not_identifiers(s: TestServer) {
    let family = "Familie \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
    let persian = "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0645}";
    let created = s
        .post(
            "/customers",
            &s.owner_token,
            json!({"firstName": persian, "lastName": family}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.data()["firstName"], persian);
    assert_eq!(created.data()["lastName"], family);
    for email in [
        "ma\u{200D}ria@example.dk",
        "maria\u{200E}@example.dk",
        "maria@exa\u{200C}mple.dk",
    ] {
        for (path, body) in [
            ("/customers", json!({"email": email})),
            (
                "/users",
                json!({"email": email, "password": "a long enough password", "role": "staff"}),
            ),
        ] {
            let reply = s.post(path, &s.owner_token, body).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{email:?} at {path}"
            );
            assert_eq!(reply.body["error"]["details"][0]["field"], "email");
        }
    }
}
