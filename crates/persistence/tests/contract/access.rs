//! Stores, staff users and credentials.

use crate::backend::Backend;
use crate::backend::Repositories;
use customers_domain::access::{
    ApiKey, Credential, Holder, Principal, Role, Scope, SecretKind, StaffUser,
};
use customers_domain::access::{CredentialRepository, UserRepository};
use customers_domain::customer::{Email, PersonName};
use customers_domain::ids::{CredentialId, StoreId, UserId};
use customers_domain::page::PageRequest;
use customers_domain::ports::{RepoError, Unique};
use customers_domain::store::StoreRepository;
use customers_persistence::testing::TestDatabase;

use crate::support::{at, audit, new_id, new_store, store_fixture};

fn user(store: &StoreId, email: &str, role: Role, minutes: i64) -> StaffUser {
    StaffUser {
        id: UserId::from_stored(new_id("usr")),
        store_id: store.clone(),
        email: Email::from_stored(email.into()),
        name: None,
        role,
        created_at: at(minutes),
    }
}

fn api_key(store: &StoreId, digest: &str, scopes: &[Scope]) -> Credential {
    Credential {
        id: CredentialId::from_stored(new_id("key")),
        store_id: store.clone(),
        kind: SecretKind::ApiKey,
        user_id: None,
        name: "POS terminal".into(),
        scopes: scopes.to_vec(),
        digest: digest.into(),
        created_at: at(0),
        expires_at: None,
    }
}

fn staff_token(user: &StaffUser, digest: &str, expires_in_minutes: Option<i64>) -> Credential {
    Credential {
        id: CredentialId::from_stored(new_id("key")),
        store_id: user.store_id.clone(),
        kind: SecretKind::StaffToken,
        user_id: Some(user.id.clone()),
        name: "login".into(),
        scopes: Vec::new(),
        digest: digest.into(),
        created_at: at(0),
        expires_at: expires_in_minutes.map(at),
    }
}

async fn add_user(db: &impl Repositories, user: &StaffUser) {
    UserRepository::insert(db, user, "hash", &audit(&user.store_id))
        .await
        .expect("the user is added");
}

async fn add_credential(db: &impl Repositories, credential: &Credential) {
    CredentialRepository::insert(db, credential, &audit(&credential.store_id))
        .await
        .expect("the credential is added");
}

pub async fn users_are_unique_per_store_and_listed_oldest_first<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let chef = StaffUser {
        name: Some(PersonName::from_stored("Chef Ada".into())),
        ..user(&store, "Chef@Example.dk", Role::Manager, 5)
    };
    UserRepository::insert(db, &chef, "argon2id$chef", &audit(&chef.store_id))
        .await
        .unwrap();
    let twin = user(&store, "chef@EXAMPLE.dk", Role::Staff, 6);
    assert_eq!(
        UserRepository::insert(db, &twin, "x", &audit(&twin.store_id)).await,
        Err(RepoError::Conflict(Unique::UserEmail))
    );
    add_user(db, &user(&other, "chef@example.dk", Role::Admin, 6)).await;

    let found = db.find_by_email(&store, "chef@example.dk").await.unwrap();
    assert_eq!(found, Some((chef.clone(), "argon2id$chef".to_owned())));
    assert_eq!(
        db.find_by_email(&store, "nobody@example.dk").await,
        Ok(None)
    );
    let elsewhere = db
        .find_by_email(&other, "chef@example.dk")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (elsewhere.0.role, elsewhere.0.store_id),
        (Role::Admin, other.clone())
    );

    // The owner (created at 0) first, then by creation time, ties by id.
    let waiter = user(&store, "waiter@example.dk", Role::Staff, 7);
    let cook = user(&store, "cook@example.dk", Role::Staff, 7);
    add_user(db, &waiter).await;
    add_user(db, &cook).await;
    let (all, total) =
        UserRepository::list(db, &store, PageRequest::new(Some(1), Some(10)).unwrap())
            .await
            .unwrap();
    assert_eq!(total, 4);
    let mut tied = [waiter.id.clone(), cook.id.clone()];
    tied.sort();
    let ids: Vec<UserId> = all.iter().map(|u| u.id.clone()).collect();
    assert_eq!(
        ids[1..],
        [chef.id.clone(), tied[0].clone(), tied[1].clone()]
    );
    assert_eq!(all[0].role, Role::Owner);
    assert_eq!(all[1], chef);
    let (second, total) =
        UserRepository::list(db, &store, PageRequest::new(Some(2), Some(3)).unwrap())
            .await
            .unwrap();
    assert_eq!((second.len(), total), (1, 4));
    assert_eq!(second[0].id, tied[1]);
}

pub async fn staff_tokens_and_api_keys_are_found_while_active<B: Backend>(t: &B) {
    let db = t.repos();
    let fixture = store_fixture();
    db.create_with_owner(
        &fixture.store,
        &fixture.owner,
        "",
        &fixture.token,
        &audit(&fixture.store.id),
    )
    .await
    .unwrap();
    let store = fixture.store.id.clone();

    // The owner's token: staff, with role and email.
    let owner = db
        .find_active(Some(store.clone()), &fixture.token.digest, at(60))
        .await
        .unwrap();
    assert_eq!(
        owner,
        Some(Principal {
            store_id: store.clone(),
            credential_id: fixture.token.id.clone(),
            holder: Holder::Staff {
                user_id: fixture.owner.id.clone(),
                email: fixture.owner.email.as_str().to_owned(),
                role: Role::Owner,
            },
        })
    );

    let key = api_key(
        &store,
        "digest-of-key",
        &[Scope::ReadCustomers, Scope::WriteOrders],
    );
    add_credential(db, &key).await;
    let found = db
        .find_active(Some(store.clone()), "digest-of-key", at(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.credential_id, key.id);
    assert_eq!(
        found.holder,
        Holder::ApiKey {
            name: "POS terminal".into(),
            scopes: vec![Scope::ReadCustomers, Scope::WriteOrders],
        }
    );
    let bare = api_key(&store, "digest-of-bare-key", &[]);
    add_credential(db, &bare).await;
    let found = db
        .find_active(Some(store.clone()), "digest-of-bare-key", at(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.holder,
        Holder::ApiKey {
            name: "POS terminal".into(),
            scopes: vec![]
        }
    );

    // A login token is active until its expiry, not at it.
    let manager = user(&store, "manager@example.dk", Role::Manager, 1);
    add_user(db, &manager).await;
    let login = staff_token(&manager, "digest-of-login", Some(120));
    add_credential(db, &login).await;
    let active = db
        .find_active(Some(store.clone()), "digest-of-login", at(119))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.role(), Some(Role::Manager));
    assert_eq!(
        db.find_active(Some(store.clone()), "digest-of-login", at(120))
            .await,
        Ok(None)
    );
    assert_eq!(
        db.find_active(Some(store.clone()), "digest-of-login", at(121))
            .await,
        Ok(None)
    );

    // Revoked: gone for good.
    assert_eq!(
        db.revoke(&store, &key.id, at(70), &audit(&store)).await,
        Ok(true)
    );
    assert_eq!(
        db.find_active(Some(store.clone()), "digest-of-key", at(71))
            .await,
        Ok(None)
    );
    assert_eq!(
        db.revoke(&store, &key.id, at(72), &audit(&store)).await,
        Ok(false)
    );
    // An expired credential is not active, so it cannot be revoked either.
    assert_eq!(
        db.revoke(&store, &login.id, at(130), &audit(&store)).await,
        Ok(false)
    );
    assert_eq!(
        db.find_active(Some(store.clone()), "unknown-digest", at(0))
            .await,
        Ok(None)
    );

    // Found within its store only; without a store only if issued before secrets named
    // theirs (none of these was).
    let other = new_store(db).await;
    assert_eq!(
        db.find_active(Some(other), &fixture.token.digest, at(60))
            .await,
        Ok(None)
    );
    assert_eq!(
        db.find_active(None, &fixture.token.digest, at(60)).await,
        Ok(None)
    );
}

pub async fn revoking_needs_the_right_store<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let key = api_key(&store, "digest-of-shared-key", &[Scope::ReadOrders]);
    add_credential(db, &key).await;
    assert_eq!(
        db.revoke(&other, &key.id, at(5), &audit(&other)).await,
        Ok(false)
    );
    assert!(
        db.find_active(Some(store.clone()), "digest-of-shared-key", at(6))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        db.revoke(&store, &key.id, at(7), &audit(&store)).await,
        Ok(true)
    );
    assert_eq!(
        db.find_active(Some(store.clone()), "digest-of-shared-key", at(8))
            .await,
        Ok(None)
    );
    // A digest is unique within its store, where it is looked up: another store's
    // credential with the same digest is another credential.
    let theirs = api_key(&other, "digest-of-shared-key", &[]);
    add_credential(db, &theirs).await;
    let found = db
        .find_active(Some(other.clone()), "digest-of-shared-key", at(9))
        .await
        .unwrap()
        .map(|principal| (principal.store_id, principal.credential_id));
    assert_eq!(found, Some((other.clone(), theirs.id.clone())));
    let clash = api_key(&other, "digest-of-shared-key", &[]);
    assert!(matches!(
        CredentialRepository::insert(db, &clash, &audit(&clash.store_id)).await,
        Err(RepoError::Internal(_))
    ));
}

/// An API key created at `at(minutes)`.
fn api_key_at(store: &StoreId, minutes: i64) -> Credential {
    Credential {
        created_at: at(minutes),
        ..api_key(store, &new_id("digest"), &[Scope::ReadOrders])
    }
}

/// How the store's list shows a credential that has not been revoked.
fn listed(key: &Credential) -> ApiKey {
    ApiKey {
        id: key.id.clone(),
        name: key.name.clone(),
        scopes: key.scopes.clone(),
        created_at: key.created_at,
        revoked_at: None,
    }
}

async fn api_keys(
    db: &impl Repositories,
    store: &StoreId,
    page: i64,
    limit: i64,
) -> (Vec<ApiKey>, u64) {
    let request = PageRequest::new(Some(page), Some(limit)).expect("a valid page");
    db.list_api_keys(store, request)
        .await
        .expect("the API keys are listed")
}

pub async fn api_keys_are_listed_newest_first_with_the_revoked<B: Backend>(t: &B) {
    let db = t.repos();
    let fixture = store_fixture();
    db.create_with_owner(
        &fixture.store,
        &fixture.owner,
        "",
        &fixture.token,
        &audit(&fixture.store.id),
    )
    .await
    .unwrap();
    let store = fixture.store.id.clone();
    let other = new_store(db).await;
    // Only the owner's staff token so far: no API key.
    assert_eq!(api_keys(db, &store, 1, 10).await, (vec![], 0));

    let oldest = Credential {
        name: "Kiosk".into(),
        scopes: vec![Scope::ReadCustomers, Scope::WriteOrders],
        ..api_key_at(&store, 1)
    };
    let (tied_a, tied_b) = (api_key_at(&store, 2), api_key_at(&store, 2));
    let newest = api_key_at(&store, 3);
    for key in [&tied_a, &oldest, &newest, &tied_b] {
        add_credential(db, key).await;
    }
    let manager = user(&store, "manager@example.dk", Role::Manager, 1);
    add_user(db, &manager).await;
    add_credential(db, &staff_token(&manager, "digest-of-login", Some(600))).await;
    add_credential(db, &api_key_at(&other, 4)).await;
    assert_eq!(
        db.revoke_api_key(&store, &newest.id, at(5), &audit(&store))
            .await,
        Ok(true)
    );

    // Ties by id, newest (largest) first; the revoked key is listed with its revocation.
    let mut tied = [listed(&tied_a), listed(&tied_b)];
    tied.sort_by(|a, b| b.id.cmp(&a.id));
    let expected = vec![
        ApiKey {
            revoked_at: Some(at(5)),
            ..listed(&newest)
        },
        tied[0].clone(),
        tied[1].clone(),
        listed(&oldest),
    ];
    assert_eq!(api_keys(db, &store, 1, 10).await, (expected.clone(), 4));
    assert_eq!(
        api_keys(db, &store, 1, 3).await,
        (expected[..3].to_vec(), 4)
    );
    assert_eq!(
        api_keys(db, &store, 2, 3).await,
        (expected[3..].to_vec(), 4)
    );
    assert_eq!(api_keys(db, &store, 3, 3).await, (vec![], 4));

    // Another store sees only its own key.
    let (theirs, total) = api_keys(db, &other, 1, 10).await;
    assert_eq!((theirs.len(), total), (1, 1));
    let unknown = StoreId::from_stored(new_id("store"));
    assert_eq!(api_keys(db, &unknown, 1, 10).await, (vec![], 0));
}

pub async fn only_an_active_api_key_of_the_store_is_revoked<B: Backend>(t: &B) {
    let db = t.repos();
    let fixture = store_fixture();
    db.create_with_owner(
        &fixture.store,
        &fixture.owner,
        "",
        &fixture.token,
        &audit(&fixture.store.id),
    )
    .await
    .unwrap();
    let store = fixture.store.id.clone();
    let other = new_store(db).await;
    let key = api_key_at(&store, 1);
    let theirs = api_key_at(&other, 1);
    add_credential(db, &key).await;
    add_credential(db, &theirs).await;

    // A staff token is not an API key, even of the right store: it stays active.
    assert_eq!(
        db.revoke_api_key(&store, &fixture.token.id, at(2), &audit(&store))
            .await,
        Ok(false)
    );
    assert!(
        db.find_active(Some(store.clone()), &fixture.token.digest, at(3))
            .await
            .unwrap()
            .is_some()
    );
    // Another store's key is not found from this store.
    assert_eq!(
        db.revoke_api_key(&store, &theirs.id, at(2), &audit(&store))
            .await,
        Ok(false)
    );
    assert!(
        db.find_active(Some(other.clone()), &theirs.digest, at(3))
            .await
            .unwrap()
            .is_some()
    );
    let unknown = CredentialId::from_stored(new_id("key"));
    assert_eq!(
        db.revoke_api_key(&store, &unknown, at(2), &audit(&store))
            .await,
        Ok(false)
    );

    assert_eq!(
        db.revoke_api_key(&store, &key.id, at(4), &audit(&store))
            .await,
        Ok(true)
    );
    assert_eq!(
        db.find_active(Some(store.clone()), &key.digest, at(5))
            .await,
        Ok(None)
    );
    // Twice: already revoked, and the first revocation time is kept.
    assert_eq!(
        db.revoke_api_key(&store, &key.id, at(6), &audit(&store))
            .await,
        Ok(false)
    );
    let (listed_keys, _) = api_keys(db, &store, 1, 10).await;
    assert_eq!(listed_keys[0].revoked_at, Some(at(4)));
}

pub async fn stores_are_created_with_their_owner<B: Backend>(t: &B) {
    let db = t.repos();
    assert_eq!(db.any_exists().await, Ok(false));
    let fixture = store_fixture();
    assert_eq!(StoreRepository::find(db, &fixture.store.id).await, Ok(None));
    db.create_with_owner(
        &fixture.store,
        &fixture.owner,
        "argon2id$owner",
        &fixture.token,
        &audit(&fixture.store.id),
    )
    .await
    .unwrap();
    assert_eq!(db.any_exists().await, Ok(true));
    assert_eq!(
        StoreRepository::find(db, &fixture.store.id).await,
        Ok(Some(fixture.store.clone()))
    );
    let owner = db
        .find_by_email(&fixture.store.id, "owner@example.dk")
        .await
        .unwrap();
    assert_eq!(
        owner,
        Some((fixture.owner.clone(), "argon2id$owner".to_owned()))
    );
    assert!(
        db.find_active(Some(fixture.store.id.clone()), &fixture.token.digest, at(1))
            .await
            .unwrap()
            .is_some()
    );
    let unknown = StoreId::from_stored(new_id("store"));
    assert_eq!(StoreRepository::find(db, &unknown).await, Ok(None));
    // A store in another time zone reads back with it.
    let mut tokyo = store_fixture();
    tokyo.store.timezone = chrono_tz::Asia::Tokyo;
    tokyo.store.minor_units_per_point = 1;
    db.create_with_owner(
        &tokyo.store,
        &tokyo.owner,
        "",
        &tokyo.token,
        &audit(&tokyo.store.id),
    )
    .await
    .unwrap();
    assert_eq!(
        StoreRepository::find(db, &tokyo.store.id).await,
        Ok(Some(tokyo.store))
    );
}

pub async fn store_creation_is_all_or_nothing<B: Backend>(t: &B) {
    let db = t.repos();
    let first = store_fixture();
    db.create_with_owner(
        &first.store,
        &first.owner,
        "",
        &first.token,
        &audit(&first.store.id),
    )
    .await
    .unwrap();

    // The owner insert fails (the same user id in the same store): no store remains.
    let mut broken = store_fixture();
    broken.owner.store_id = first.store.id.clone();
    broken.owner.id = first.owner.id.clone();
    assert!(
        db.create_with_owner(
            &broken.store,
            &broken.owner,
            "",
            &broken.token,
            &audit(&broken.store.id)
        )
        .await
        .is_err()
    );
    assert_eq!(StoreRepository::find(db, &broken.store.id).await, Ok(None));
    assert_eq!(
        db.find_active(Some(broken.store.id.clone()), &broken.token.digest, at(1))
            .await,
        Ok(None)
    );

    // The token insert fails (its user is not the owner, nor anyone of the store): neither
    // store nor owner remains.
    let mut clashing = store_fixture();
    let owner = clashing
        .token
        .user_id
        .replace(UserId::from_stored(new_id("usr")));
    assert!(
        db.create_with_owner(
            &clashing.store,
            &clashing.owner,
            "",
            &clashing.token,
            &audit(&clashing.store.id)
        )
        .await
        .is_err()
    );
    assert_eq!(
        StoreRepository::find(db, &clashing.store.id).await,
        Ok(None)
    );
    assert_eq!(
        db.find_by_email(&clashing.store.id, "owner@example.dk")
            .await,
        Ok(None)
    );

    // The first store is untouched, and the failed ids can be used after all.
    assert_eq!(
        StoreRepository::find(db, &first.store.id).await,
        Ok(Some(first.store))
    );
    clashing.token.user_id = owner;
    db.create_with_owner(
        &clashing.store,
        &clashing.owner,
        "",
        &clashing.token,
        &audit(&clashing.store.id),
    )
    .await
    .unwrap();
}

/// The migration that made credentials found within their store: (up, down) of the backend.
fn credentials_by_store_migration(t: &TestDatabase) -> (&'static str, &'static str) {
    match t.backend() {
        customers_persistence::Backend::Sqlite => (
            include_str!(
                "../../../../migrations/sqlite/2026-12-07-000200_credentials_by_store/up.sql"
            ),
            include_str!(
                "../../../../migrations/sqlite/2026-12-07-000200_credentials_by_store/down.sql"
            ),
        ),
        customers_persistence::Backend::Postgres => (
            include_str!(
                "../../../../migrations/postgres/2026-12-07-000200_credentials_by_store/up.sql"
            ),
            include_str!(
                "../../../../migrations/postgres/2026-12-07-000200_credentials_by_store/down.sql"
            ),
        ),
    }
}

/// The store and id of the active credential `find_active` finds.
async fn found(
    db: &impl Repositories,
    store: Option<StoreId>,
    digest: &str,
) -> Option<(StoreId, CredentialId)> {
    db.find_active(store, digest, at(2))
        .await
        .unwrap()
        .map(|principal| (principal.store_id, principal.credential_id))
}

/// Credentials issued before secrets named their store keep working: the migration records
/// the store of each one not revoked, and a secret without a store is found through it. Ones
/// issued since are found within their store only.
pub async fn secrets_without_a_store_are_found_through_the_stores_the_migration_recorded(
    t: &TestDatabase,
) {
    let db = t.database();
    let (up, down) = credentials_by_store_migration(t);
    // Back to the schema before, and credentials issued then.
    t.execute_sql(down).await;
    let fixture = store_fixture();
    db.create_with_owner(
        &fixture.store,
        &fixture.owner,
        "",
        &fixture.token,
        &audit(&fixture.store.id),
    )
    .await
    .unwrap();
    let store = fixture.store.id.clone();
    let old_key = api_key(&store, "digest-of-old-key", &[Scope::ReadOrders]);
    let old_revoked = api_key(&store, "digest-of-old-revoked-key", &[]);
    add_credential(db, &old_key).await;
    add_credential(db, &old_revoked).await;
    assert_eq!(
        db.revoke(&store, &old_revoked.id, at(1), &audit(&store))
            .await,
        Ok(true)
    );
    t.execute_sql(up).await;
    let new_key = api_key(&store, "digest-of-new-key", &[]);
    add_credential(db, &new_key).await;

    let owner_token = fixture.token.digest.as_str();
    for (digest, id) in [
        (owner_token, &fixture.token.id),
        ("digest-of-old-key", &old_key.id),
    ] {
        let expected = Some((store.clone(), id.clone()));
        assert_eq!(found(db, None, digest).await, expected, "{digest}");
        assert_eq!(
            found(db, Some(store.clone()), digest).await,
            expected,
            "{digest}"
        );
    }
    assert_eq!(found(db, None, "digest-of-old-revoked-key").await, None);
    assert_eq!(found(db, None, "digest-of-new-key").await, None);
    assert_eq!(
        found(db, Some(store.clone()), "digest-of-new-key").await,
        Some((store.clone(), new_key.id.clone()))
    );
    assert_eq!(found(db, None, "digest-of-no-key").await, None);
    // Another store's id with an old digest finds nothing: the lookup stays in that store.
    let other = new_store(db).await;
    assert_eq!(found(db, Some(other), "digest-of-old-key").await, None);
    // A revocation after the migration is seen on the credential.
    assert_eq!(
        db.revoke(&store, &old_key.id, at(3), &audit(&store)).await,
        Ok(true)
    );
    assert_eq!(found(db, None, "digest-of-old-key").await, None);
}
