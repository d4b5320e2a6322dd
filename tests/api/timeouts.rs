//! A database that does not answer in time gives the contract's 503, never a hang, and never
//! a half-written change.

use std::time::{Duration, Instant};

use customers_tests::testing::TestDatabase;
use customers_tests::{TestServer, json};
use reqwest::StatusCode;

/// Generates a SQLite and a PostgreSQL test from `async fn case(TestDatabase)`.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::TestDatabase::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(database) = super::TestDatabase::postgres().await {
                        super::$case(database).await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    a_statement_that_waits_too_long_is_cancelled_with_503,
    a_request_that_takes_too_long_answers_503_and_its_write_completes_whole,
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
