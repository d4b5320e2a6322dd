//! The wiring another service writes (as in the crate's documentation), run on SQLite and,
//! when a server answers, on PostgreSQL: an empty database is opened and migrated, its
//! repositories answer, and the system adapters work beside it.

use customers_domain::access::{PasswordHasher, TokenDigester};
use customers_domain::ids::StoreId;
use customers_domain::ports::{Clock, IdGenerator};
use customers_domain::store::StoreRepository;
use customers_persistence::testing::TestDatabase;
use customers_stack::{
    Argon2Passwords, Backend, DatabaseConfig, RandomIds, Sha256Digests, SystemClock, open_database,
};

async fn the_stack_opens_and_answers(empty: TestDatabase) {
    let config = DatabaseConfig::new(empty.url());
    let database = open_database(&config).await.expect("opened and migrated");
    assert_eq!(database.backend(), empty.backend());
    // The tables exist now: a fresh database has no store.
    assert_eq!(database.any_exists().await, Ok(false));
    let unknown = StoreId::from_stored(RandomIds.new_id(StoreId::PREFIX));
    assert_eq!(database.find(&unknown).await.map(|s| s.is_none()), Ok(true));
    // Opening again finds nothing left to migrate.
    let again = open_database(&config).await.expect("opened again");
    assert_eq!(again.any_exists().await, Ok(false));

    // The system adapters beside it (tested in depth in `src/adapters.rs`).
    let passwords = Argon2Passwords::default();
    let hash = passwords.hash("a password".into()).await.unwrap();
    let verified = passwords.verify("a password".into(), Some(hash)).await;
    assert_eq!(verified, Ok(true));
    assert_eq!(Sha256Digests.digest("abc").len(), 64);
    assert!(SystemClock.now().timestamp() > 1_700_000_000);
    again.close();
    database.close();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stack_opens_and_answers_on_sqlite() {
    let empty = TestDatabase::sqlite_empty().await;
    assert_eq!(empty.backend(), Backend::Sqlite);
    the_stack_opens_and_answers(empty).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stack_opens_and_answers_on_postgres() {
    if let Some(empty) = TestDatabase::postgres_empty().await {
        the_stack_opens_and_answers(empty).await;
    }
}

#[tokio::test]
async fn a_database_url_of_no_known_backend_is_refused() {
    let refused = open_database(&DatabaseConfig::new("mysql://root@localhost/db")).await;
    assert!(
        matches!(
            refused,
            Err(customers_stack::DatabaseError::InvalidConfig(_))
        ),
        "{refused:?}"
    );
}
