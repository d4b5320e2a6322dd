//! The loyalty ledger over HTTP: adjustments, the ledger, Idempotency-Key, concurrency.

use customers_tests::{Reply, TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(
    an_adjustment_answers_the_seed_shape,
    a_balance_never_goes_below_zero,
    adjustments_are_validated,
    the_ledger_is_newest_first_and_paginated,
    a_repeated_key_replays_the_first_answer,
    a_key_is_bound_to_its_request,
    a_failed_request_leaves_its_key_unused,
    parallel_requests_with_one_key_write_once,
    parallel_adjustments_never_lose_an_update,
    orders_take_idempotency_keys_too,
);

async fn adjust(s: &TestServer, id: &str, body: Value, key: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    s.remote()
        .send_with(
            Method::POST,
            &format!("/customers/{id}/loyalty/adjust"),
            Some(&s.owner_token),
            Some(&body),
            &headers,
        )
        .await
}

async fn ledger(s: &TestServer, id: &str) -> Value {
    let reply = s
        .get(
            &format!("/customers/{id}/loyalty?limit=100"),
            &s.owner_token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body
}

async fn an_adjustment_answers_the_seed_shape(s: TestServer) {
    let id = s.customer(json!({})).await;
    adjust(
        &s,
        &id,
        json!({"delta": 2450, "reason": "Welcome bonus"}),
        None,
    )
    .await;
    let manager = s.staff_token("manager").await;
    let reply = s
        .post(
            &format!("/customers/{id}/loyalty/adjust"),
            &manager,
            json!({"delta": 500, "reason": "Compensation for late delivery"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.data(),
        &json!({"customerId": id, "previousBalance": 2450, "adjustment": 500, "newBalance": 2950,
                "reason": "Compensation for late delivery"})
    );
    let entry = &ledger(&s, &id).await["data"]["entries"][0];
    assert_eq!(entry["source"], "manual");
    assert_eq!(entry["balanceAfter"], 2950);
    assert!(
        entry["actorId"].as_str().unwrap().starts_with("usr_"),
        "who adjusted is kept"
    );
    assert_eq!(entry["orderId"], Value::Null);
    let staff = s.staff_token("staff").await;
    let refused = s
        .post(
            &format!("/customers/{id}/loyalty/adjust"),
            &staff,
            json!({"delta": 1, "reason": "x"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.get(&format!("/customers/{id}"), &s.owner_token)
            .await
            .data()["loyaltyPoints"],
        2950
    );
}

async fn a_balance_never_goes_below_zero(s: TestServer) {
    let id = s.customer(json!({})).await;
    adjust(&s, &id, json!({"delta": 100, "reason": "Bonus"}), None).await;
    let refused = adjust(&s, &id, json!({"delta": -101, "reason": "Redeem"}), None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "INSUFFICIENT_POINTS");
    let after = ledger(&s, &id).await;
    assert_eq!(after["data"]["balance"], 100);
    assert_eq!(after["meta"]["total"], 1, "nothing written");
    let exact = adjust(&s, &id, json!({"delta": -100, "reason": "Redeem"}), None).await;
    assert_eq!(exact.data()["newBalance"], 0);
}

async fn adjustments_are_validated(s: TestServer) {
    let id = s.customer(json!({})).await;
    for (body, fields) in [
        (json!({"delta": 0, "reason": "x"}), vec!["delta"]),
        (json!({"delta": 1_000_001, "reason": "x"}), vec!["delta"]),
        (json!({"delta": 5}), vec!["reason"]),
        (json!({"delta": 5, "reason": ""}), vec!["reason"]),
        (
            json!({"delta": 5, "reason": "r".repeat(501)}),
            vec!["reason"],
        ),
        (json!({"delta": 1.5, "reason": "x"}), vec!["delta"]),
        (json!({"delta": "5", "reason": "x"}), vec!["delta"]),
        (json!({}), vec!["delta", "reason"]),
        (
            json!({"delta": 5, "reason": "x", "source": "order"}),
            vec!["source"],
        ),
    ] {
        let reply = adjust(&s, &id, body.clone(), None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.fields(), fields, "{body}");
    }
    let missing = adjust(
        &s,
        "cust_zzzzzzzzzzzz",
        json!({"delta": 5, "reason": "x"}),
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn the_ledger_is_newest_first_and_paginated(s: TestServer) {
    let id = s.customer(json!({})).await;
    for delta in 1..=5 {
        adjust(
            &s,
            &id,
            json!({"delta": delta, "reason": format!("r{delta}")}),
            None,
        )
        .await;
    }
    let page = s
        .get(
            &format!("/customers/{id}/loyalty?limit=2&page=1"),
            &s.owner_token,
        )
        .await;
    assert_eq!(page.data()["balance"], 15);
    assert_eq!(
        page.body["meta"],
        json!({"total": 5, "page": 1, "limit": 2, "totalPages": 3})
    );
    let deltas: Vec<_> = page.data()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["delta"].clone())
        .collect();
    assert_eq!(deltas, [json!(5), json!(4)]);
    let balances: Vec<_> = ledger(&s, &id).await["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["balanceAfter"].as_i64().unwrap())
        .collect();
    assert_eq!(balances, [15, 10, 6, 3, 1]);
}

async fn a_repeated_key_replays_the_first_answer(s: TestServer) {
    let id = s.customer(json!({})).await;
    let body = json!({"delta": 500, "reason": "Compensation"});
    let first = adjust(&s, &id, body.clone(), Some("key-1")).await;
    assert_eq!(first.status, StatusCode::OK);
    let second = adjust(&s, &id, body.clone(), Some("key-1")).await;
    assert_eq!(second.status, first.status);
    assert_eq!(second.raw, first.raw, "byte for byte");
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        ledger(&s, &id).await["data"]["balance"],
        500,
        "one entry only"
    );
    let other_key = adjust(&s, &id, body, Some("key-2")).await;
    assert_eq!(other_key.data()["newBalance"], 1000);
    let invalid = adjust(
        &s,
        &id,
        json!({"delta": 1, "reason": "x"}),
        Some(&"k".repeat(256)),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.fields(), ["Idempotency-Key"]);
}

async fn a_key_is_bound_to_its_request(s: TestServer) {
    let id = s.customer(json!({})).await;
    adjust(&s, &id, json!({"delta": 5, "reason": "a"}), Some("shared")).await;
    let reused = adjust(&s, &id, json!({"delta": 6, "reason": "a"}), Some("shared")).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.code(), "IDEMPOTENCY_KEY_REUSED");
    let other = s.customer(json!({})).await;
    let other_path = adjust(
        &s,
        &other,
        json!({"delta": 5, "reason": "a"}),
        Some("shared"),
    )
    .await;
    assert_eq!(
        other_path.code(),
        "IDEMPOTENCY_KEY_REUSED",
        "the path is part of the request"
    );
    // Keys belong to a credential: another token may use the same key.
    let manager = s.staff_token("manager").await;
    let theirs = s
        .remote()
        .send_with(
            Method::POST,
            &format!("/customers/{id}/loyalty/adjust"),
            Some(&manager),
            Some(&json!({"delta": 6, "reason": "a"})),
            &[("idempotency-key", "shared")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(ledger(&s, &id).await["data"]["balance"], 11);
}

async fn a_failed_request_leaves_its_key_unused(s: TestServer) {
    let id = s.customer(json!({})).await;
    let body = json!({"delta": -50, "reason": "Redeem"});
    let refused = adjust(&s, &id, body.clone(), Some("retry-me")).await;
    assert_eq!(refused.code(), "INSUFFICIENT_POINTS");
    adjust(&s, &id, json!({"delta": 80, "reason": "Bonus"}), None).await;
    let retried = adjust(&s, &id, body, Some("retry-me")).await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(retried.data()["newBalance"], 30);
}

async fn parallel_requests_with_one_key_write_once(s: TestServer) {
    let id = s.customer(json!({})).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (remote, token, path) = (
            s.remote(),
            s.owner_token.clone(),
            format!("/customers/{id}/loyalty/adjust"),
        );
        tasks.spawn(async move {
            let body = json!({"delta": 7, "reason": "Once"});
            remote
                .send_with(
                    Method::POST,
                    &path,
                    Some(&token),
                    Some(&body),
                    &[("idempotency-key", "burst")],
                )
                .await
        });
    }
    let replies = tasks.join_all().await;
    for reply in &replies {
        assert!(
            reply.status == StatusCode::OK
                || (reply.status == StatusCode::CONFLICT
                    && reply.code() == "IDEMPOTENCY_IN_PROGRESS"),
            "{} {:?}",
            reply.status,
            reply.body
        );
    }
    let ok: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert!(!ok.is_empty());
    assert!(
        ok.iter().all(|r| r.raw == ok[0].raw),
        "every success is the same answer"
    );
    let after = ledger(&s, &id).await;
    assert_eq!(after["data"]["balance"], 7);
    assert_eq!(after["meta"]["total"], 1);
}

async fn parallel_adjustments_never_lose_an_update(s: TestServer) {
    let id = s.customer(json!({})).await;
    let start = 1_000;
    adjust(&s, &id, json!({"delta": start, "reason": "Start"}), None).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200i64 {
        let (remote, token, path) = (
            s.remote(),
            s.owner_token.clone(),
            format!("/customers/{id}/loyalty/adjust"),
        );
        // Credits, and debits that add up to more than the start and every credit: some are refused.
        let delta = if i % 3 == 0 { 40 + i } else { -(60 + i % 50) };
        tasks.spawn(async move {
            let body = json!({"delta": delta, "reason": format!("op {i}")});
            (
                delta,
                remote
                    .send(Method::POST, &path, Some(&token), Some(&body))
                    .await,
            )
        });
    }
    let results = tasks.join_all().await;
    let mut accepted = 0i64;
    let mut refused = 0;
    for (delta, reply) in &results {
        assert!(
            !reply.status.is_server_error(),
            "{} {:?}",
            reply.status,
            reply.body
        );
        match reply.status {
            StatusCode::OK => accepted += delta,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(reply.code(), "INSUFFICIENT_POINTS");
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(refused > 0, "the mix was meant to refuse some debits");
    let book = ledger(&s, &id).await;
    let balance = book["data"]["balance"].as_i64().unwrap();
    assert_eq!(balance, start + accepted);
    let total = book["meta"]["total"].as_u64().unwrap();
    let mut sum = 0;
    let pages = total.div_ceil(100);
    for page in 1..=pages {
        let reply = s
            .get(
                &format!("/customers/{id}/loyalty?limit=100&page={page}"),
                &s.owner_token,
            )
            .await;
        for entry in reply.data()["entries"].as_array().unwrap() {
            sum += entry["delta"].as_i64().unwrap();
            assert!(entry["balanceAfter"].as_i64().unwrap() >= 0);
        }
    }
    assert_eq!(sum, balance, "balance == sum of entries");
    assert_eq!(total as usize, 1 + results.len() - refused);
    assert_eq!(
        s.get(&format!("/customers/{id}"), &s.owner_token)
            .await
            .data()["loyaltyPoints"],
        balance
    );
}

async fn orders_take_idempotency_keys_too(s: TestServer) {
    let id = s.customer(json!({})).await;
    let body = json!({"customerId": id, "items": [{"productId": "p", "productName": "Pizza", "quantity": 1, "unitPriceMinor": 10000}]});
    let send = |key: &'static str, body: Value| {
        let remote = s.remote();
        let token = s.owner_token.clone();
        async move {
            remote
                .send_with(
                    Method::POST,
                    "/orders",
                    Some(&token),
                    Some(&body),
                    &[("idempotency-key", key)],
                )
                .await
        }
    };
    let first = send("order-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = send("order-1", body.clone()).await;
    assert_eq!(
        replay.status,
        StatusCode::CREATED,
        "the first status is replayed"
    );
    assert_eq!(replay.raw, first.raw);
    let customer = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(customer.data()["totalOrders"], 1);
    let mut other = body;
    other["totalMinor"] = json!(5);
    assert_eq!(
        send("order-1", other).await.code(),
        "IDEMPOTENCY_KEY_REUSED"
    );
}
