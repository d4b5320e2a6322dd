//! Orders and the ledger under hostile callers: bounded and checked totals, actors on every
//! order and ledger entry, repeats that reveal nothing to callers who may not read orders, and
//! stored responses that do not outlive the customer's erasure.

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(
    order_totals_are_bounded_and_overflow_is_a_422,
    a_balance_at_the_limit_refuses_an_adjustment_with_a_422,
    orders_and_their_ledger_entries_name_who_did_it,
    a_repeat_shows_the_order_only_to_callers_that_may_read_it,
    erasure_removes_stored_responses_that_name_the_customer,
);

fn pizza(quantity: i64, price: i64) -> Value {
    json!({"productId": "prod_8kx2m4n7", "productName": "Margherita Pizza",
           "quantity": quantity, "unitPriceMinor": price})
}

async fn totals(s: &TestServer, id: &str) -> (i64, i64, i64) {
    let reply = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let c = reply.data();
    (
        c["totalOrders"].as_i64().expect("totalOrders"),
        c["totalSpentMinor"].as_i64().expect("totalSpentMinor"),
        c["loyaltyPoints"].as_i64().expect("loyaltyPoints"),
    )
}

async fn order_totals_are_bounded_and_overflow_is_a_422(s: TestServer) {
    let id = s.customer(json!({"firstName": "Maria"})).await;
    let post = |body: Value| s.post("/orders", &s.owner_token, body);

    // A total near i64::MAX is beyond the store's largest order (100,000,000 by default).
    let huge =
        post(json!({"customerId": id, "items": [pizza(1, 100)], "totalMinor": i64::MAX})).await;
    assert_eq!(
        huge.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        huge.body
    );
    assert_eq!(huge.code(), "VALIDATION_FAILED");
    assert_eq!(huge.fields(), ["totalMinor"]);
    // So are 500 lines of the largest quantity at the largest price.
    let lines: Vec<Value> = (0..500).map(|_| pizza(100_000, 1_000_000_000)).collect();
    let many = post(json!({"customerId": id, "items": lines})).await;
    assert_eq!(
        many.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        many.body
    );
    assert_eq!(many.fields(), ["items"]);
    // A small total does not hide items worth more than the limit.
    let hidden =
        post(json!({"customerId": id, "items": [pizza(2, 60_000_000)], "totalMinor": 1})).await;
    assert_eq!(hidden.fields(), ["items"]);
    let over =
        post(json!({"customerId": id, "items": [pizza(1, 1)], "totalMinor": 100_000_001})).await;
    assert_eq!(over.fields(), ["totalMinor"]);
    assert_eq!(totals(&s, &id).await, (0, 0, 0), "nothing was written");

    let at_limit =
        post(json!({"customerId": id, "items": [pizza(1, 1)], "totalMinor": 100_000_000})).await;
    assert_eq!(at_limit.status, StatusCode::CREATED, "{:?}", at_limit.body);
    let normal = post(json!({"customerId": id, "items": [pizza(2, 8_900)]})).await;
    assert_eq!(normal.status, StatusCode::CREATED, "{:?}", normal.body);
    let after_two = totals(&s, &id).await;
    assert_eq!(after_two, (2, 100_017_800, 1_000_178));

    // A store that allows any order: the customer's running total is what overflows now.
    s.set_max_order_minor(i64::MAX).await;
    let first_big = post(
        json!({"customerId": id, "items": [pizza(1, 1)], "totalMinor": i64::MAX - 100_017_800}),
    )
    .await;
    assert_eq!(
        first_big.status,
        StatusCode::CREATED,
        "{:?}",
        first_big.body
    );
    assert_eq!(totals(&s, &id).await.1, i64::MAX);
    let overflow = post(json!({"customerId": id, "items": [pizza(1, 1)], "totalMinor": 1})).await;
    assert_eq!(
        overflow.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        overflow.body
    );
    assert_eq!(overflow.code(), "TOTALS_OUT_OF_RANGE");
    assert_eq!(totals(&s, &id).await.1, i64::MAX, "nothing was written");
    // The customer is not poisoned: cancel the big order and a normal order is recorded.
    let big_id = first_big.data()["id"].as_str().expect("an id").to_owned();
    let cancelled = s
        .post(
            &format!("/orders/{big_id}/cancel"),
            &s.owner_token,
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    assert_eq!(totals(&s, &id).await, after_two);
    let later = post(json!({"customerId": id, "items": [pizza(1, 3_500)]})).await;
    assert_eq!(later.status, StatusCode::CREATED, "{:?}", later.body);
    assert_eq!(totals(&s, &id).await.1, 100_021_300);
}

async fn a_balance_at_the_limit_refuses_an_adjustment_with_a_422(s: TestServer) {
    let id = s.customer(json!({"firstName": "Maria"})).await;
    // A balance as large as can be stored (points of a store that allowed anything, before
    // the limits): the adjustment must be refused, not fail in the database.
    s.database()
        .execute_sql(&format!(
            "UPDATE customers SET loyalty_points = {} WHERE store_id = '{}' AND id = '{id}'",
            i64::MAX - 10,
            s.store_id
        ))
        .await;
    let path = format!("/customers/{id}/loyalty/adjust");
    let adjust = |delta: i64| {
        s.post(
            &path,
            &s.owner_token,
            json!({"delta": delta, "reason": "test"}),
        )
    };
    let refused = adjust(1_000_000).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.code(), "TOTALS_OUT_OF_RANGE");
    assert_eq!(totals(&s, &id).await.2, i64::MAX - 10);
    let fits = adjust(10).await;
    assert_eq!(fits.status, StatusCode::OK, "{:?}", fits.body);
    assert_eq!(totals(&s, &id).await.2, i64::MAX);
    let down = adjust(-5).await;
    assert_eq!(down.status, StatusCode::OK, "{:?}", down.body);
}

/// The audit entries of `action`, newest first.
async fn audit_of(s: &TestServer, action: &str) -> Vec<Value> {
    let reply = s
        .get(&format!("/audit?limit=100&action={action}"), &s.owner_token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.data().as_array().expect("a list").clone()
}

async fn orders_and_their_ledger_entries_name_who_did_it(s: TestServer) {
    let id = s.customer(json!({"firstName": "Maria"})).await;
    let (key_id, key) = s.api_key(&["write:orders", "read:orders"]).await;
    let recorded = s
        .post(
            "/orders",
            &key,
            json!({"customerId": id, "items": [pizza(2, 8_900)]}),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{:?}", recorded.body);
    let order = recorded.data().clone();
    let order_id = order["id"].as_str().expect("an id").to_owned();
    assert_eq!(order["recordedBy"], json!({"type": "apiKey", "id": key_id}));
    assert_eq!(order["cancelledBy"], Value::Null);

    let cancelled = s
        .post(
            &format!("/orders/{order_id}/cancel"),
            &s.owner_token,
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    let by = cancelled.data()["cancelledBy"].clone();
    assert_eq!(by["type"], "user");
    let owner_id = by["id"].as_str().expect("the owner's id").to_owned();
    assert!(owner_id.starts_with("usr_"));
    let read = s.get(&format!("/orders/{order_id}"), &s.owner_token).await;
    assert_eq!(read.data()["recordedBy"], order["recordedBy"]);
    assert_eq!(read.data()["cancelledBy"], by);

    // The ledger: the cancel's entry (newest) names the owner, the earn entry the key.
    let ledger = s
        .get(&format!("/customers/{id}/loyalty"), &s.owner_token)
        .await;
    assert_eq!(ledger.status, StatusCode::OK, "{:?}", ledger.body);
    let entries = ledger.data()["entries"]
        .as_array()
        .expect("entries")
        .clone();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        (
            &entries[0]["source"],
            &entries[0]["actorType"],
            &entries[0]["actorId"]
        ),
        (&json!("order_cancel"), &json!("user"), &json!(owner_id))
    );
    assert_eq!(
        (
            &entries[1]["source"],
            &entries[1]["actorType"],
            &entries[1]["actorId"]
        ),
        (&json!("order"), &json!("apiKey"), &json!(key_id))
    );

    // The audit trail has both, with the actor, the customer and the order.
    let recorded_entries = audit_of(&s, "order.recorded").await;
    assert_eq!(recorded_entries.len(), 1, "{recorded_entries:?}");
    assert_eq!(
        recorded_entries[0]["actor"],
        json!({"type": "apiKey", "id": key_id})
    );
    assert_eq!(recorded_entries[0]["customerId"], id.as_str());
    assert_eq!(recorded_entries[0]["subjectId"], order_id.as_str());
    let cancelled_entries = audit_of(&s, "order.cancelled").await;
    assert_eq!(cancelled_entries.len(), 1, "{cancelled_entries:?}");
    assert_eq!(
        cancelled_entries[0]["actor"],
        json!({"type": "user", "id": owner_id})
    );
    assert_eq!(cancelled_entries[0]["customerId"], id.as_str());
    assert_eq!(cancelled_entries[0]["subjectId"], order_id.as_str());

    // A cancel that changes nothing writes nothing.
    let again = s
        .post(&format!("/orders/{order_id}/cancel"), &key, json!({}))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(
        again.data()["cancelledBy"],
        by,
        "the first cancel's actor stays"
    );
    assert_eq!(audit_of(&s, "order.cancelled").await.len(), 1);
    // A repeat by externalId records nothing either.
    let with_external = json!({"customerId": id, "externalId": "pos-7", "items": [pizza(1, 100)]});
    s.post("/orders", &key, with_external.clone()).await;
    let repeat = s.post("/orders", &key, with_external).await;
    assert_eq!(repeat.status, StatusCode::OK, "{:?}", repeat.body);
    assert_eq!(audit_of(&s, "order.recorded").await.len(), 2);
}

async fn a_repeat_shows_the_order_only_to_callers_that_may_read_it(s: TestServer) {
    let id = s
        .customer(json!({"firstName": "Maria", "email": "maria@example.dk"}))
        .await;
    let body = json!({"customerId": id, "externalId": "pos-42", "items": [pizza(2, 8_900)]});
    let first = s.post("/orders", &s.owner_token, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let order_id = first.data()["id"].as_str().expect("an id").to_owned();

    let (_, writer) = s.api_key(&["write:orders"]).await;
    // Probing with the external id alone (any items) must not read the order.
    let probe = json!({"externalId": "pos-42", "items": [pizza(1, 1)]});
    let refused = s.post("/orders", &writer, probe.clone()).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.code(), "ORDER_EXISTS");
    assert_eq!(refused.body["error"]["details"], json!({"id": order_id}));
    let raw = String::from_utf8_lossy(&refused.raw);
    for secret in [id.as_str(), "Margherita", "17800", "pos-42"] {
        assert!(!raw.contains(secret), "{secret} leaked: {raw}");
    }
    assert_eq!(
        s.get(&format!("/orders/{order_id}"), &writer).await.status,
        StatusCode::FORBIDDEN
    );

    // A caller that may read orders gets the order, as before.
    let (_, reader) = s.api_key(&["write:orders", "read:orders"]).await;
    let shown = s.post("/orders", &reader, probe).await;
    assert_eq!(shown.status, StatusCode::OK, "{:?}", shown.body);
    assert_eq!(shown.data()["id"], order_id.as_str());
    assert_eq!(shown.data()["customerId"], id.as_str());
    let staff = s.staff_token("staff").await;
    let by_staff = s.post("/orders", &staff, body).await;
    assert_eq!(by_staff.status, StatusCode::OK, "{:?}", by_staff.body);
    assert_eq!(totals(&s, &id).await.0, 1, "recorded once");
}

async fn erasure_removes_stored_responses_that_name_the_customer(s: TestServer) {
    let id = s.customer(json!({"firstName": "Maria"})).await;
    let reason = "Sorry Maria, your birthday cake was late";
    let adjust = json!({"delta": 500, "reason": reason});
    let path = format!("/customers/{id}/loyalty/adjust");
    let keyed = |body: &Value, key: &'static str, path: String| {
        let body = body.clone();
        let s = &s;
        async move {
            s.remote()
                .send_with(
                    Method::POST,
                    &path,
                    Some(&s.owner_token),
                    Some(&body),
                    &[("Idempotency-Key", key)],
                )
                .await
        }
    };
    let first = keyed(&adjust, "adjust-1", path.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let replay = keyed(&adjust, "adjust-1", path.clone()).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert!(String::from_utf8_lossy(&replay.raw).contains(reason));
    let order = json!({"customerId": id, "items": [pizza(1, 8_900)]});
    let recorded = keyed(&order, "order-1", "/orders".into()).await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{:?}", recorded.body);

    let erased = s.delete(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "{:?}", erased.body);

    // The keys behave as unused: the requests run again and find no customer.
    let after = keyed(&adjust, "adjust-1", path.clone()).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND, "{:?}", after.body);
    assert_eq!(after.header("idempotent-replayed"), None);
    let after_order = keyed(&order, "order-1", "/orders".into()).await;
    assert_eq!(
        after_order.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        after_order.body
    );
    assert_eq!(after_order.fields(), ["customerId"]);
    for reply in [&after, &after_order] {
        let raw = String::from_utf8_lossy(&reply.raw);
        assert!(!raw.contains(reason) && !raw.contains(id.as_str()), "{raw}");
    }
}
