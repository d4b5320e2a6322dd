//! Fresh, migrated databases for tests, of this crate and of the crates above it (end-to-end
//! tests start the real binary on [`TestDatabase::url`]).
//!
//! - [`TestDatabase::sqlite`]: a new file in a new temporary folder, removed on drop.
//! - [`TestDatabase::postgres`]: a new database named `customers_test_<unix time>_<random>`
//!   on the server of `TEST_DATABASE_URL` (default [`DEFAULT_POSTGRES_URL`]), dropped on
//!   drop. Leftovers of crashed runs older than an hour are dropped at first use. With no
//!   server it skips loudly, or fails when `CI=true`.

use std::hash::{BuildHasher, RandomState};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use customers_domain::customer::{Activity, Block};
use customers_domain::ids::{CustomerId, StoreId};
use customers_domain::ports::RepoError;
use customers_domain::review::ReviewStats;
use diesel::dsl::count_star;
use diesel::sql_types::Text;
use diesel::{ExpressionMethods, QueryDsl, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::config::{DatabaseConfig, redact_url};
use crate::pool::{Backend, Database, open_postgres, with_connection};

use crate::schema::{customers, reviews};
use crate::time::to_db;

/// The PostgreSQL server used when `TEST_DATABASE_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

const NAME_PREFIX: &str = "customers_test_";
/// Test databases older than this are leftovers of crashed runs.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);
const SERVER_TIMEOUT: Duration = Duration::from_secs(5);
/// Whether this process has looked for leftovers yet.
static SWEPT: AtomicBool = AtomicBool::new(false);

/// A lock held by [`TestDatabase::hold_customer_writes`].
pub struct HeldLock(Held);

enum Held {
    Sqlite(crate::pool::SqliteConnection),
    Postgres(Box<AsyncPgConnection>),
}

impl HeldLock {
    /// Ends the lock's transaction; the writes that waited go on.
    pub async fn release(self) {
        use diesel_async::SimpleAsyncConnection;
        let released = match self.0 {
            Held::Sqlite(mut connection) => connection.batch_execute("ROLLBACK").await,
            Held::Postgres(mut connection) => connection.batch_execute("ROLLBACK").await,
        };
        released.expect("the lock is released");
    }
}

/// Every connection of a database's main pool, taken by [`hold_main_pool`]; dropping it
/// gives them back.
pub struct HeldConnections {
    count: usize,
    /// The pooled connections (of either backend), held for their `Drop` only.
    _held: Box<dyn std::any::Any + Send>,
}

impl HeldConnections {
    /// How many connections are held.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Takes every connection of `database`'s main pool (as list scans holding them all would),
/// leaving only the connections kept for point reads.
pub async fn hold_main_pool(database: &Database) -> HeldConnections {
    use crate::pool::{Lanes, Pool};
    use diesel_async::pooled_connection::{AsyncDieselConnectionManager, PoolError};

    async fn hold<C: Send + 'static>(lanes: &Lanes<C>) -> HeldConnections
    where
        AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = PoolError>,
    {
        let mut held = Vec::new();
        for _ in 0..lanes.main.status().max_size {
            held.push(lanes.main.get().await.expect("a main connection"));
        }
        HeldConnections {
            count: held.len(),
            _held: Box::new(held),
        }
    }

    match &database.pool {
        Pool::Sqlite(lanes) => hold(lanes).await,
        Pool::Postgres(lanes) => hold(lanes).await,
    }
}

/// The PostgreSQL server process of the session that shows `database`'s idempotency claims
/// alive (see `crates/persistence/src/idempotency.rs`), once a claim opened it; `None` on
/// SQLite.
pub async fn claims_session_pid(database: &Database) -> Option<i32> {
    database.holder.session_pid().await
}

/// A database that exists for one test.
pub struct TestDatabase {
    database: Database,
    url: String,
    /// Removes the database after `database` (its pool) is gone.
    _cleanup: Cleanup,
}

/// Held for its `Drop` only.
#[allow(dead_code)]
enum Cleanup {
    /// The folder holding the SQLite file.
    Sqlite(tempfile::TempDir),
    Postgres(DroppedOnDrop),
}

/// A PostgreSQL database that is dropped when this value is.
struct DroppedOnDrop {
    server_url: String,
    name: String,
}

impl TestDatabase {
    /// A migrated SQLite database in a new temporary folder. Panics if it cannot be made.
    pub async fn sqlite() -> TestDatabase {
        Self::new_sqlite(Schema::Migrated).await
    }

    /// Like [`sqlite`](Self::sqlite), but without any table: for testing migrations.
    pub async fn sqlite_empty() -> TestDatabase {
        Self::new_sqlite(Schema::Empty).await
    }

    /// A migrated PostgreSQL database of its own, or `None` (after a loud message on stderr)
    /// when no server answers. With `CI=true`, no server is a panic instead.
    pub async fn postgres() -> Option<TestDatabase> {
        Self::new_postgres(Schema::Migrated).await
    }

    /// Like [`postgres`](Self::postgres), but without any table: for testing migrations.
    pub async fn postgres_empty() -> Option<TestDatabase> {
        Self::new_postgres(Schema::Empty).await
    }

    async fn new_sqlite(schema: Schema) -> TestDatabase {
        let folder = tempfile::Builder::new()
            .prefix("customers-test-")
            .tempdir()
            .unwrap_or_else(|error| panic!("cannot create a folder for a test database: {error}"));
        let url = format!("sqlite://{}", folder.path().join("customers.db").display());
        TestDatabase {
            database: open(&url, schema).await,
            url,
            _cleanup: Cleanup::Sqlite(folder),
        }
    }

    async fn new_postgres(schema: Schema) -> Option<TestDatabase> {
        let server_url =
            std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let mut server =
            match tokio::time::timeout(SERVER_TIMEOUT, connect_server(&server_url)).await {
                Ok(Ok(connection)) => connection,
                Ok(Err(error)) => return skip(&server_url, &error.to_string()),
                Err(_) => return skip(&server_url, "no answer within 5 seconds"),
            };
        if !SWEPT.swap(true, Ordering::SeqCst) {
            sweep_leftovers(&mut server).await;
        }
        let name = new_database_name();
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut server)
            .await
            .unwrap_or_else(|error| panic!("cannot create the test database {name}: {error}"));
        let url = with_database(&server_url, &name);
        // Created first, so that the database is dropped even if opening it panics.
        let cleanup = Cleanup::Postgres(DroppedOnDrop { server_url, name });
        Some(TestDatabase {
            database: open(&url, schema).await,
            url,
            _cleanup: cleanup,
        })
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The URL to give a process that should use this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// Takes, on a connection of its own, a lock that makes every customer write wait until
    /// [`HeldLock::release`]: SQLite's write lock (`BEGIN IMMEDIATE`), or on PostgreSQL an
    /// `EXCLUSIVE` lock on `customers` (reads still pass).
    pub async fn hold_customer_writes(&self) -> HeldLock {
        use diesel_async::{AsyncConnection, SimpleAsyncConnection};
        match crate::config::target(&self.url).expect("a test database URL") {
            crate::config::Target::Sqlite(path) => {
                let mut connection =
                    crate::pool::SqliteConnection::establish(&path.to_string_lossy())
                        .await
                        .expect("a second SQLite connection");
                connection
                    .batch_execute("BEGIN IMMEDIATE")
                    .await
                    .expect("the write lock");
                HeldLock(Held::Sqlite(connection))
            }
            crate::config::Target::Postgres(url) => {
                let mut connection = AsyncPgConnection::establish(&url)
                    .await
                    .expect("a second PostgreSQL connection");
                connection
                    .batch_execute("BEGIN; LOCK TABLE customers IN EXCLUSIVE MODE")
                    .await
                    .expect("the table lock");
                HeldLock(Held::Postgres(Box::new(connection)))
            }
        }
    }

    /// The database as a process started after this one's died would open it: a new handle
    /// on the same data, whose idempotency claims are its own. On PostgreSQL the session that
    /// shows this handle's claims alive is ended first (`pg_terminate_backend`, waiting for
    /// the end), as the server ends it when its process dies.
    pub async fn after_a_crash(&self) -> Database {
        if let Some(pid) = claims_session_pid(&self.database).await {
            self.execute_sql(&format!("SELECT pg_terminate_backend({pid}, 5000)"))
                .await;
        }
        Database::connect(&DatabaseConfig::new(&self.url))
            .await
            .expect("the database opens again")
    }

    /// Another process on the same database, this one still alive.
    pub async fn another_process(&self) -> Database {
        Database::connect(&DatabaseConfig::new(&self.url))
            .await
            .expect("the database opens twice")
    }

    /// Runs SQL statements on a connection of their own (fixtures too large to make through
    /// the service).
    pub async fn execute_sql(&self, sql: &str) {
        use diesel_async::{AsyncConnection, SimpleAsyncConnection};
        let executed = match crate::config::target(&self.url).expect("a test database URL") {
            crate::config::Target::Sqlite(path) => {
                crate::pool::SqliteConnection::establish(&path.to_string_lossy())
                    .await
                    .expect("a second SQLite connection")
                    .batch_execute(sql)
                    .await
            }
            crate::config::Target::Postgres(url) => {
                AsyncPgConnection::establish(&url)
                    .await
                    .expect("a second PostgreSQL connection")
                    .batch_execute(sql)
                    .await
            }
        };
        executed.expect("the statements run");
    }

    /// Writes a customer's order totals and points directly (what recording orders does);
    /// `false` when there is no such customer.
    pub async fn set_activity(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        activity: &Activity,
    ) -> Result<bool, RepoError> {
        let last_order_at = activity.last_order_at.map(to_db);
        let updated = with_connection!(self.database, |conn| {
            diesel::update(customers::table.find((store.as_str(), customer.as_str())))
                .set((
                    customers::total_spent_minor.eq(activity.total_spent_minor),
                    customers::total_orders.eq(activity.total_orders),
                    customers::last_order_at.eq(last_order_at),
                    customers::loyalty_points.eq(activity.loyalty_points),
                ))
                .execute(conn)
                .await
        })?;
        Ok(updated > 0)
    }

    /// Blocks (`Some`) or unblocks (`None`) a customer directly; `false` when there is none.
    pub async fn set_block(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        block: Option<&Block>,
    ) -> Result<bool, RepoError> {
        let reason = block
            .and_then(|b| b.reason.as_ref())
            .map(|r| r.as_str().to_owned());
        let at = block.map(|b| to_db(b.at));
        let updated = with_connection!(self.database, |conn| {
            diesel::update(customers::table.find((store.as_str(), customer.as_str())))
                .set((
                    customers::is_blocked.eq(at.is_some()),
                    customers::blocked_reason.eq(&reason),
                    customers::blocked_at.eq(at),
                ))
                .execute(conn)
                .await
        })?;
        Ok(updated > 0)
    }

    /// The store's review statistics counted afresh from its reviews (`COUNT(*) … GROUP BY
    /// rating, is_approved`), to hold the kept counters against.
    pub async fn recount_reviews(&self, store: &StoreId) -> Result<ReviewStats, RepoError> {
        let groups = with_connection!(self.database, |conn| {
            reviews::table
                .filter(reviews::store_id.eq(store.as_str()))
                .group_by((reviews::rating, reviews::is_approved))
                .select((reviews::rating, reviews::is_approved, count_star()))
                .load::<(i32, bool, i64)>(conn)
                .await
        })?;
        let mut stats = ReviewStats::default();
        for (rating, approved, count) in groups {
            let slot = usize::try_from(rating - 1)
                .ok()
                .and_then(|slot| stats.distribution.get_mut(slot))
                .ok_or_else(|| RepoError::Internal(format!("a review is rated {rating}")))?;
            *slot += count;
            stats.total += count;
            if approved {
                stats.approved += count;
            }
        }
        Ok(stats)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // The connections go first; then `cleanup` removes the database.
        self.database.close();
    }
}

impl Drop for DroppedOnDrop {
    fn drop(&mut self) {
        // Drop cannot await: a thread of its own runs DROP DATABASE to completion.
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        match std::thread::spawn(move || drop_database(&server_url, &name)).join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop a test database: {error}"),
            Err(_) => eprintln!("could not drop a test database: the dropping thread panicked"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Schema {
    Migrated,
    Empty,
}

/// Connects with a small pool and applies the migrations if asked; panics on failure.
async fn open(url: &str, schema: Schema) -> Database {
    let config = DatabaseConfig {
        max_connections: 4,
        wait_timeout: Duration::from_secs(10),
        ..DatabaseConfig::new(url)
    };
    let database = Database::connect(&config).await.unwrap_or_else(|error| {
        panic!("cannot open the test database {}: {error}", redact_url(url))
    });
    if schema == Schema::Migrated {
        database.migrate().await.unwrap_or_else(|error| {
            panic!(
                "cannot migrate the test database {}: {error}",
                redact_url(url)
            )
        });
    }
    database
}

fn skip(server_url: &str, reason: &str) -> Option<TestDatabase> {
    let server = redact_url(server_url);
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("CI=true requires PostgreSQL, but {server} does not answer: {reason}");
    }
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!! PostgreSQL tests SKIPPED: {server} does not answer ({reason}). \
         Start PostgreSQL or set TEST_DATABASE_URL; with CI=true this is a failure. !!!!!!!!\n"
    );
    None
}

/// A plain connection to the test server (for creating and dropping databases).
async fn connect_server(url: &str) -> diesel::ConnectionResult<AsyncPgConnection> {
    let config = url
        .parse::<tokio_postgres::Config>()
        .map_err(|error| diesel::ConnectionError::InvalidConnectionUrl(error.to_string()))?;
    open_postgres(&config).await
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `customers_test_<unix seconds>_<16 hex digits>`: unique, and its age readable.
fn new_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = RandomState::new().hash_one((
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        SystemTime::now(),
    ));
    format!("{NAME_PREFIX}{}_{random:016x}", unix_seconds())
}

/// The server URL with its database name replaced.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// Drops test databases left by runs that crashed more than an hour ago. Best effort.
async fn sweep_leftovers(server: &mut AsyncPgConnection) {
    let Ok(names) = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'customers\\_test\\_%'",
    )
    .load::<DatabaseName>(server)
    .await
    else {
        return;
    };
    let now = unix_seconds();
    for DatabaseName { datname } in names {
        let created = datname
            .strip_prefix(NAME_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|seconds| seconds.parse::<u64>().ok());
        if created.is_some_and(|created| now.saturating_sub(created) > LEFTOVER_AGE.as_secs()) {
            let drop = format!("DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)");
            if diesel::sql_query(drop).execute(server).await.is_ok() {
                eprintln!("dropped the leftover test database {datname}");
            }
        }
    }
}

fn drop_database(server_url: &str, name: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(async {
        let mut server = tokio::time::timeout(SERVER_TIMEOUT, connect_server(server_url))
            .await
            .map_err(|_| format!("{} does not answer", redact_url(server_url)))?
            .map_err(|error| error.to_string())?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut server)
            .await
            .map(drop)
            .map_err(|error| format!("{name}: {error}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_unique_and_dated() {
        let (a, b) = (new_database_name(), new_database_name());
        assert_ne!(a, b);
        assert!(a.starts_with(NAME_PREFIX) && a.len() <= 63, "{a}");
    }

    #[test]
    fn the_database_name_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h", "t1"),
            "postgres://u:p@h/t1"
        );
        assert_eq!(
            with_database("postgresql://u@h/db?sslmode=disable", "t1"),
            "postgresql://u@h/t1?sslmode=disable"
        );
    }
}
