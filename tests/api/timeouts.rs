//! A database that does not answer in time gives the contract's 503, never a hang, and never
//! a half-written change.

use std::time::{Duration, Instant};

use customers_tests::testing::TestDatabase;
use customers_tests::{TestServer, json, on_both_backends};
use reqwest::StatusCode;

on_both_backends!(
    a_statement_that_waits_too_long_is_cancelled_with_503,
    a_request_that_takes_too_long_answers_503_and_its_write_completes_whole,
    reads_cut_short_by_the_deadline_all_answer_503,
);

async fn a_statement_that_waits_too_long_is_cancelled_with_503(database: TestDatabase) {
    let s = TestServer::start_with(database, |options| {
        options.database.statement_timeout = Duration::from_millis(300);
    })
    .await;
    let id = s.customer(json!({"firstName": "Before"})).await;
    let lock = s.database().hold_customer_writes().await;
    let started = Instant::now();
    let refused = s
        .patch(
            &format!("/customers/{id}"),
            &s.owner_token,
            json!({"firstName": "During"}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.code(), "SERVICE_UNAVAILABLE");
    assert!(refused.header("retry-after").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    lock.release().await;

    let customer = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(
        customer.data()["firstName"],
        "Before",
        "nothing was written"
    );
    let later = s
        .patch(
            &format!("/customers/{id}"),
            &s.owner_token,
            json!({"firstName": "After"}),
        )
        .await;
    assert_eq!(later.status, StatusCode::OK, "it recovers by itself");
}

async fn a_request_that_takes_too_long_answers_503_and_its_write_completes_whole(
    database: TestDatabase,
) {
    let s = TestServer::start_with(database, |options| {
        options.request_timeout = Duration::from_millis(300);
    })
    .await;
    let lock = s.database().hold_customer_writes().await;
    let started = Instant::now();
    let late = s
        .post(
            "/customers",
            &s.owner_token,
            json!({"firstName": "Patient", "email": "patient@example.dk"}),
        )
        .await;
    assert_eq!(
        late.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        late.body
    );
    assert_eq!(late.code(), "SERVICE_UNAVAILABLE");
    assert!(late.header("retry-after").is_some());
    assert!(late.header("x-request-id").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    lock.release().await;

    // The write was already under way: it finishes as one transaction, with its audit entry.
    let mut found = serde_json::Value::Null;
    for _ in 0..50 {
        let list = s
            .get("/customers?q=patient@example.dk", &s.owner_token)
            .await;
        if list.body["meta"]["total"] == 1 {
            found = list.data()[0].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found["firstName"], "Patient");
    let id = found["id"].as_str().unwrap();
    let trail = s
        .get(&format!("/audit?customerId={id}"), &s.owner_token)
        .await;
    assert_eq!(trail.body["meta"]["total"], 1);
    assert_eq!(trail.data()[0]["action"], "customer.created");
}

/// Searches that each outlast the deadline while their statements run (a scan of 50,000
/// customers): every one answers 503 in the envelope. None may lose its connection, as a
/// handler dropped in the middle of an embedded SQLite statement once did (its worker
/// panicked); afterwards the service answers normally.
async fn reads_cut_short_by_the_deadline_all_answer_503(database: TestDatabase) {
    let s = TestServer::start_with(database, |options| {
        options.request_timeout = Duration::from_millis(5);
    })
    .await;
    let store = &s.store_id;
    let timestamp = match s.database().backend() {
        customers_persistence::Backend::Sqlite => "'2026-01-01 00:00:00'",
        customers_persistence::Backend::Postgres => "TIMESTAMP '2026-01-01 00:00:00'",
    };
    s.database()
        .execute_sql(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
             INSERT INTO customers (store_id, id, first_name, accepts_marketing, locale,
                                    search_text, created_at, updated_at)
             SELECT '{store}', 'cust_fixture' || i, 'Fixture', {no}, 'da-DK',
                    'fixture ' || i, {timestamp}, {timestamp} FROM n;
             UPDATE stores SET customer_count = customer_count + 50000 WHERE id = '{store}';",
            no = match s.database().backend() {
                customers_persistence::Backend::Sqlite => "0",
                customers_persistence::Backend::Postgres => "FALSE",
            },
        ))
        .await;
    let searches: Vec<_> = (0..24)
        .map(|i| {
            let request = s
                .client
                .get(format!("{}/customers?q=nobody{i}", s.base))
                .bearer_auth(&s.owner_token)
                .send();
            tokio::spawn(request)
        })
        .collect();
    for search in searches {
        let answer = search
            .await
            .unwrap()
            .expect("the server answers, and keeps the connection");
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE", "{body}");
    }
    // The cut-short statements ran to their end and gave their connections back.
    let mut answered = None;
    for _ in 0..100 {
        let missing = s.get("/customers/cust_missing", &s.owner_token).await;
        if missing.status == StatusCode::NOT_FOUND {
            answered = Some(missing);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        answered.map(|reply| reply.code().to_owned()).as_deref(),
        Some("NOT_FOUND")
    );
}
