//! The database itself: health, pool, concurrency, closing, migrations, lost connections.

use std::time::{Duration, Instant};

use customers_domain::customer::CustomerFilter;
use customers_domain::ports::RepoError;
use customers_domain::store::StoreRepository;
use customers_persistence::testing::TestDatabase;
use customers_persistence::{Backend, Database, DatabaseConfig, DatabaseError};

use crate::support::{blank_customer, counted, customer_id, insert, new_store, really_counted};

pub async fn ping_and_pool_status(t: &TestDatabase) {
    let db = t.database();
    assert_eq!(db.ping().await, Ok(()));
    let expected = if t.url().starts_with("sqlite://") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    assert_eq!(db.backend(), expected);
    let status = db.pool_status();
    assert_eq!(status.max_size, 4);
    assert!(status.size >= 1 && status.size <= 4, "{status:?}");
    assert_eq!(status.waiting, 0);
}

/// Many writers at once all succeed, on every backend. On SQLite they queue on the write lock
/// (`BEGIN IMMEDIATE` and `busy_timeout`) instead of failing with "database is locked".
pub async fn parallel_writes_all_succeed<B: crate::backend::Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let writers: Vec<_> = (1..=40)
        .map(|n| {
            let (db, customer) = (db.clone(), blank_customer(&store, customer_id(n)));
            tokio::spawn(async move { insert(&db, &customer).await })
        })
        .collect();
    for writer in writers {
        writer.await.expect("the writer finished");
    }
    assert_eq!(counted(db, &store).await, 40);
    assert_eq!(really_counted(db, &store).await, 40);
    let filter = CustomerFilter {
        has_orders: Some(false),
        ..CustomerFilter::default()
    };
    let (rows, total) = customers_domain::customer::CustomerRepository::list(
        db,
        &store,
        &crate::support::query(filter),
    )
    .await
    .unwrap();
    assert_eq!((rows.len(), total), (40, 40));
}

pub async fn closed_database_is_unavailable(t: &TestDatabase) {
    let db = t.database().clone();
    db.close();
    assert!(matches!(db.ping().await, Err(RepoError::Unavailable(_))));
    assert!(matches!(
        db.any_exists().await,
        Err(RepoError::Unavailable(_))
    ));
}

/// Two processes applying the migrations to a new database at the same moment both succeed.
async fn migrate_concurrently(empty: &TestDatabase) {
    assert!(
        empty.database().any_exists().await.is_err(),
        "the database has tables already"
    );
    let config = DatabaseConfig::new(empty.url());
    let (one, two) = tokio::join!(Database::connect(&config), Database::connect(&config));
    let (one, two) = (one.unwrap(), two.unwrap());
    let (first, second) = tokio::join!(one.migrate(), two.migrate());
    assert_eq!((first, second), (Ok(()), Ok(())));
    assert_eq!(one.migrate().await, Ok(()), "migrating again is a no-op");
    assert_eq!(empty.database().any_exists().await, Ok(false));
    new_store(&two).await;
    assert_eq!(one.any_exists().await, Ok(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_migrations_race_safely() {
    migrate_concurrently(&TestDatabase::sqlite_empty().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_migrations_race_safely() {
    if let Some(empty) = TestDatabase::postgres_empty().await {
        migrate_concurrently(&empty).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_files_and_folders_are_created() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("a/b/customers.db");
    let db = Database::connect(&DatabaseConfig::new(format!("sqlite://{}", path.display())))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    assert!(path.is_file());
    let journal = path.with_file_name("customers.db-wal");
    assert!(journal.is_file(), "the database runs in WAL mode");
    assert_eq!(db.backend(), Backend::Sqlite);
    db.close();
}

#[tokio::test(flavor = "multi_thread")]
async fn unsupported_urls_are_refused() {
    for url in [
        "sqlite::memory:",
        "mysql://root@localhost/db",
        "data/customers.db",
    ] {
        let refused = Database::connect(&DatabaseConfig::new(url)).await;
        assert!(
            matches!(refused, Err(DatabaseError::InvalidConfig(_))),
            "{url}"
        );
    }
}

/// Nothing listens: connecting fails within the connect timeout, it never hangs.
#[tokio::test(flavor = "multi_thread")]
async fn unreachable_postgres_fails_fast() {
    let config = DatabaseConfig {
        connect_timeout: Duration::from_millis(500),
        wait_timeout: Duration::from_millis(500),
        ..DatabaseConfig::new("postgres://postgres@127.0.0.1:9/customers")
    };
    let started = Instant::now();
    let refused = Database::connect(&config).await;
    assert!(
        matches!(refused, Err(DatabaseError::Unavailable(_))),
        "{refused:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // A host that drops packets rather than refusing: the connect timeout ends the wait.
    let config = DatabaseConfig {
        url: "postgres://postgres@10.255.255.1:5432/customers".into(),
        ..config
    };
    let started = Instant::now();
    assert!(matches!(
        Database::connect(&config).await,
        Err(DatabaseError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// What a PostgreSQL restart does to the pool: several connections open, then every one cut.
async fn cut_every_connection(db: &Database, url: &str) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let opened = tokio::join!(db.ping(), db.ping(), db.ping(), db.ping());
    assert_eq!(opened, (Ok(()), Ok(()), Ok(()), Ok(())));
    let mut admin = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .await
    .unwrap();
}

/// PostgreSQL restarts (every connection is cut): the pool replaces the dead connections
/// and the next queries work again, reads and writes alike.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_recovers_from_cut_connections() {
    let Some(t) = TestDatabase::postgres().await else {
        return;
    };
    let db = t.database();
    let store = new_store(db).await;
    cut_every_connection(db, t.url()).await;
    let started = Instant::now();
    for _ in 0..8 {
        assert_eq!(db.ping().await, Ok(()));
        assert!(StoreRepository::find(db, &store).await.unwrap().is_some());
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let _ = really_counted(db, &store).await;
    insert(db, &blank_customer(&store, customer_id(1))).await;

    // Cut again, and let a write be the first to meet the dead connections: its transaction
    // begins on a live one.
    cut_every_connection(db, t.url()).await;
    insert(db, &blank_customer(&store, customer_id(2))).await;
    assert_eq!(really_counted(db, &store).await, 2);
}

/// With every main connection held (by list scans, say), a customer, an order's absence, a
/// review's absence and a credential are still read by id, on the connections kept for
/// point reads; any other query waits for a main connection and gives up.
pub async fn point_reads_pass_a_full_main_pool(t: &TestDatabase) {
    use customers_domain::access::CredentialRepository;
    use customers_domain::customer::CustomerRepository;
    use customers_domain::order::OrderRepository;
    use customers_domain::review::ReviewRepository;

    let mut config = DatabaseConfig::new(t.url());
    config.max_connections = 2;
    config.point_read_connections = 1;
    config.wait_timeout = Duration::from_millis(300);
    let db = Database::connect(&config).await.unwrap();
    let store = new_store(&db).await;
    let customer = blank_customer(&store, customer_id(1));
    insert(&db, &customer).await;

    let held = customers_persistence::testing::hold_main_pool(&db).await;
    assert_eq!(held.len(), 2);
    assert_eq!(db.pool_status().available, 0);
    let found = CustomerRepository::find(&db, &store, &customer.id)
        .await
        .unwrap();
    assert_eq!(found.map(|c| c.id), Some(customer.id.clone()));
    let order = customers_domain::ids::OrderId::from_stored("ord_none".into());
    assert!(matches!(
        OrderRepository::find(&db, &store, &order).await,
        Ok(None)
    ));
    let review = customers_domain::ids::ReviewId::from_stored("rev_none".into());
    assert!(matches!(
        ReviewRepository::find(&db, &store, &review).await,
        Ok(None)
    ));
    let credential = db
        .find_active(Some(store.clone()), "no such digest", crate::support::now())
        .await;
    assert!(matches!(credential, Ok(None)), "{credential:?}");
    // Several point reads at once share the one kept connection.
    let reads: Vec<_> = (0..8)
        .map(|_| {
            let (db, store, id) = (db.clone(), store.clone(), customer.id.clone());
            tokio::spawn(async move { CustomerRepository::find(&db, &store, &id).await })
        })
        .collect();
    for read in reads {
        assert!(read.await.unwrap().unwrap().is_some());
    }
    // A list is not a point read: it waits for a main connection, in vain.
    let everyone = crate::support::query(CustomerFilter::default());
    let listed = CustomerRepository::list(&db, &store, &everyone).await;
    assert!(
        matches!(listed, Err(RepoError::Unavailable(_))),
        "{listed:?}"
    );
    drop(held);
    assert!(
        CustomerRepository::list(&db, &store, &everyone)
            .await
            .is_ok()
    );
    db.close();
}
