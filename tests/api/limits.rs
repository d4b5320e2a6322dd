//! Per-credential limits: one credential past its rate or with too many requests in progress
//! gets 429 `RATE_LIMITED` with `Retry-After`, and nobody else notices.

use std::time::Duration;

use customers_http::limits::CredentialLimits;
use customers_tests::testing::TestDatabase;
use customers_tests::{Reply, TestServer, json, on_both_backends};
use reqwest::StatusCode;

on_both_backends!(
    a_credential_past_its_rate_gets_429_and_others_do_not,
    a_credential_with_too_many_requests_in_progress_gets_429_and_others_do_not,
    reads_by_id_pass_while_scans_hold_every_main_connection,
    a_second_scan_of_a_credential_is_refused_while_its_reads_and_other_scans_pass,
);

async fn serve(database: TestDatabase, limits: CredentialLimits) -> TestServer {
    TestServer::start_with(database, |options| options.limits = limits).await
}

fn assert_limited(reply: &Reply, retry_after: &str) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["success"], false);
    assert_eq!(reply.code(), "RATE_LIMITED");
    assert!(reply.body["error"]["requestId"].is_string());
    assert_eq!(reply.header("retry-after"), Some(retry_after));
}

async fn a_credential_past_its_rate_gets_429_and_others_do_not(database: TestDatabase) {
    // One request per 100 seconds, 4 at once: the bucket does not refill during the test.
    let s = serve(
        database,
        CredentialLimits {
            rate_per_sec: 0.01,
            burst: 5,
            ..CredentialLimits::off()
        },
    )
    .await;
    let (_, other_owner) = s.other_store().await;
    let (_, reader) = s.api_key(&["read:customers"]).await;
    let id = s.customer(json!({"firstName": "Ada"})).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let reply = s.get(&format!("/customers/{id}"), &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header("ratelimit-policy"),
            Some("\"credential\";q=5;w=500")
        );
        remaining.push(reply.header("ratelimit").unwrap().to_owned());
    }
    assert_eq!(
        remaining[2], "\"credential\";r=0;t=500",
        "{remaining:?}: five requests of five, the bucket refills in 500 s"
    );
    assert!(remaining[0].starts_with("\"credential\";r=2;t="));
    let refused = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_limited(&refused, "100");
    assert_eq!(
        refused.header("ratelimit"),
        Some("\"credential\";r=0;t=500")
    );
    // A write is refused too, and nothing is written.
    let write = s
        .post("/customers", &s.owner_token, json!({"firstName": "Bo"}))
        .await;
    assert_limited(&write, "100");
    // Another credential (of another store) is not affected.
    let other = s.get("/customers", &other_owner).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.data().as_array().unwrap().len(), 0);
    assert!(
        other
            .header("ratelimit")
            .unwrap()
            .starts_with("\"credential\";r=4;")
    );
    // Neither are public endpoints nor requests without a credential.
    let health = s.send(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(health.header("ratelimit").is_none());
    let anonymous = s.send(reqwest::Method::GET, "/customers", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // The owner's API key has a bucket of its own: only Ada was written.
    let listed = s.get("/customers", &reader).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["meta"]["total"], 1);
}

async fn a_credential_with_too_many_requests_in_progress_gets_429_and_others_do_not(
    database: TestDatabase,
) {
    let s = serve(
        database,
        CredentialLimits {
            concurrency: 2,
            ..CredentialLimits::off()
        },
    )
    .await;
    let (_, other_owner) = s.other_store().await;
    let id = s.customer(json!({"firstName": "Ada"})).await;
    // Two creates of the owner wait on a lock held by the test: two requests in progress.
    let lock = s.database().hold_customer_writes().await;
    let mut writes = tokio::task::JoinSet::new();
    for name in ["Bo", "Cy"] {
        let (remote, token) = (s.remote(), s.owner_token.clone());
        writes.spawn(async move {
            remote
                .send(
                    reqwest::Method::POST,
                    "/customers",
                    Some(&token),
                    Some(&json!({"firstName": name})),
                )
                .await
        });
    }
    // Both creates hold a connection while they wait for the lock.
    for _ in 0..400 {
        let pool = s.served_database().pool_status();
        if pool.size - pool.available >= 2 {
            break;
        }
        if let Some(write) = writes.try_join_next() {
            panic!(
                "a create ended while the lock was held: {:?}",
                write.unwrap()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let pool = s.served_database().pool_status();
    assert_eq!(pool.size - pool.available, 2, "{pool:?}");
    // A third request of the owner is refused.
    let refused = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_limited(&refused, "1");
    assert!(
        refused.header("ratelimit").is_none(),
        "no rate, no RateLimit field"
    );
    // Another store's owner reads meanwhile.
    let other = s.get("/customers", &other_owner).await;
    assert_eq!(other.status, StatusCode::OK);
    lock.release().await;
    while let Some(write) = writes.join_next().await {
        assert_eq!(write.unwrap().status, StatusCode::CREATED);
    }
    // Once they have ended, the owner is served again.
    let mut served = false;
    for _ in 0..400 {
        let reply = s.get(&format!("/customers/{id}"), &s.owner_token).await;
        if reply.status == StatusCode::OK {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(served, "the owner is served once its requests have ended");
    let listed = s.get("/customers", &s.owner_token).await;
    assert_eq!(listed.body["meta"]["total"], 3);
}

/// With every connection of the service's main pool held (as 32 slow searches would), a
/// customer, an order and a review are still read by id, and a credential still
/// authenticates: on the connections kept for point reads. A list waits for a main
/// connection and answers 503.
async fn reads_by_id_pass_while_scans_hold_every_main_connection(database: TestDatabase) {
    let s = TestServer::start_with(database, |options| {
        options.limits = CredentialLimits::off();
        options.database.max_connections = 2;
        options.database.point_read_connections = 1;
        options.database.wait_timeout = Duration::from_millis(300);
    })
    .await;
    let (_, other_owner) = s.other_store().await;
    let id = s.customer(json!({"firstName": "Ada"})).await;
    let order = s
        .order(
            json!({"customerId": id, "items": [{"productId": "p1", "productName": "Pizza",
            "quantity": 1, "unitPriceMinor": 9900}]}),
        )
        .await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let review = s
        .post(
            "/reviews",
            &s.owner_token,
            json!({"orderId": order_id, "rating": 5}),
        )
        .await;
    assert_eq!(review.status, StatusCode::CREATED, "{:?}", review.body);
    let review_id = review.data()["id"].as_str().unwrap().to_owned();
    // A key never used before: its lookup cannot come from the credential cache.
    let (_, fresh_key) = s.api_key(&["read:customers", "read:orders"]).await;

    let held = customers_tests::testing::hold_main_pool(s.served_database()).await;
    assert_eq!(held.len(), 2);
    for path in [
        format!("/customers/{id}"),
        format!("/orders/{order_id}"),
        format!("/reviews/{review_id}"),
    ] {
        let reply = s.get(&path, &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
    }
    let by_key = s.get(&format!("/customers/{id}"), &fresh_key).await;
    assert_eq!(by_key.status, StatusCode::OK, "{:?}", by_key.body);
    assert_eq!(by_key.data()["firstName"], "Ada");
    // Another store's missing customer: a point read too.
    let missing = s.get(&format!("/customers/{id}"), &other_owner).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let list = s.get("/customers", &s.owner_token).await;
    assert_eq!(list.status, StatusCode::SERVICE_UNAVAILABLE);
    drop(held);
    let list = s.get("/customers", &s.owner_token).await;
    assert_eq!(list.status, StatusCode::OK);
}

/// With a cap of one scan per credential: while the owner's search runs (it waits for a main
/// connection the test holds), the owner's second search waits its short while and gets 429,
/// but the owner's read by id passes, and so does another store's search.
async fn a_second_scan_of_a_credential_is_refused_while_its_reads_and_other_scans_pass(
    database: TestDatabase,
) {
    let s = TestServer::start_with(database, |options| {
        options.limits = CredentialLimits {
            rate_per_sec: 1000.0,
            burst: 1000,
            concurrency: 8,
            scans: 1,
            scan_wait: Duration::from_millis(50),
            // The held search takes seconds: no rest after it, so that the owner searches
            // again at once (the rest is the limiter's own test).
            scan_rest_percent: 0,
        };
        options.database.max_connections = 2;
        options.database.point_read_connections = 1;
        // The held scans wait for a connection until the test gives them back.
        options.database.wait_timeout = Duration::from_secs(20);
    })
    .await;
    let (_, other_owner) = s.other_store().await;
    let id = s.customer(json!({"firstName": "Ada"})).await;

    let held = customers_tests::testing::hold_main_pool(s.served_database()).await;
    let waiting_for_connections = |at_least: usize| {
        let database = s.served_database();
        async move {
            for _ in 0..800 {
                if database.pool_status().waiting >= at_least {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            panic!("{at_least} requests never waited for a connection");
        }
    };
    let search = |token: String| {
        let remote = s.remote();
        tokio::spawn(async move {
            remote
                .send(reqwest::Method::GET, "/customers?q=ada", Some(&token), None)
                .await
        })
    };
    // The owner's search is admitted: it waits for a main connection.
    let first = search(s.owner_token.clone());
    waiting_for_connections(1).await;
    // A second search of the owner has no scan slot: 429 with the rate-limit fields.
    let refused = s.get("/customers?q=ada", &s.owner_token).await;
    assert_limited(&refused, "1");
    assert_eq!(
        refused.header("ratelimit-policy"),
        Some("\"credential\";q=1000;w=1")
    );
    assert!(refused.header("ratelimit").is_some());
    // Statistics are scans too.
    let stats = s.get("/reviews/stats", &s.owner_token).await;
    assert_limited(&stats, "1");
    // The owner's read by id is no scan: it passes, on the connection kept for point reads.
    let read = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    assert_eq!(read.data()["firstName"], "Ada");
    // Another store's search is admitted too: it waits for a connection beside the first.
    let other = search(other_owner.clone());
    waiting_for_connections(2).await;
    assert!(!first.is_finished() && !other.is_finished());
    drop(held);
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["meta"]["total"], 1);
    let other = other.await.unwrap();
    assert_eq!(other.status, StatusCode::OK, "{:?}", other.body);
    assert_eq!(other.body["meta"]["total"], 0);
    // With its scan done, the owner searches again.
    let again = s.get("/customers?q=ada", &s.owner_token).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    // The refusals are counted (they get no log line).
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for route in ["/customers", "/reviews/stats"] {
        let series = format!(
            "customers_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"429\"}} 1\n"
        );
        assert!(metrics.contains(&series), "{series} in {metrics}");
    }
}
