//! The connection pool: [`Database`] holds a deadpool of SQLite or PostgreSQL connections,
//! and three macros run one block of diesel code on whichever backend is live.
//!
//! - [`with_connection!`](crate::pool::with_connection) runs a block on a pooled connection.
//! - [`read_snapshot!`](crate::pool::read_snapshot) runs a read of several statements in a
//!   read-only transaction, so that they all read one snapshot.
//! - [`write_transaction!`](crate::pool::write_transaction) runs a block in a write
//!   transaction (`BEGIN IMMEDIATE` on SQLite), inside a spawned task: a caller that gives up
//!   (a dropped HTTP request) cannot leave a connection with a transaction still open.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use customers_domain::ports::RepoError;
use deadpool::managed::Timeouts;
use diesel::IntoSql;
use diesel::sql_types::Integer;
use diesel_async::pooled_connection::deadpool::{Object, Pool as DeadPool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError as ManagerError, PoolableConnection,
    RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection, TransactionManager,
};

use crate::config::{DatabaseConfig, Target, postgres_config, target};
use crate::error::{DatabaseError, from_join, from_pool, with_causes};

/// A SQLite connection usable from async code (each query runs on a blocking thread).
pub(crate) type SqliteConnection = SyncConnectionWrapper<diesel::SqliteConnection>;
pub(crate) type PgConnection = AsyncPgConnection;

/// Set on every SQLite connection when it is opened (pragmas are per connection), after
/// `PRAGMA busy_timeout`, which comes first so that switching to WAL waits for other
/// connections.
const SQLITE_SETUP: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;";

/// Which database a [`Database`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The pool's occupancy, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections nobody uses.
    pub available: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// The connections of one backend: the main pool, which every query may use, and a small
/// pool kept for point reads (a row by its id: a customer, an order, a review, a credential),
/// so that they never queue behind list scans, searches and writes holding every main
/// connection.
pub(crate) struct Lanes<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    pub(crate) main: DeadPool<C>,
    pub(crate) point: DeadPool<C>,
    /// Whether this handle's queries are point reads: they take a free main connection, else
    /// whichever of the two pools frees one first.
    pub(crate) point_read: bool,
    /// Whether a point read may wait on both pools at once and drop the wait that loses.
    /// Not on SQLite: a lost wait may be opening a connection on a blocking thread, and that
    /// future must not be dropped on the server's single-threaded workers.
    pub(crate) race: bool,
}

impl<C> Clone for Lanes<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    fn clone(&self) -> Self {
        Self {
            main: self.main.clone(),
            point: self.point.clone(),
            point_read: self.point_read,
            race: self.race,
        }
    }
}

/// The pools of the live backend.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(Lanes<SqliteConnection>),
    Postgres(Lanes<PgConnection>),
}

/// The database: a pool of connections to SQLite or PostgreSQL. Cheap to clone (the clones
/// share the pool). Implements every repository port of the domain.
#[derive(Clone)]
pub struct Database {
    pub(crate) pool: Pool,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend())
            .field("pool", &self.pool_status())
            .finish()
    }
}

/// Opens a SQLite connection and applies the per-connection settings; a statement waits up
/// to `busy_timeout_ms` for another connection's lock.
async fn open_sqlite(
    path: String,
    busy_timeout_ms: u128,
) -> diesel::ConnectionResult<SqliteConnection> {
    let mut connection = SqliteConnection::establish(&path).await?;
    connection
        .batch_execute(&format!(
            "PRAGMA busy_timeout = {busy_timeout_ms};\n{SQLITE_SETUP}"
        ))
        .await
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(connection)
}

/// Creates the folders a SQLite file lives in (SQLite creates the file itself).
async fn create_parent_folder(path: &Path) -> Result<(), DatabaseError> {
    let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    let folder = folder.to_owned();
    let created = tokio::task::spawn_blocking({
        let folder = folder.clone();
        move || std::fs::create_dir_all(folder)
    })
    .await
    .map_err(|error| error.to_string())
    .and_then(|result| result.map_err(|error| error.to_string()));
    created.map_err(|error| {
        DatabaseError::Unavailable(format!(
            "cannot create the folder {}: {error}",
            folder.display()
        ))
    })
}

/// Opens a PostgreSQL connection (without TLS, as diesel-async does). Unlike diesel-async's
/// own `establish`, a failure keeps its cause ("Connection refused", …) in the message.
pub(crate) async fn open_postgres(
    config: &tokio_postgres::Config,
) -> diesel::ConnectionResult<PgConnection> {
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|error| diesel::ConnectionError::BadConnection(with_causes(&error)))?;
    PgConnection::try_from_client_and_connection(client, connection).await
}

fn postgres_manager(
    url: &str,
    postgres: tokio_postgres::Config,
) -> AsyncDieselConnectionManager<PgConnection> {
    let mut config = ManagerConfig::<PgConnection>::default();
    // No `SELECT 1` before each checkout (`Verified`): that round trip cost as much as a
    // point read. A connection whose socket the server closed (a restart) is known broken
    // and replaced at checkout; one that turns out cut while it is used is replaced and the
    // work run again on a fresh connection (`with_connection!`, `begin_postgres`).
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |_url| {
        let postgres = postgres.clone();
        Box::pin(async move { open_postgres(&postgres).await })
    });
    AsyncDieselConnectionManager::new_with_config(url, config)
}

fn sqlite_manager(
    path: &Path,
    busy_timeout_ms: u128,
) -> AsyncDieselConnectionManager<SqliteConnection> {
    let mut config = ManagerConfig::<SqliteConnection>::default();
    // A local file does not go away: checking for an open transaction is enough.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup =
        Box::new(move |path| Box::pin(open_sqlite(path.to_owned(), busy_timeout_ms)));
    AsyncDieselConnectionManager::new_with_config(path.to_string_lossy(), config)
}

/// A pool whose every wait is bounded: no free connection in `wait_timeout`, or none opened
/// or checked in `connect_timeout`, is an error rather than a hang.
fn build_pool<C>(
    manager: AsyncDieselConnectionManager<C>,
    config: &DatabaseConfig,
) -> Result<DeadPool<C>, DatabaseError>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    DeadPool::builder(manager)
        .max_size(config.max_connections)
        .wait_timeout(Some(config.wait_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|error| DatabaseError::InvalidConfig(error.to_string()))
}

/// A connection from the pool, or `Unavailable`. A point read (see [`Lanes`]) takes a free
/// main connection when there is one, else the first connection either pool frees (on
/// SQLite: the next point connection); any other query waits for a main connection.
pub(crate) async fn checkout<C>(lanes: &Lanes<C>) -> Result<Object<C>, RepoError>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    if !lanes.point_read {
        return lanes.main.get().await.map_err(from_pool);
    }
    let at_once = Timeouts {
        wait: Some(Duration::ZERO),
        ..lanes.main.timeouts()
    };
    if let Ok(object) = lanes.main.timeout_get(&at_once).await {
        return Ok(object);
    }
    if !lanes.race {
        return lanes.point.get().await.map_err(from_pool);
    }
    // Dropping the other wait gives up its place in that pool's queue.
    tokio::select! {
        object = lanes.point.get() => object.map_err(from_pool),
        object = lanes.main.get() => object.map_err(from_pool),
    }
}

/// How many connections one piece of work may try when each turns out cut: one more than the
/// pools hold, since a server restart cuts every pooled connection at once and the pool
/// learns it one connection at a time.
pub(crate) fn connection_attempts(lanes: &Lanes<PgConnection>) -> usize {
    lanes.main.status().max_size + lanes.point.status().max_size + 1
}

/// Whether `error` came from a connection that is cut (its server went away or ended the
/// session): the statement did not run to completion there, and another connection may be
/// tried.
pub(crate) fn is_cut(connection: &mut PgConnection, error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        // The server ends the session (a shutdown, `pg_terminate_backend`) with a FATAL
        // error before it closes the socket.
        Error::DatabaseError(_, info) if info.message().starts_with("terminating connection") => {
            true
        }
        _ => PoolableConnection::is_broken(connection),
    }
}

/// Removes a cut connection from the pool for good.
pub(crate) fn discard(object: Object<PgConnection>) {
    drop(Object::take(object));
}

/// How [`begin_postgres`] begins a transaction.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Begin {
    /// `BEGIN`: a write transaction.
    Write,
    /// A read-only transaction whose statements all read one snapshot.
    Snapshot,
}

impl Begin {
    fn sql(self) -> &'static str {
        match self {
            Begin::Write => "BEGIN",
            Begin::Snapshot => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        }
    }
}

/// A pooled PostgreSQL connection with a transaction begun on it. `BEGIN` is the first
/// statement a checked-out connection gets, so a connection found cut there is replaced
/// (nothing ran on it) and `BEGIN` sent on the next one.
pub(crate) async fn begin_postgres(
    pool: &Lanes<PgConnection>,
    begin: Begin,
) -> Result<Object<PgConnection>, RepoError> {
    let mut attempt = 1;
    let attempts = connection_attempts(pool);
    loop {
        let mut object = checkout(pool).await?;
        match PgTransactions::begin_transaction_sql(&mut *object, begin.sql()).await {
            Ok(()) => return Ok(object),
            Err(error) if attempt < attempts && is_cut(&mut object, &error) => {
                discard(object);
                attempt += 1;
            }
            Err(error) => return Err(crate::error::from_diesel(error)),
        }
    }
}

/// A second PostgreSQL connection reading the same snapshot as `first`, for a read whose
/// two statements run at the same time: `first` begins a read-only transaction and exports
/// its snapshot (`pg_export_snapshot()`), the second begins one and imports it. Finish both
/// with [`finish_postgres`].
///
/// `Ok(None)`, with nothing begun on `first`, when no connection is free right now: the
/// second is never waited for, so readers that each hold one connection cannot deadlock a
/// full pool waiting for another (under such load one connection is as fast anyway).
pub(crate) async fn snapshot_pair(
    pool: &Lanes<PgConnection>,
    first: &mut PgConnection,
) -> diesel::QueryResult<Option<Object<PgConnection>>> {
    use diesel::dsl::sql;
    use diesel::sql_types::Text;

    let at_once = Timeouts {
        wait: Some(Duration::ZERO),
        ..pool.main.timeouts()
    };
    let Ok(mut second) = pool.main.timeout_get(&at_once).await else {
        return Ok(None);
    };
    PgTransactions::begin_transaction_sql(first, Begin::Snapshot.sql()).await?;
    let snapshot = diesel::select(sql::<Text>("pg_export_snapshot()"))
        .get_result::<String>(first)
        .await?;
    // An id such as `00000003-0000001B-1`; SET TRANSACTION takes no parameter.
    if snapshot.is_empty() || !snapshot.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(diesel::result::Error::DeserializationError(
            format!("unexpected snapshot id {snapshot:?}").into(),
        ));
    }
    let begin = format!(
        "{}; SET TRANSACTION SNAPSHOT '{snapshot}'",
        Begin::Snapshot.sql()
    );
    PgTransactions::begin_transaction_sql(&mut *second, &begin).await?;
    Ok(Some(second))
}

/// Ends the transaction [`begin_postgres`] began: commits after `Ok`, rolls back after `Err`
/// (keeping the body's error unless the rollback itself fails otherwise).
pub(crate) async fn finish_postgres<T, E>(
    connection: &mut PgConnection,
    outcome: Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match outcome {
        Ok(value) => {
            PgTransactions::commit_transaction(connection).await?;
            Ok(value)
        }
        Err(error) => match PgTransactions::rollback_transaction(connection).await {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

type PgTransactions = <PgConnection as AsyncConnection>::TransactionManager;

/// Runs a write to completion in its own task, whatever happens to the caller.
pub(crate) async fn spawn_write<T, F>(work: F) -> Result<T, RepoError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, RepoError>> + Send + 'static,
{
    tokio::spawn(work).await.map_err(from_join)?
}

impl Database {
    /// Opens the pool for `config.url` and checks that one connection works. A `sqlite://`
    /// file and its folders are created when missing.
    pub async fn connect(config: &DatabaseConfig) -> Result<Database, DatabaseError> {
        if config.max_connections == 0 {
            return Err(DatabaseError::InvalidConfig(
                "max_connections must be at least 1".into(),
            ));
        }
        let point_config = DatabaseConfig {
            max_connections: config.point_read_connections.max(1),
            ..config.clone()
        };
        let pool = match target(&config.url)? {
            Target::Sqlite(path) => {
                create_parent_folder(&path).await?;
                let manager = || sqlite_manager(&path, config.statement_timeout_ms());
                Pool::Sqlite(Lanes {
                    main: build_pool(manager(), config)?,
                    point: build_pool(manager(), &point_config)?,
                    point_read: false,
                    race: false,
                })
            }
            Target::Postgres(url) => {
                let postgres = postgres_config(&url, config)?;
                let manager = || postgres_manager(&url, postgres.clone());
                Pool::Postgres(Lanes {
                    main: build_pool(manager(), config)?,
                    point: build_pool(manager(), &point_config)?,
                    point_read: false,
                    race: true,
                })
            }
        };
        let database = Database { pool };
        database.ping().await.map_err(|error| match error {
            RepoError::Unavailable(message) | RepoError::Internal(message) => {
                DatabaseError::Unavailable(message)
            }
            RepoError::Conflict(_) => DatabaseError::Unavailable(error.to_string()),
        })?;
        tracing::debug!(backend = database.backend().as_str(), "database connected");
        Ok(database)
    }

    /// Applies the pending embedded migrations of the live backend.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        crate::migrations::run(self).await
    }

    /// Whether the database answers a trivial query (for `/readyz`).
    pub async fn ping(&self) -> Result<(), RepoError> {
        with_connection!(self, |conn| {
            diesel::select(1_i32.into_sql::<Integer>())
                .get_result::<i32>(conn)
                .await
                .map(drop)
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The same database, for point reads (see [`Lanes`]).
    pub(crate) fn point_reads(&self) -> Database {
        let mut pool = self.pool.clone();
        match &mut pool {
            Pool::Sqlite(lanes) => lanes.point_read = true,
            Pool::Postgres(lanes) => lanes.point_read = true,
        }
        Database { pool }
    }

    /// The main pool's occupancy.
    pub fn pool_status(&self) -> PoolStatus {
        let status = match &self.pool {
            Pool::Sqlite(lanes) => lanes.main.status(),
            Pool::Postgres(lanes) => lanes.main.status(),
        };
        PoolStatus {
            max_size: status.max_size,
            size: status.size,
            available: status.available,
            waiting: status.waiting,
        }
    }

    /// Closes the pool: idle connections close now, busy ones when returned; later queries
    /// fail with `Unavailable`.
    pub fn close(&self) {
        match &self.pool {
            Pool::Sqlite(lanes) => {
                lanes.main.close();
                lanes.point.close();
            }
            Pool::Postgres(lanes) => {
                lanes.main.close();
                lanes.point.close();
            }
        }
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of the live backend; the block is
/// compiled once per backend. `$body` yields a `diesel::QueryResult<T>` (and may use `?` on
/// diesel results); the macro evaluates to `Result<T, RepoError>`.
///
/// On PostgreSQL a block whose connection turns out cut runs again on another connection, so
/// a block must be safe to run twice: reads, and single writes that set values (a write that
/// must not be repeated belongs in [`write_transaction!`]).
///
/// Where the dialects differ, give one block per backend instead:
/// `with_connection!(db, |conn| sqlite => { … }, postgres => { … })`.
macro_rules! with_connection {
    ($database:expr, |$conn:ident| $body:block) => {
        $crate::pool::with_connection!($database, |$conn| sqlite => $body, postgres => $body)
    };
    ($database:expr, |$conn:ident| sqlite => $sqlite:block, postgres => $postgres:block) => {
        match &$database.pool {
            $crate::pool::Pool::Sqlite(pool) => match $crate::pool::checkout(pool).await {
                Ok(mut object) => {
                    let $conn: &mut $crate::pool::SqliteConnection = &mut object;
                    let result: ::diesel::QueryResult<_> = async { $sqlite }.await;
                    result.map_err($crate::error::from_diesel)
                }
                Err(error) => Err(error),
            },
            // A connection found cut is replaced and the block run again on the next one.
            $crate::pool::Pool::Postgres(pool) => {
                let mut attempt = 1;
                let attempts = $crate::pool::connection_attempts(pool);
                loop {
                    let mut object = match $crate::pool::checkout(pool).await {
                        Ok(object) => object,
                        Err(error) => break Err(error),
                    };
                    let $conn: &mut $crate::pool::PgConnection = &mut object;
                    let result: ::diesel::QueryResult<_> = async { $postgres }.await;
                    match result {
                        Err(error)
                            if attempt < attempts
                                && $crate::pool::is_cut(&mut object, &error) =>
                        {
                            $crate::pool::discard(object);
                            attempt += 1;
                        }
                        result => break result.map_err($crate::error::from_diesel),
                    }
                }
            }
        }
    };
}
pub(crate) use with_connection;

/// Runs `$body`, a read of several statements, in a read-only transaction on a pooled
/// connection, so that every statement reads the same snapshot: a page and its total, or a
/// customer and its orders, never disagree because a write committed between them. On
/// PostgreSQL, `REPEATABLE READ READ ONLY` (never a serialization failure: nothing is
/// written); on SQLite a deferred `BEGIN`, whose first read fixes the snapshot (WAL). Like
/// [`with_connection!`], `$body` yields a `diesel::QueryResult<T>`, the macro evaluates to
/// `Result<T, RepoError>`, and on PostgreSQL the whole transaction runs again on another
/// connection when its connection turns out cut.
///
/// A connection whose transaction is left open (the caller dropped midway) is not reused:
/// the pool discards it when it comes back.
macro_rules! read_snapshot {
    ($database:expr, |$conn:ident| $body:block) => {
        match &$database.pool {
            $crate::pool::Pool::Sqlite(pool) => match $crate::pool::checkout(pool).await {
                Ok(mut object) => {
                    let connection: &mut $crate::pool::SqliteConnection = &mut object;
                    let read = async |$conn: &mut $crate::pool::SqliteConnection| {
                        let result: ::diesel::QueryResult<_> = async { $body }.await;
                        result
                    };
                    let result = ::diesel_async::AsyncConnection::transaction(connection, read);
                    result.await.map_err($crate::error::from_diesel)
                }
                Err(error) => Err(error),
            },
            $crate::pool::Pool::Postgres(pool) => {
                let mut attempt = 1;
                let attempts = $crate::pool::connection_attempts(pool);
                loop {
                    let mut object =
                        match $crate::pool::begin_postgres(pool, $crate::pool::Begin::Snapshot)
                            .await
                        {
                            Ok(object) => object,
                            Err(error) => break Err(error),
                        };
                    let connection: &mut $crate::pool::PgConnection = &mut object;
                    let outcome = async {
                        let $conn: &mut $crate::pool::PgConnection = &mut *connection;
                        let outcome: ::diesel::QueryResult<_> = async { $body }.await;
                        outcome
                    }
                    .await;
                    match $crate::pool::finish_postgres(connection, outcome).await {
                        Err(error)
                            if attempt < attempts && $crate::pool::is_cut(&mut object, &error) =>
                        {
                            $crate::pool::discard(object);
                            attempt += 1;
                        }
                        result => break result.map_err($crate::error::from_diesel),
                    }
                }
            }
        }
    };
}
pub(crate) use read_snapshot;

/// Why a refusable write transaction (see [`write_transaction!`]) rolled back: a query
/// failed, or the body refused with a reason of its own.
pub(crate) enum Rollback<R> {
    Failed(diesel::result::Error),
    Refused(R),
}

impl<R> From<diesel::result::Error> for Rollback<R> {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(error)
    }
}

/// The end of a plain write transaction: a failed query becomes a [`RepoError`].
pub(crate) fn settle<T>(result: diesel::QueryResult<T>) -> Result<T, RepoError> {
    result.map_err(crate::error::from_diesel)
}

/// The end of a refusable write transaction: `Ok(Err(reason))` when the body refused (and
/// everything it wrote was rolled back), `Err` when a query failed.
pub(crate) fn settle_refusable<T, R>(
    result: Result<T, Rollback<R>>,
) -> Result<Result<T, R>, RepoError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(Rollback::Refused(reason)) => Ok(Err(reason)),
        Err(Rollback::Failed(error)) => Err(crate::error::from_diesel(error)),
    }
}

/// Runs `$body` in one write transaction on a pooled connection: `BEGIN IMMEDIATE` on SQLite
/// (the write lock is taken up front, so `busy_timeout` applies), a plain transaction on
/// PostgreSQL. `$body` yields a `diesel::QueryResult<T>`: `Ok` commits, `Err` rolls back.
/// Evaluates to `Result<T, RepoError>`.
///
/// The refusable form, `write_transaction!(db, |conn| refusing R => { … })`, lets the body
/// roll back for a reason of its own: it yields `Result<T, Rollback<R>>` (`?` still works on
/// diesel results) and the macro evaluates to `Result<Result<T, R>, RepoError>`.
///
/// The transaction runs in a spawned task that owns everything it uses (`$body` may only
/// refer to owned values, moved in), so it always commits or rolls back even when the caller
/// is dropped.
macro_rules! write_transaction {
    ($database:expr, |$conn:ident| $body:block) => {
        $crate::pool::write_transaction!(
            @spawn $database, $conn, ::diesel::result::Error, $crate::pool::settle, $body
        )
    };
    ($database:expr, |$conn:ident| refusing $refusal:ty => $body:block) => {
        $crate::pool::write_transaction!(
            @spawn $database,
            $conn,
            $crate::pool::Rollback<$refusal>,
            $crate::pool::settle_refusable,
            $body
        )
    };
    (@spawn $database:expr, $conn:ident, $error:ty, $settle:path, $body:block) => {{
        let pool = $database.pool.clone();
        $crate::pool::spawn_write(async move {
            match &pool {
                $crate::pool::Pool::Sqlite(pool) => {
                    let mut object = $crate::pool::checkout(pool).await?;
                    let connection: &mut $crate::pool::SqliteConnection = &mut object;
                    $settle(
                        connection
                            .immediate_transaction(
                                async |$conn: &mut $crate::pool::SqliteConnection| -> Result<_, $error> {
                                    $body
                                },
                            )
                            .await,
                    )
                }
                $crate::pool::Pool::Postgres(pool) => {
                    let mut object =
                        $crate::pool::begin_postgres(pool, $crate::pool::Begin::Write).await?;
                    let connection: &mut $crate::pool::PgConnection = &mut object;
                    let outcome = async {
                        let $conn: &mut $crate::pool::PgConnection = &mut *connection;
                        let outcome: Result<_, $error> = async { $body }.await;
                        outcome
                    }
                    .await;
                    $settle($crate::pool::finish_postgres(connection, outcome).await)
                }
            }
        })
        .await
    }};
}
pub(crate) use write_transaction;

#[cfg(test)]
mod tests {
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;

    use super::{
        Database, Lanes, PgConnection, Pool, PoolableConnection, checkout, finish_postgres,
        snapshot_pair,
    };
    use crate::config::DatabaseConfig;
    use crate::schema::stores;
    use crate::testing::TestDatabase;

    fn add_store(id: &str) -> String {
        format!(
            "INSERT INTO stores (id, name, currency, timezone, minor_units_per_point, created_at)
             VALUES ('{id}', 'Meanwhile', 'DKK', 'Europe/Copenhagen', 100, '2026-01-01 00:00:00')"
        )
    }

    /// Two counts of the stores with a store added between them on another connection: the
    /// same number in a snapshot, one more without.
    async fn reads_of_a_snapshot_agree(test: TestDatabase) {
        let database = test.database();
        let (before, after) = read_snapshot!(database, |conn| {
            let before = stores::table.count().get_result::<i64>(conn).await?;
            test.execute_sql(&add_store("st_during_snapshot")).await;
            let after = stores::table.count().get_result::<i64>(conn).await?;
            Ok((before, after))
        })
        .unwrap();
        assert_eq!(after, before, "the snapshot does not see the new store");

        let (before, after) = with_connection!(database, |conn| {
            let before = stores::table.count().get_result::<i64>(conn).await?;
            test.execute_sql(&add_store("st_during_plain_read")).await;
            let after = stores::table.count().get_result::<i64>(conn).await?;
            Ok((before, after))
        })
        .unwrap();
        assert_eq!(after, before + 1, "each plain statement reads afresh");
    }

    #[tokio::test]
    async fn reads_of_a_snapshot_agree_on_sqlite() {
        reads_of_a_snapshot_agree(TestDatabase::sqlite().await).await;
    }

    #[tokio::test]
    async fn reads_of_a_snapshot_agree_on_postgres() {
        if let Some(test) = TestDatabase::postgres().await {
            reads_of_a_snapshot_agree(test).await;
        }
    }

    fn postgres_pool(database: &Database) -> &Lanes<PgConnection> {
        match &database.pool {
            Pool::Postgres(pool) => pool,
            Pool::Sqlite(_) => panic!("a PostgreSQL database"),
        }
    }

    /// A store added on a third connection after the pair began is seen by neither of the
    /// pair's connections, and by both once they have finished.
    #[tokio::test]
    async fn a_pair_of_connections_reads_one_snapshot() {
        let Some(test) = TestDatabase::postgres().await else {
            return;
        };
        let pool = postgres_pool(test.database());
        let mut first = checkout(pool).await.unwrap();
        let mut second = snapshot_pair(pool, &mut first)
            .await
            .unwrap()
            .expect("a free second connection");
        test.execute_sql(&add_store("st_during_pair")).await;
        let on_first = stores::table.count().get_result::<i64>(&mut *first).await;
        let on_second = stores::table.count().get_result::<i64>(&mut *second).await;
        let on_first = finish_postgres(&mut first, on_first).await.unwrap();
        let on_second = finish_postgres(&mut second, on_second).await.unwrap();
        assert_eq!(on_first, on_second);
        let now = stores::table
            .count()
            .get_result::<i64>(&mut *first)
            .await
            .unwrap();
        assert_eq!(now, on_first + 1, "the pair read from before the new store");
    }

    /// With every other connection busy the pair is not made, and nothing is begun on the
    /// first connection: a full pool never waits for a second connection.
    #[tokio::test]
    async fn no_pair_when_no_connection_is_free() {
        let Some(test) = TestDatabase::postgres().await else {
            return;
        };
        let mut config = DatabaseConfig::new(test.url());
        config.max_connections = 1;
        let single = Database::connect(&config).await.unwrap();
        let pool = postgres_pool(&single);
        let mut first = checkout(pool).await.unwrap();
        let started = std::time::Instant::now();
        let pair = snapshot_pair(pool, &mut first).await.unwrap();
        assert!(pair.is_none());
        assert!(started.elapsed() < config.wait_timeout, "it did not wait");
        assert!(
            !PoolableConnection::is_broken(&mut *first),
            "no transaction was left open"
        );
    }
}
