//! Login attempts and failures, counted per throttle key across stores.

use crate::backend::Backend;
use crate::backend::Repositories;
use chrono::{DateTime, Utc};
use customers_domain::access::throttle::{self, AttemptKeys, Policy, Refusal, Rule};
use customers_domain::access::{AttemptClaim, LoginFailureRepository};
use customers_domain::audit::AuditRepository;
use customers_domain::audit::{Actor, AuditAction, AuditEntry, AuditFilter};
use customers_domain::ids::{AuditId, StoreId};
use customers_domain::page::PageRequest;

use crate::support::{at, new_id, new_store};

const STORE: &str = "store_aaaaaaaaaaaa";

fn keys(client: &str, email: &str) -> AttemptKeys {
    AttemptKeys::new(Some(STORE), email, Some(client))
}

fn claim(keys: &AttemptKeys, minutes: i64) -> AttemptClaim {
    AttemptClaim {
        attempt: new_id("att"),
        keys: keys.clone(),
        now: at(minutes),
        policy: Policy::default(),
    }
}

/// The rows of `these` since `at(minutes)`, by key and time.
async fn since(
    db: &impl Repositories,
    these: &[&str],
    minutes: i64,
) -> Vec<(String, DateTime<Utc>)> {
    let keys = these.iter().map(|k| (*k).to_owned()).collect();
    let mut rows = db
        .failures_since(keys, at(minutes))
        .await
        .expect("the rows are read");
    rows.sort();
    rows
}

fn row(key: &Option<String>, minutes: i64) -> (String, DateTime<Utc>) {
    (key.clone().expect("a key"), at(minutes))
}

fn entry(store: &StoreId, action: AuditAction) -> AuditEntry {
    AuditEntry::new(
        AuditId::from_stored(new_id("aud")),
        store.clone(),
        at(0),
        Actor::Anonymous,
        action,
    )
    .from_address(Some("192.0.2.7"))
}

/// The store's entries of failed and refused logins, newest first.
async fn trail(db: &impl Repositories, store: &StoreId) -> Vec<AuditEntry> {
    let page = PageRequest::new(Some(1), Some(100)).unwrap();
    AuditRepository::list(db, store, &AuditFilter::default(), page)
        .await
        .expect("the trail is read")
        .0
        .into_iter()
        .filter(|e| {
            matches!(
                e.action,
                AuditAction::LoginFailed | AuditAction::LoginRefused
            )
        })
        .collect()
}

pub async fn attempts_are_counted_per_key_and_refused_past_the_limit<B: Backend>(t: &B) {
    let db = t.repos();
    let chef = keys("192.0.2.7", "chef@example.dk");
    for minute in 0..5 {
        let granted = db.claim_attempt(claim(&chef, minute)).await.unwrap();
        assert_eq!(granted, Ok(()), "attempt {minute}");
    }
    let refused = db.claim_attempt(claim(&chef, 5)).await.unwrap();
    assert_eq!(
        refused,
        Err(Refusal {
            rule: Rule::AddressAndAccount,
            failures: 5,
            retry_after_secs: 10 * 60
        })
    );
    // The refused attempt left no row; each granted one has one row per key.
    let client = chef.client.as_deref().unwrap();
    assert_eq!(since(db, &[client], -60).await.len(), 5);
    assert_eq!(
        since(db, &[chef.pair.as_deref().unwrap()], 3).await,
        vec![row(&chef.pair, 3), row(&chef.pair, 4)]
    );
    // Another account from the same address is another pair, but the same address.
    let other = keys("192.0.2.7", "other@example.dk");
    assert_eq!(db.claim_attempt(claim(&other, 5)).await.unwrap(), Ok(()));
    // Once the oldest leaves the window, the pair may try again.
    assert_eq!(db.claim_attempt(claim(&chef, 16)).await.unwrap(), Ok(()));
    // The ceiling of an address is the policy's.
    let strict = AttemptClaim {
        policy: Policy {
            max_failures_per_address: 5,
        },
        ..claim(&keys("192.0.2.7", "third@example.dk"), 16)
    };
    assert_eq!(
        db.claim_attempt(strict)
            .await
            .unwrap()
            .map_err(|r| (r.rule, r.failures)),
        Err((Rule::Address, 5))
    );
}

pub async fn concurrent_claims_let_at_most_the_limit_through<B: Backend>(t: &B) {
    let db = t.repos();
    let chef = keys("192.0.2.7", "chef@example.dk");
    let racers: Vec<_> = (0..30)
        .map(|_| {
            let (db, claim) = (db.clone(), claim(&chef, 0));
            tokio::spawn(async move { db.claim_attempt(claim).await.unwrap() })
        })
        .collect();
    let mut granted = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => granted += 1,
            Err(refusal) => assert_eq!(refusal.rule, Rule::AddressAndAccount),
        }
    }
    assert_eq!(granted, throttle::PAIR_MAX_FAILURES);
    assert_eq!(
        since(db, &[chef.pair.as_deref().unwrap()], -60).await.len(),
        throttle::PAIR_MAX_FAILURES
    );
}

pub async fn a_failed_attempt_stays_counted_and_a_forgotten_one_goes<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let chef = keys("192.0.2.7", "chef@example.dk");
    let first = claim(&chef, 1);
    let second = claim(&chef, 2);
    let third = claim(&chef, 3);
    for claim in [&first, &second, &third] {
        assert_eq!(db.claim_attempt(claim.clone()).await.unwrap(), Ok(()));
    }
    let failed = entry(&store, AuditAction::LoginFailed);
    db.fail_attempt(first.attempt.clone(), Some(failed.clone()))
        .await
        .unwrap();
    assert_eq!(trail(db, &store).await, vec![failed]);
    // A busy check is forgotten alone: the failure and the other attempt stay.
    db.forget_attempt(second.attempt.clone(), vec![])
        .await
        .unwrap();
    let client = chef.client.as_deref().unwrap();
    assert_eq!(
        since(db, &[client], -60).await,
        vec![row(&chef.client, 1), row(&chef.client, 3)]
    );
    // A success forgets its attempt and clears the keys asked, not the address.
    let clear = vec![chef.account.clone().unwrap(), chef.pair.clone().unwrap()];
    db.forget_attempt(third.attempt.clone(), clear)
        .await
        .unwrap();
    assert_eq!(
        since(
            db,
            &[
                chef.account.as_deref().unwrap(),
                chef.pair.as_deref().unwrap(),
                client
            ],
            -60
        )
        .await,
        vec![row(&chef.client, 1)]
    );
    // The failure, no longer an attempt, is not forgotten by its old id.
    db.forget_attempt(first.attempt.clone(), vec![])
        .await
        .unwrap();
    assert_eq!(since(db, &[client], -60).await.len(), 1);
}

pub async fn a_refusal_is_noted_once_per_key_and_window<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let key = "pair:store_aaaaaaaaaaaa:192.0.2.7/chef@example.dk".to_owned();
    let first = entry(&store, AuditAction::LoginRefused).with_failure_count(5);
    assert!(
        db.note_refusal(key.clone(), at(0), at(-15), Some(first.clone()))
            .await
            .unwrap()
    );
    let again = entry(&store, AuditAction::LoginRefused).with_failure_count(5);
    assert!(
        !db.note_refusal(key.clone(), at(1), at(-14), Some(again.clone()))
            .await
            .unwrap()
    );
    // Another key is noted on its own.
    assert!(
        db.note_refusal("client:192.0.2.7".into(), at(1), at(-14), None)
            .await
            .unwrap()
    );
    assert_eq!(trail(db, &store).await, vec![first]);
    // A refusal note does not count as a failure of the key.
    assert_eq!(since(db, &[key.as_str()], -60).await, vec![]);
    // After the window, the next refusal is noted again.
    assert!(
        db.note_refusal(key, at(16), at(1), Some(again))
            .await
            .unwrap()
    );
    assert_eq!(trail(db, &store).await.len(), 2);
}

pub async fn the_sweep_forgets_every_old_row<B: Backend>(t: &B) {
    let db = t.repos();
    let chef = keys("192.0.2.7", "chef@example.dk");
    let other = keys("2001:db8::1", "other@example.dk");
    db.claim_attempt(claim(&chef, 0)).await.unwrap().unwrap();
    db.claim_attempt(claim(&other, 10)).await.unwrap().unwrap();
    db.note_refusal("client:192.0.2.7".into(), at(0), at(-15), None)
        .await
        .unwrap();
    // Rows before the instant go, whatever their key; one exactly at it stays.
    assert_eq!(db.forget_before(at(10)).await, Ok(4));
    assert_eq!(
        since(db, &[chef.client.as_deref().unwrap()], -60).await,
        vec![]
    );
    assert_eq!(
        since(db, &[other.client.as_deref().unwrap()], -60).await,
        vec![row(&other.client, 10)]
    );
    assert_eq!(db.forget_before(at(10)).await, Ok(0));
    assert_eq!(db.forget_before(at(11)).await, Ok(3));
}
