//! Orders, blocking, history and analytics.

use customers_tests::{Reply, TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(
    an_order_updates_totals_and_earns_points,
    an_external_id_is_recorded_once,
    orders_without_or_with_bad_customers,
    a_blocked_customer_cannot_order_until_unblocked,
    a_cancel_reverses_the_order_once,
    a_cancel_never_takes_the_balance_below_zero,
    history_is_newest_first_and_paginated,
    analytics_rank_products_and_categories_by_orders,
    another_stores_orders_do_not_exist,
);

fn pizza(quantity: i64, price: i64) -> Value {
    json!({"productId": "prod_8kx2m4n7", "productName": "Margherita Pizza", "categoryId": "cat_p1z2a3",
           "categoryName": "Pizzas", "quantity": quantity, "unitPriceMinor": price})
}

fn bread() -> Value {
    json!({"productId": "prod_3jn8v5q2", "productName": "Garlic Bread", "categoryId": "cat_s1d2e3",
           "categoryName": "Sides", "quantity": 1, "unitPriceMinor": 3500})
}

async fn customer_json(s: &TestServer, id: &str) -> Value {
    s.get(&format!("/customers/{id}"), &s.owner_token)
        .await
        .data()
        .clone()
}

async fn an_order_updates_totals_and_earns_points(s: TestServer) {
    let id = s.customer(json!({"firstName": "Maria"})).await;
    let reply = s
        .post(
            "/orders",
            &s.owner_token,
            json!({"customerId": id, "externalId": "pos-1", "placedAt": "2026-03-14T19:22:00Z",
                   "items": [pizza(2, 8900), bread()]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let order = reply.data();
    assert!(order["id"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(order["customerId"], id.as_str());
    assert_eq!(order["externalId"], "pos-1");
    assert_eq!(order["status"], "recorded");
    assert_eq!(order["totalMinor"], 21_300, "the items' sum");
    assert_eq!(order["currency"], "DKK");
    assert_eq!(order["placedAt"], "2026-03-14T19:22:00.000Z");
    assert_eq!(order["cancelledAt"], Value::Null);
    assert_eq!(
        order["pointsEarned"], 213,
        "1 point per 100 minor units, rounded down"
    );
    assert_eq!(order["items"].as_array().unwrap().len(), 2);
    assert_eq!(order["items"][0]["unitPriceMinor"], 8900);
    let again = s
        .get(
            &format!("/orders/{}", order["id"].as_str().unwrap()),
            &s.owner_token,
        )
        .await;
    assert_eq!(again.data(), order);

    let c = customer_json(&s, &id).await;
    assert_eq!(c["totalOrders"], 1);
    assert_eq!(c["totalSpentMinor"], 21_300);
    assert_eq!(c["lastOrderAt"], "2026-03-14T19:22:00.000Z");
    assert_eq!(c["loyaltyPoints"], 213);
    let ledger = s
        .get(&format!("/customers/{id}/loyalty"), &s.owner_token)
        .await;
    assert_eq!(ledger.data()["balance"], 213);
    let entry = &ledger.data()["entries"][0];
    assert_eq!(entry["source"], "order");
    assert_eq!(entry["delta"], 213);
    assert_eq!(entry["orderId"], order["id"]);

    let discounted = s
        .post(
            "/orders",
            &s.owner_token,
            json!({"customerId": id, "items": [pizza(1, 8900)], "totalMinor": 5000}),
        )
        .await;
    assert_eq!(discounted.data()["totalMinor"], 5000);
    assert_eq!(discounted.data()["pointsEarned"], 50);
    let c = customer_json(&s, &id).await;
    assert_eq!(
        (c["totalOrders"].clone(), c["totalSpentMinor"].clone()),
        (json!(2), json!(26_300))
    );
    assert_ne!(
        c["lastOrderAt"], "2026-03-14T19:22:00.000Z",
        "the newer order is the last"
    );
}

async fn an_external_id_is_recorded_once(s: TestServer) {
    let id = s.customer(json!({})).await;
    let body = json!({"customerId": id, "externalId": "pos-42", "items": [pizza(1, 10_000)]});
    let first = s.post("/orders", &s.owner_token, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = s.post("/orders", &s.owner_token, body.clone()).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.data()["id"], first.data()["id"]);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (remote, token) = (s.remote(), s.owner_token.clone());
        let body = json!({"customerId": id, "externalId": "pos-43", "items": [pizza(1, 10_000)]});
        tasks.spawn(async move {
            remote
                .send(Method::POST, "/orders", Some(&token), Some(&body))
                .await
        });
    }
    let parallel: Vec<Reply> = tasks.join_all().await;
    let ids: std::collections::HashSet<_> = parallel
        .iter()
        .map(|r| r.data()["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "parallel duplicates record one order");
    assert_eq!(
        parallel
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count(),
        1
    );
    let c = customer_json(&s, &id).await;
    assert_eq!(c["totalOrders"], 2);
    assert_eq!(c["loyaltyPoints"], 200);
}

async fn orders_without_or_with_bad_customers(s: TestServer) {
    let anonymous = s
        .post(
            "/orders",
            &s.owner_token,
            json!({"items": [pizza(1, 10_000)]}),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::CREATED);
    assert_eq!(anonymous.data()["customerId"], Value::Null);
    assert_eq!(anonymous.data()["pointsEarned"], 0);
    for (body, field) in [
        (
            json!({"customerId": "cust_zzzzzzzzzzzz", "items": [pizza(1, 1)]}),
            "customerId",
        ),
        (
            json!({"customerId": "maria", "items": [pizza(1, 1)]}),
            "customerId",
        ),
        (json!({"items": []}), "items"),
        (json!({}), "items"),
        (json!({"items": [pizza(0, 1)]}), "items[0].quantity"),
        (json!({"items": [pizza(1, -1)]}), "items[0].unitPriceMinor"),
        (
            json!({"items": [{"productName": "x", "quantity": 1, "unitPriceMinor": 1}]}),
            "items[0].productId",
        ),
        (
            json!({"items": [pizza(1, 1)], "placedAt": "tomorrow"}),
            "placedAt",
        ),
        (
            json!({"items": [pizza(1, 1)], "totalMinor": -5}),
            "totalMinor",
        ),
        (
            json!({"items": [pizza(1, 1)], "status": "cancelled"}),
            "status",
        ),
    ] {
        let reply = s.post("/orders", &s.owner_token, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.fields(), [field], "{body}");
    }
}

async fn a_blocked_customer_cannot_order_until_unblocked(s: TestServer) {
    let id = s.customer(json!({"firstName": "Noshow"})).await;
    let manager = s.staff_token("manager").await;
    let staff = s.staff_token("staff").await;
    let path = format!("/customers/{id}/block");
    assert_eq!(
        s.post(&path, &staff, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    let blocked = s
        .post(
            &path,
            &manager,
            json!({"reason": "Repeated no-shows for reservations"}),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK);
    assert_eq!(blocked.data(), &json!({"id": id, "isBlocked": true}));
    let c = customer_json(&s, &id).await;
    assert_eq!(c["isBlocked"], true);
    assert_eq!(c["blockedReason"], "Repeated no-shows for reservations");
    let blocked_at = c["blockedAt"].clone();
    let again = s.send(Method::POST, &path, Some(&manager), None).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "repeating a block is harmless, body or not"
    );
    assert_eq!(customer_json(&s, &id).await["blockedAt"], blocked_at);
    let too_long = s
        .post(&path, &manager, json!({"reason": "x".repeat(501)}))
        .await;
    assert_eq!(too_long.fields(), ["reason"]);

    let refused = s
        .post(
            "/orders",
            &s.owner_token,
            json!({"customerId": id, "items": [pizza(1, 9000)]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "CUSTOMER_BLOCKED");
    let c = customer_json(&s, &id).await;
    assert_eq!(
        (c["totalOrders"].clone(), c["loyaltyPoints"].clone()),
        (json!(0), json!(0))
    );
    let blocked_list = s.get("/customers?isBlocked=true", &s.owner_token).await;
    assert_eq!(blocked_list.body["meta"]["total"], 1);

    let unblocked = s
        .send(
            Method::POST,
            &format!("/customers/{id}/unblock"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(unblocked.status, StatusCode::OK);
    assert_eq!(unblocked.data(), &json!({"id": id, "isBlocked": false}));
    let c = customer_json(&s, &id).await;
    assert_eq!(
        (
            c["isBlocked"].clone(),
            c["blockedReason"].clone(),
            c["blockedAt"].clone()
        ),
        (json!(false), Value::Null, Value::Null)
    );
    let accepted = s
        .post(
            "/orders",
            &s.owner_token,
            json!({"customerId": id, "items": [pizza(1, 9000)]}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED);
    let missing = s
        .send(
            Method::POST,
            "/customers/cust_zzzzzzzzzzzz/block",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn a_cancel_reverses_the_order_once(s: TestServer) {
    let id = s.customer(json!({})).await;
    let older = s
        .order(json!({"customerId": id, "placedAt": "2026-03-01T12:00:00Z", "items": [pizza(1, 10_000)]}))
        .await;
    let newer = s
        .order(json!({"customerId": id, "placedAt": "2026-03-10T12:00:00Z", "items": [pizza(3, 10_000)]}))
        .await;
    let path = format!("/orders/{}/cancel", newer["id"].as_str().unwrap());
    let cancelled = s
        .send(Method::POST, &path, Some(&s.owner_token), None)
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    assert_eq!(cancelled.data()["status"], "cancelled");
    assert!(
        cancelled.data()["cancelledAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let c = customer_json(&s, &id).await;
    assert_eq!(c["totalOrders"], 1);
    assert_eq!(c["totalSpentMinor"], 10_000);
    assert_eq!(
        c["lastOrderAt"], older["placedAt"],
        "the newest remaining order"
    );
    assert_eq!(c["loyaltyPoints"], 100);
    let twice = s
        .send(Method::POST, &path, Some(&s.owner_token), None)
        .await;
    assert_eq!(twice.status, StatusCode::OK);
    assert_eq!(
        twice.data(),
        cancelled.data(),
        "a second cancel changes nothing"
    );
    assert_eq!(customer_json(&s, &id).await["loyaltyPoints"], 100);
    let ledger = s
        .get(&format!("/customers/{id}/loyalty"), &s.owner_token)
        .await;
    let sources: Vec<_> = ledger.data()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].clone())
        .collect();
    assert_eq!(
        sources,
        [json!("order_cancel"), json!("order"), json!("order")]
    );
    let first_path = format!("/orders/{}/cancel", older["id"].as_str().unwrap());
    s.send(Method::POST, &first_path, Some(&s.owner_token), None)
        .await;
    let c = customer_json(&s, &id).await;
    assert_eq!(
        (c["totalOrders"].clone(), c["lastOrderAt"].clone()),
        (json!(0), Value::Null)
    );
}

async fn a_cancel_never_takes_the_balance_below_zero(s: TestServer) {
    let id = s.customer(json!({})).await;
    let order = s
        .order(json!({"customerId": id, "items": [pizza(1, 50_000)]}))
        .await;
    assert_eq!(order["pointsEarned"], 500);
    let spent = s
        .post(
            &format!("/customers/{id}/loyalty/adjust"),
            &s.owner_token,
            json!({"delta": -400, "reason": "Redeemed"}),
        )
        .await;
    assert_eq!(spent.data()["newBalance"], 100);
    s.send(
        Method::POST,
        &format!("/orders/{}/cancel", order["id"].as_str().unwrap()),
        Some(&s.owner_token),
        None,
    )
    .await;
    let ledger = s
        .get(&format!("/customers/{id}/loyalty"), &s.owner_token)
        .await;
    assert_eq!(ledger.data()["balance"], 0);
    assert_eq!(
        ledger.data()["entries"][0]["delta"],
        -100,
        "only what was left is taken back"
    );
}

async fn history_is_newest_first_and_paginated(s: TestServer) {
    let id = s.customer(json!({})).await;
    let mut placed = Vec::new();
    for day in 1..=5 {
        let at = format!("2026-03-0{day}T12:00:00Z");
        placed.push(
            s.order(json!({"customerId": id, "placedAt": at, "items": [pizza(1, 1000)]}))
                .await["id"]
                .clone(),
        );
    }
    s.order(json!({"items": [pizza(1, 1000)]})).await;
    let first = s
        .get(&format!("/customers/{id}/orders?limit=2"), &s.owner_token)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.body["meta"],
        json!({"total": 5, "page": 1, "limit": 2, "totalPages": 3})
    );
    let ids: Vec<_> = first
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    assert_eq!(ids, [placed[4].clone(), placed[3].clone()]);
    let last = s
        .get(
            &format!("/customers/{id}/orders?limit=2&page=3"),
            &s.owner_token,
        )
        .await;
    assert_eq!(last.data()[0]["id"], placed[0]);
    assert!(last.data()[0]["items"].is_array());
    let missing = s
        .get("/customers/cust_zzzzzzzzzzzz/orders", &s.owner_token)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bad = s
        .get(&format!("/customers/{id}/orders?limit=0"), &s.owner_token)
        .await;
    assert_eq!(bad.fields(), ["limit"]);
}

async fn analytics_rank_products_and_categories_by_orders(s: TestServer) {
    let id = s.customer(json!({})).await;
    let empty = s
        .get(&format!("/customers/{id}/analytics"), &s.owner_token)
        .await;
    assert_eq!(
        empty.data(),
        &json!({"totalOrders": 0, "totalSpentMinor": 0, "averageOrderMinor": 0, "topProducts": [], "topCategories": []})
    );
    let item = |pid: &str, name: &str, cat: &str, qty: i64| {
        json!({"productId": pid, "productName": name, "categoryId": cat, "categoryName": cat.to_uppercase(),
               "quantity": qty, "unitPriceMinor": 1000})
    };
    // Pizza in 3 orders (one with quantity 5), Bread in 2, Cola and Apple Juice in 1 each.
    s.order(json!({"customerId": id, "items": [item("p", "Pizza", "mains", 5), item("b", "Bread", "sides", 1)], "totalMinor": 1001})).await;
    s.order(json!({"customerId": id, "items": [item("p", "Pizza", "mains", 1), item("c", "Cola", "drinks", 1)], "totalMinor": 1000})).await;
    s.order(json!({"customerId": id, "items": [item("p", "Pizza", "mains", 1), item("b", "Bread", "sides", 1), item("a", "Apple Juice", "drinks", 1)], "totalMinor": 1000})).await;
    let cancelled = s.order(json!({"customerId": id, "items": [item("c", "Cola", "drinks", 9)], "totalMinor": 9000})).await;
    s.send(
        Method::POST,
        &format!("/orders/{}/cancel", cancelled["id"].as_str().unwrap()),
        Some(&s.owner_token),
        None,
    )
    .await;

    let reply = s
        .get(&format!("/customers/{id}/analytics"), &s.owner_token)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let a = reply.data();
    assert_eq!(a["totalOrders"], 3, "the cancelled order does not count");
    assert_eq!(a["totalSpentMinor"], 3001);
    assert_eq!(a["averageOrderMinor"], 1000, "3001 / 3 rounded");
    assert_eq!(
        a["topProducts"],
        json!([
            {"productId": "p", "productName": "Pizza", "orderCount": 3},
            {"productId": "b", "productName": "Bread", "orderCount": 2},
            {"productId": "a", "productName": "Apple Juice", "orderCount": 1},
            {"productId": "c", "productName": "Cola", "orderCount": 1}
        ])
    );
    assert_eq!(
        a["topCategories"],
        json!([
            {"categoryId": "mains", "categoryName": "MAINS", "orderCount": 3},
            {"categoryId": "drinks", "categoryName": "DRINKS", "orderCount": 2},
            {"categoryId": "sides", "categoryName": "SIDES", "orderCount": 2}
        ])
    );
    let missing = s
        .get("/customers/cust_zzzzzzzzzzzz/analytics", &s.owner_token)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn another_stores_orders_do_not_exist(s: TestServer) {
    let (_, other) = s.other_store().await;
    let theirs = s
        .post("/orders", &other, json!({"items": [pizza(1, 1000)]}))
        .await
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.get(&format!("/orders/{theirs}"), &s.owner_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let cancel = s
        .send(
            Method::POST,
            &format!("/orders/{theirs}/cancel"),
            Some(&s.owner_token),
            None,
        )
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.get(&format!("/orders/{theirs}"), &other).await.data()["status"],
        "recorded"
    );
    let mine = s.customer(json!({})).await;
    let cross = s
        .post(
            "/orders",
            &other,
            json!({"customerId": mine, "items": [pizza(1, 1000)]}),
        )
        .await;
    assert_eq!(
        cross.fields(),
        ["customerId"],
        "another store's customer is unknown"
    );
}
