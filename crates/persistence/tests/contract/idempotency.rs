//! Idempotency keys: proceed, replay, mismatch, in progress, lease takeover, takeover of a
//! claim whose holder gave it up or died, lifetime, release, races and scope.

use crate::backend::Backend;
use crate::backend::Repositories;
use chrono::Duration;
use customers_domain::access::CredentialRepository;
use customers_domain::access::{Credential, SecretKind};
use customers_domain::idempotency::IdempotencyRepository;
use customers_domain::idempotency::{Begin, IdempotencyScope, StoredResponse};
use customers_domain::ids::{CredentialId, StoreId};

use customers_persistence::testing::{TestDatabase, claims_session_pid};

use crate::support::{at, audit, new_id, new_store_with_token};

const LEASE: Duration = Duration::seconds(30);
const LIFETIME: Duration = Duration::hours(24);

fn scope(store: &StoreId, credential: &CredentialId, key: &str) -> IdempotencyScope {
    IdempotencyScope {
        store_id: store.clone(),
        credential_id: credential.clone(),
        key: key.into(),
    }
}

fn response(text: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        body: text.as_bytes().to_vec(),
    }
}

fn proceed(claim: &str) -> Begin {
    Begin::Proceed {
        claim: claim.into(),
    }
}

/// `begin` at `at(minutes)` with the usual lease and lifetime.
async fn begin(
    db: &impl Repositories,
    scope: &IdempotencyScope,
    digest: &str,
    claim: &str,
    minutes: i64,
) -> Begin {
    db.begin(scope, None, digest, claim, at(minutes), LEASE, LIFETIME)
        .await
        .expect("begin works")
}

pub async fn a_new_key_proceeds_and_a_repeat_replays<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "7f3a9b2c-0001");
    assert_eq!(
        begin(db, &key, "digest-a", "claim-1", 0).await,
        proceed("claim-1")
    );
    // Large and binary bodies come back byte for byte.
    let mut body = vec![0_u8, 255, 10, 13];
    body.extend(std::iter::repeat_n(b'x', 70_000));
    let stored = StoredResponse { status: 201, body };
    db.complete(&key, "claim-1", &stored).await.unwrap();
    assert_eq!(
        begin(db, &key, "digest-a", "claim-2", 1).await,
        Begin::Replay(stored.clone())
    );
    // Long after the lease, still a replay.
    assert_eq!(
        begin(db, &key, "digest-a", "claim-3", 600).await,
        Begin::Replay(stored)
    );
}

pub async fn another_request_with_the_key_is_a_mismatch<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "k1");
    begin(db, &key, "digest-a", "claim-1", 0).await;
    assert_eq!(
        begin(db, &key, "digest-b", "claim-2", 0).await,
        Begin::Mismatch
    );
    db.complete(&key, "claim-1", &response("done"))
        .await
        .unwrap();
    assert_eq!(
        begin(db, &key, "digest-b", "claim-3", 1).await,
        Begin::Mismatch
    );
}

pub async fn a_running_request_holds_its_key_until_its_lease_ends<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "k1");
    let start = at(0);
    let begin_at = |seconds: i64, claim: &'static str| {
        let key = key.clone();
        async move {
            db.begin(
                &key,
                None,
                "digest-a",
                claim,
                start + Duration::seconds(seconds),
                LEASE,
                LIFETIME,
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(begin_at(0, "claim-1").await, proceed("claim-1"));
    assert_eq!(begin_at(29, "claim-2").await, Begin::InProgress);
    // The holder crashed: the lease ran out; the next request takes over with the first
    // claim, so that anything the first wrote counts as its own.
    assert_eq!(begin_at(31, "claim-3").await, proceed("claim-1"));
    // The takeover holds a new lease.
    assert_eq!(begin_at(60, "claim-4").await, Begin::InProgress);
    assert_eq!(begin_at(62, "claim-5").await, proceed("claim-1"));
    // The claim (whoever runs it) completes the key.
    db.complete(&key, "claim-1", &response("done"))
        .await
        .unwrap();
    assert_eq!(
        begin_at(63, "claim-6").await,
        Begin::Replay(response("done"))
    );
}

pub async fn keys_are_forgotten_after_their_lifetime<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "k1");
    let stale = scope(&store, &credential, "k2");
    begin(db, &key, "digest-a", "claim-1", 0).await;
    db.complete(&key, "claim-1", &response("first"))
        .await
        .unwrap();
    begin(db, &stale, "digest-a", "claim-2", 0).await;
    let day = 24 * 60;
    assert_eq!(
        begin(db, &key, "digest-a", "claim-3", day - 1).await,
        Begin::Replay(response("first"))
    );
    // A day later the key is new, whatever the request.
    assert_eq!(
        begin(db, &key, "digest-b", "claim-4", day + 1).await,
        proceed("claim-4")
    );
    // The old claim can no longer complete it.
    db.complete(&key, "claim-1", &response("late"))
        .await
        .unwrap();
    assert_eq!(
        begin(db, &key, "digest-b", "claim-5", day + 1).await,
        Begin::InProgress
    );
    db.complete(&key, "claim-4", &response("second"))
        .await
        .unwrap();
    assert_eq!(
        begin(db, &key, "digest-b", "claim-6", day + 2).await,
        Begin::Replay(response("second"))
    );
    // The other old key was swept too: it is new again.
    assert_eq!(
        begin(db, &stale, "digest-c", "claim-7", day + 2).await,
        proceed("claim-7")
    );
}

pub async fn a_released_key_is_free<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "k1");
    begin(db, &key, "digest-a", "claim-1", 0).await;
    // Only the holder's claim releases it.
    db.release(&key, "claim-other").await.unwrap();
    assert_eq!(
        begin(db, &key, "digest-a", "claim-2", 0).await,
        Begin::InProgress
    );
    db.release(&key, "claim-1").await.unwrap();
    assert_eq!(
        begin(db, &key, "digest-b", "claim-3", 0).await,
        proceed("claim-3")
    );
    // A completed key is not released.
    db.complete(&key, "claim-3", &response("kept"))
        .await
        .unwrap();
    db.release(&key, "claim-3").await.unwrap();
    assert_eq!(
        begin(db, &key, "digest-b", "claim-4", 1).await,
        Begin::Replay(response("kept"))
    );
}

/// Ten requests with one new key at once: exactly one proceeds.
pub async fn concurrent_first_requests_let_exactly_one_proceed<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "k-race");
    let racers: Vec<_> = (0..10)
        .map(|n| {
            let (db, key) = (db.clone(), key.clone());
            tokio::spawn(async move {
                db.begin(
                    &key,
                    None,
                    "digest-a",
                    &format!("claim-{n}"),
                    at(0),
                    LEASE,
                    LIFETIME,
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut proceeded = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            Begin::Proceed { claim } => proceeded.push(claim),
            Begin::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(proceeded.len(), 1, "{proceeded:?}");
    db.complete(&key, &proceeded[0], &response("once"))
        .await
        .unwrap();
    assert_eq!(
        begin(db, &key, "digest-a", "claim-x", 1).await,
        Begin::Replay(response("once"))
    );
}

pub async fn keys_belong_to_one_store_and_credential<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let (other_store, other_token) = new_store_with_token(db).await;
    let api_key = Credential {
        id: CredentialId::from_stored(new_id("key")),
        store_id: store.clone(),
        kind: SecretKind::ApiKey,
        user_id: None,
        name: "POS".into(),
        scopes: vec![],
        digest: new_id("digest"),
        created_at: at(0),
        expires_at: None,
    };
    CredentialRepository::insert(db, &api_key, &audit(&api_key.store_id))
        .await
        .unwrap();
    let mine = scope(&store, &credential, "shared-key");
    begin(db, &mine, "digest-a", "claim-1", 0).await;
    db.complete(&mine, "claim-1", &response("mine"))
        .await
        .unwrap();
    let theirs = scope(&store, &api_key.id, "shared-key");
    assert_eq!(
        begin(db, &theirs, "digest-b", "claim-2", 0).await,
        proceed("claim-2")
    );
    let elsewhere = scope(&other_store, &other_token, "shared-key");
    assert_eq!(
        begin(db, &elsewhere, "digest-c", "claim-3", 0).await,
        proceed("claim-3")
    );
    // Completing or releasing through another scope touches nothing.
    db.complete(&theirs, "claim-1", &response("hijack"))
        .await
        .unwrap();
    db.release(&elsewhere, "claim-1").await.unwrap();
    assert_eq!(
        begin(db, &mine, "digest-a", "claim-4", 1).await,
        Begin::Replay(response("mine"))
    );
    assert_eq!(
        begin(db, &theirs, "digest-b", "claim-5", 0).await,
        Begin::InProgress
    );
}

/// A claim holds its key while its holder lives, even past nothing but a second; given up
/// without an answer (`abandon`, after a 5xx), the next request takes it over at once.
pub async fn a_live_holder_keeps_its_key_until_it_gives_it_up<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "k-live");
    assert_eq!(
        begin(db, &key, "digest-a", "claim-1", 0).await,
        proceed("claim-1")
    );
    assert_eq!(
        begin(db, &key, "digest-a", "claim-2", 0).await,
        Begin::InProgress
    );
    // Only the holder's claim gives it up.
    db.abandon(&key, "claim-other").await.unwrap();
    assert_eq!(
        begin(db, &key, "digest-a", "claim-3", 0).await,
        Begin::InProgress
    );
    db.abandon(&key, "claim-1").await.unwrap();
    // Well within the lease, the claim is taken over with its first name.
    assert_eq!(
        begin(db, &key, "digest-a", "claim-4", 0).await,
        proceed("claim-1")
    );
    assert_eq!(
        begin(db, &key, "digest-a", "claim-5", 0).await,
        Begin::InProgress,
        "the taker holds the key"
    );
    // A given-up claim still answers to another request with the key as a mismatch.
    db.abandon(&key, "claim-1").await.unwrap();
    assert_eq!(
        begin(db, &key, "digest-b", "claim-6", 0).await,
        Begin::Mismatch
    );
    // A completed key is not given up.
    assert_eq!(
        begin(db, &key, "digest-a", "claim-7", 0).await,
        proceed("claim-1")
    );
    db.complete(&key, "claim-1", &response("done"))
        .await
        .unwrap();
    db.abandon(&key, "claim-1").await.unwrap();
    assert_eq!(
        begin(db, &key, "digest-a", "claim-8", 0).await,
        Begin::Replay(response("done"))
    );
}

/// The process holding a claim died: the next process takes the claim over at once, long
/// before the lease ends, and then holds it itself; the dead process can no longer give it
/// up.
pub async fn a_claim_whose_process_died_is_taken_over_at_once<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "k-crash");
    let done = scope(&store, &credential, "k-done");
    assert_eq!(
        begin(db, &key, "digest-a", "claim-1", 0).await,
        proceed("claim-1")
    );
    begin(db, &done, "digest-a", "claim-2", 0).await;
    db.complete(&done, "claim-2", &response("kept"))
        .await
        .unwrap();
    let many: Vec<_> = (0..8)
        .map(|n| scope(&store, &credential, &format!("k-many-{n}")))
        .collect();
    for (n, key) in many.iter().enumerate() {
        begin(db, key, "digest-a", &format!("claim-many-{n}"), 0).await;
    }

    let after = t.after_a_crash().await;
    // The dead process's claims are all taken over at once, side by side.
    let takers: Vec<_> = many
        .iter()
        .map(|key| {
            let (after, key) = (after.clone(), key.clone());
            tokio::spawn(async move {
                after
                    .begin(&key, None, "digest-a", "claim-x", at(0), LEASE, LIFETIME)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for (n, taker) in takers.into_iter().enumerate() {
        assert_eq!(taker.await.unwrap(), proceed(&format!("claim-many-{n}")));
    }
    assert_eq!(
        begin(&after, &key, "digest-a", "claim-3", 0).await,
        proceed("claim-1")
    );
    assert_eq!(
        begin(&after, &key, "digest-a", "claim-4", 0).await,
        Begin::InProgress,
        "the new process holds the key"
    );
    // A completed key is replayed across the restart, a mismatch is still one.
    assert_eq!(
        begin(&after, &done, "digest-a", "claim-5", 0).await,
        Begin::Replay(response("kept"))
    );
    assert_eq!(
        begin(&after, &key, "digest-b", "claim-6", 0).await,
        Begin::Mismatch
    );
    // The dead process's claim (the same name) is no longer its own to give up.
    db.abandon(&key, "claim-1").await.unwrap();
    assert_eq!(
        begin(&after, &key, "digest-a", "claim-7", 0).await,
        Begin::InProgress
    );
    after
        .complete(&key, "claim-1", &response("done"))
        .await
        .unwrap();
    assert_eq!(
        begin(&after, &key, "digest-a", "claim-8", 1).await,
        Begin::Replay(response("done"))
    );
}

/// A second process on the same database while the first lives. PostgreSQL: the first's claim
/// holds its key until the session that shows it alive ends (as when its process dies), then
/// it is taken over at once. SQLite serves one process at a time: a claim of another process
/// is one whose process is gone, and is taken over at once.
pub async fn a_claim_of_another_live_process_holds_until_its_session_ends(t: &TestDatabase) {
    let db = t.database();
    let (store, credential) = new_store_with_token(db).await;
    let key = scope(&store, &credential, "k-other");
    assert_eq!(
        begin(db, &key, "digest-a", "claim-1", 0).await,
        proceed("claim-1")
    );
    let other = t.another_process().await;
    match t.backend() {
        customers_persistence::Backend::Postgres => {
            assert_eq!(
                begin(&other, &key, "digest-a", "claim-2", 0).await,
                Begin::InProgress,
                "the first process lives"
            );
            let pid = claims_session_pid(db).await.expect("an open session");
            t.execute_sql(&format!("SELECT pg_terminate_backend({pid}, 5000)"))
                .await;
            assert_eq!(
                begin(&other, &key, "digest-a", "claim-3", 0).await,
                proceed("claim-1")
            );
            // The first process opens a session again, under its number, and still sees the
            // key held: by the other process now.
            assert_eq!(
                begin(db, &key, "digest-a", "claim-4", 0).await,
                Begin::InProgress
            );
            let reopened = claims_session_pid(db).await.expect("a session again");
            assert_ne!(reopened, pid);
        }
        customers_persistence::Backend::Sqlite => {
            assert_eq!(claims_session_pid(db).await, None);
            assert_eq!(
                begin(&other, &key, "digest-a", "claim-2", 0).await,
                proceed("claim-1")
            );
        }
    }
    other.close();
}
