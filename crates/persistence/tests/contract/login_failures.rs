//! Failed logins, counted per throttle key across stores.

use chrono::{DateTime, Utc};
use customers_domain::ports::LoginFailureRepository;
use customers_persistence::Database;
use customers_persistence::testing::TestDatabase;

use crate::support::at;

const ACCOUNT: &str = "account:store_aaaaaaaaaaaa:chef@example.dk";
const CLIENT: &str = "client:192.0.2.7";
const OTHER_CLIENT: &str = "client:2001:db8::1";

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

async fn record(db: &Database, these: &[&str], minutes: i64, forget_before: i64) {
    db.record_failure(keys(these), at(minutes), at(forget_before), None)
        .await
        .expect("the failure is recorded");
}

/// The failures of `these` since `at(minutes)`, by key and time.
async fn since(db: &Database, these: &[&str], minutes: i64) -> Vec<(String, DateTime<Utc>)> {
    let mut failures = db
        .failures_since(keys(these), at(minutes))
        .await
        .expect("the failures are read");
    failures.sort();
    failures
}

fn failure(key: &str, minutes: i64) -> (String, DateTime<Utc>) {
    (key.to_owned(), at(minutes))
}

pub async fn login_failures_are_counted_per_key_since_an_instant(t: &TestDatabase) {
    let db = t.database();
    assert_eq!(since(db, &[ACCOUNT, CLIENT], -60).await, vec![]);
    assert_eq!(db.failures_since(vec![], at(0)).await, Ok(vec![]));

    record(db, &[ACCOUNT, CLIENT], 1, -14).await;
    record(db, &[ACCOUNT], 2, -13).await;
    record(db, &[OTHER_CLIENT], 3, -12).await;
    // A key given twice is one failure.
    record(db, &[CLIENT, CLIENT], 4, -11).await;

    assert_eq!(
        since(db, &[ACCOUNT, CLIENT], -60).await,
        vec![
            failure(ACCOUNT, 1),
            failure(ACCOUNT, 2),
            failure(CLIENT, 1),
            failure(CLIENT, 4),
        ]
    );
    // At or after the instant; keys not asked for stay out.
    assert_eq!(
        since(db, &[ACCOUNT, CLIENT, "client:unknown"], 2).await,
        vec![failure(ACCOUNT, 2), failure(CLIENT, 4)]
    );
    assert_eq!(
        since(db, &[OTHER_CLIENT], 0).await,
        vec![failure(OTHER_CLIENT, 3)]
    );
    assert_eq!(since(db, &[CLIENT], 5).await, vec![]);
}

pub async fn old_login_failures_are_forgotten_when_a_key_fails_again(t: &TestDatabase) {
    let db = t.database();
    record(db, &[ACCOUNT, CLIENT], 0, -15).await;
    record(db, &[ACCOUNT, CLIENT], 10, -5).await;
    record(db, &[OTHER_CLIENT], 0, -15).await;

    // Failures before `forget_before` go; one exactly at it stays.
    record(db, &[ACCOUNT, CLIENT], 20, 10).await;
    assert_eq!(
        since(db, &[ACCOUNT, CLIENT], -60).await,
        vec![
            failure(ACCOUNT, 10),
            failure(ACCOUNT, 20),
            failure(CLIENT, 10),
            failure(CLIENT, 20),
        ]
    );
    // Only the keys that failed now are pruned.
    assert_eq!(
        since(db, &[OTHER_CLIENT], -60).await,
        vec![failure(OTHER_CLIENT, 0)]
    );
    // A new failure is kept even when it is older than `forget_before`.
    record(db, &[ACCOUNT], 25, 30).await;
    assert_eq!(since(db, &[ACCOUNT], -60).await, vec![failure(ACCOUNT, 25)]);
}

pub async fn clearing_forgets_only_that_key(t: &TestDatabase) {
    let db = t.database();
    record(db, &[ACCOUNT, CLIENT], 1, -14).await;
    record(db, &[ACCOUNT, OTHER_CLIENT], 2, -13).await;

    db.clear(ACCOUNT.to_owned()).await.unwrap();
    assert_eq!(
        since(db, &[ACCOUNT, CLIENT, OTHER_CLIENT], -60).await,
        vec![failure(CLIENT, 1), failure(OTHER_CLIENT, 2)]
    );
    // Clearing a key without failures is fine.
    db.clear(ACCOUNT.to_owned()).await.unwrap();
    db.clear("client:unknown".to_owned()).await.unwrap();
    assert_eq!(since(db, &[CLIENT, OTHER_CLIENT], -60).await.len(), 2);
}
