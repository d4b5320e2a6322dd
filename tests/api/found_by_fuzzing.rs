//! Bugs schemathesis (or probing in its spirit) found, each kept as a test on both databases.

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};

on_both_databases!(nul_characters_are_refused_before_the_database);

/// PostgreSQL cannot hold U+0000 in text: a login or a search carrying one used to end in
/// 500 there. Every string of a body or query is now checked first.
async fn nul_characters_are_refused_before_the_database(s: TestServer) {
    for body in [
        json!({"storeId": s.store_id, "email": "a\u{0}@example.dk", "password": "whatever it is"}),
        json!({"storeId": "store_aaaa\u{0}aaaaaaaa", "email": "a@example.dk", "password": "x"}),
        json!({"storeId": s.store_id, "email": "a@example.dk", "password": "pass\u{0}word"}),
    ] {
        let reply = s.send(Method::POST, "/auth/login", None, Some(&body)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:?}",
            reply.body
        );
        assert_eq!(reply.code(), "VALIDATION_FAILED");
    }
    let search = s.get("/customers?q=a%00b", &s.owner_token).await;
    assert_eq!(search.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(search.fields(), ["q"]);
    let order = s
        .post(
            "/orders",
            &s.owner_token,
            json!({"items": [{"productId": "p", "productName": "Pizza", "quantity": 1,
                "unitPriceMinor": 100, "categoryName": "x\u{0}"}]}),
        )
        .await;
    assert_eq!(order.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(order.fields(), ["items[0].categoryName"]);
    // Ordinary text still passes.
    let fine = s.get("/customers?q=maria", &s.owner_token).await;
    assert_eq!(fine.status, StatusCode::OK);
}
