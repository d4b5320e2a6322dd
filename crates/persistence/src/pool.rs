//! The connection pool: [`Database`] holds a deadpool of SQLite or PostgreSQL connections,
//! and runs one block of diesel code on whichever backend is live.
//!
//! The work around a block is written once, generic over the backend's connection
//! ([`BackendConnection`]: how it begins a transaction, whether an error says it is cut):
//! checking a connection out, the one retry on a cut PostgreSQL connection
//! ([`on_connection`]), transactions and error mapping. Three macros pick the backend
//! ([`on_backend!`]) and hand the block, compiled once per backend, to those functions:
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
#[cfg(feature = "postgres")]
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool as DeadPool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError as ManagerError, PoolableConnection,
    RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection, TransactionManager};

#[cfg(feature = "postgres")]
use crate::config::postgres_config;
use crate::config::{DatabaseConfig, Target, target};
#[cfg(feature = "postgres")]
use crate::error::with_causes;
use crate::error::{DatabaseError, from_join, from_pool};
use crate::idempotency::Holder;

/// A SQLite connection usable from async code (each query runs on a blocking thread).
pub(crate) type SqliteConnection = SyncConnectionWrapper<diesel::SqliteConnection>;
#[cfg(feature = "postgres")]
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

impl<C> Lanes<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    /// Both pools, each of connections from `manager`; `race` as on [`Lanes::race`].
    fn new(
        manager: impl Fn() -> AsyncDieselConnectionManager<C>,
        config: &DatabaseConfig,
        point_config: &DatabaseConfig,
        race: bool,
    ) -> Result<Self, DatabaseError> {
        Ok(Lanes {
            main: build_pool(manager(), config)?,
            point: build_pool(manager(), point_config)?,
            point_read: false,
            race,
        })
    }
}

/// What [`Database`] does with its pools that does not depend on the backend.
trait AnyLanes {
    fn main_status(&self) -> deadpool::Status;
    fn close(&self);
    fn set_point_read(&mut self);
}

impl<C> AnyLanes for Lanes<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    fn main_status(&self) -> deadpool::Status {
        self.main.status()
    }

    fn close(&self) {
        self.main.close();
        self.point.close();
    }

    fn set_point_read(&mut self) {
        self.point_read = true;
    }
}

/// The pools of the live backend.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(Lanes<SqliteConnection>),
    #[cfg(feature = "postgres")]
    Postgres(Lanes<PgConnection>),
}

impl Pool {
    fn lanes(&self) -> &dyn AnyLanes {
        match self {
            Pool::Sqlite(lanes) => lanes,
            #[cfg(feature = "postgres")]
            Pool::Postgres(lanes) => lanes,
        }
    }

    fn lanes_mut(&mut self) -> &mut dyn AnyLanes {
        match self {
            Pool::Sqlite(lanes) => lanes,
            #[cfg(feature = "postgres")]
            Pool::Postgres(lanes) => lanes,
        }
    }
}

/// The database: a pool of connections to SQLite or PostgreSQL. Cheap to clone (the clones
/// share the pool). Implements every repository port of the domain.
#[derive(Clone)]
pub struct Database {
    pub(crate) pool: Pool,
    /// Whether the database is a Citus coordinator (the `citus` extension is installed): a
    /// snapshot exported on it does not cover the workers, so nothing relies on sharing one.
    pub(crate) distributed: bool,
    /// This process as the holder of idempotency claims (shared by the clones).
    pub(crate) holder: std::sync::Arc<crate::idempotency::Holder>,
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

#[cfg(feature = "postgres")]
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

#[cfg(feature = "postgres")]
fn postgres_manager(
    url: &str,
    postgres: tokio_postgres::Config,
) -> AsyncDieselConnectionManager<PgConnection> {
    let mut config = ManagerConfig::<PgConnection>::default();
    // No `SELECT 1` before each checkout (`Verified`): that round trip cost as much as a
    // point read. A connection whose socket the server closed (a restart) is known broken
    // and replaced at checkout; one that turns out cut while it is used is replaced and the
    // work run again on a fresh connection (`on_connection`).
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

/// What the generic code of this module needs from each backend's connection: how it begins a
/// transaction of each kind, and whether an error says that it is cut. Everything else
/// (checkout, the retry on a cut connection, commit and rollback, error mapping) is written
/// once, over any `BackendConnection`.
pub(crate) trait BackendConnection:
    AsyncConnection + PoolableConnection + Send + 'static
{
    /// Begins a transaction of this kind; its statements then run on `self` until
    /// [`finish`] ends it.
    fn begin(&mut self, kind: Begin) -> impl Future<Output = diesel::QueryResult<()>> + Send;

    /// Whether `error` came from a connection that is cut (its server went away or ended the
    /// session): the statement did not run to completion there, and another connection may be
    /// tried.
    fn is_cut(&mut self, error: &diesel::result::Error) -> bool;
}

/// Which transaction [`BackendConnection::begin`] begins.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Begin {
    /// A write transaction: `BEGIN IMMEDIATE` on SQLite (the write lock is taken up front, so
    /// `busy_timeout` applies), `BEGIN` on PostgreSQL.
    Write,
    /// A read whose statements all read one snapshot: on SQLite a deferred `BEGIN`, whose
    /// first read fixes the snapshot (WAL); on PostgreSQL `REPEATABLE READ READ ONLY` (never a
    /// serialization failure: nothing is written).
    Snapshot,
}

impl BackendConnection for SqliteConnection {
    async fn begin(&mut self, kind: Begin) -> diesel::QueryResult<()> {
        let sql = match kind {
            Begin::Write => "BEGIN IMMEDIATE",
            Begin::Snapshot => "BEGIN",
        };
        // As diesel-async's own SQLite transactions begin: on the connection's blocking
        // thread, through the transaction manager that later commits or rolls back.
        self.spawn_blocking(move |connection| {
            diesel::connection::AnsiTransactionManager::begin_transaction_sql(connection, sql)
        })
        .await
    }

    /// A local file is never cut.
    fn is_cut(&mut self, _error: &diesel::result::Error) -> bool {
        false
    }
}

#[cfg(feature = "postgres")]
impl BackendConnection for PgConnection {
    async fn begin(&mut self, kind: Begin) -> diesel::QueryResult<()> {
        let sql = match kind {
            Begin::Write => "BEGIN",
            Begin::Snapshot => POSTGRES_SNAPSHOT,
        };
        diesel_async::AnsiTransactionManager::begin_transaction_sql(self, sql).await
    }

    fn is_cut(&mut self, error: &diesel::result::Error) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => true,
            // The server ends the session (a shutdown, `pg_terminate_backend`) with a FATAL
            // error before it closes the socket.
            Error::DatabaseError(_, info)
                if info.message().starts_with("terminating connection") =>
            {
                true
            }
            _ => PoolableConnection::is_broken(self),
        }
    }
}

/// How PostgreSQL begins a [`Begin::Snapshot`] transaction.
#[cfg(feature = "postgres")]
const POSTGRES_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// How many connections one piece of work may try when each turns out cut: one more than the
/// pools hold, since a server restart cuts every pooled connection at once and the pool
/// learns it one connection at a time.
fn connection_attempts<C>(lanes: &Lanes<C>) -> usize
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    lanes.main.status().max_size + lanes.point.status().max_size + 1
}

/// Removes a cut connection from the pool for good.
fn discard<C>(object: Object<C>)
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    drop(Object::take(object));
}

/// A block of queries on a connection of type `C` that may run more than once: an async
/// closure, called through `FnMut` so that the future it returns borrows the connection but
/// not the closure (a future borrowing the closure cannot be proven `Send` for every lifetime
/// of that borrow).
pub(crate) trait Work<'c, C: 'c, T>:
    AsyncFnMut(&'c mut C) -> diesel::QueryResult<T> + FnMut(&'c mut C) -> Self::Future
{
    type Future: Future<Output = diesel::QueryResult<T>>;
}

impl<'c, C: 'c, T, F, Fut> Work<'c, C, T> for F
where
    F: AsyncFnMut(&'c mut C) -> diesel::QueryResult<T> + FnMut(&'c mut C) -> Fut,
    Fut: Future<Output = diesel::QueryResult<T>>,
{
    type Future = Fut;
}

/// Runs `work` on a pooled connection, in a transaction of kind `transaction` when one is
/// given (begun first, then committed or rolled back by `work`'s outcome, see [`finish`]), and
/// returns the connection with what `work` yielded.
///
/// This is the one place where a cut connection is retried: when `work` (or its transaction)
/// fails because its connection turns out cut ([`BackendConnection::is_cut`]; never on
/// SQLite), the connection leaves the pool and it all runs again on another one, up to
/// [`connection_attempts`]. So `work` must be safe to run twice: what it did on a cut
/// connection did not complete there (a read, a single write that sets values, a transaction
/// that had not committed, or the `BEGIN` of one).
async fn on_connection<C, T, F>(
    lanes: &Lanes<C>,
    transaction: Option<Begin>,
    mut work: F,
) -> Result<(Object<C>, T), RepoError>
where
    C: BackendConnection,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
    F: for<'c> Work<'c, C, T>,
{
    let attempts = connection_attempts(lanes);
    let mut attempt = 1;
    loop {
        let mut object = checkout(lanes).await?;
        let outcome = match transaction {
            None => work(&mut object).await,
            Some(kind) => match object.begin(kind).await {
                Ok(()) => {
                    let outcome = work(&mut object).await;
                    finish(&mut *object, outcome).await
                }
                Err(error) => Err(error),
            },
        };
        match outcome {
            Ok(value) => return Ok((object, value)),
            Err(error) if attempt < attempts && object.is_cut(&error) => {
                discard(object);
                attempt += 1;
            }
            Err(error) => return Err(crate::error::from_diesel(error)),
        }
    }
}

/// Runs `body` on a pooled connection (see [`with_connection!`]).
pub(crate) async fn run<C, T, F>(lanes: &Lanes<C>, body: F) -> Result<T, RepoError>
where
    C: BackendConnection,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
    F: for<'c> Work<'c, C, T>,
{
    let (_connection, value) = on_connection(lanes, None, body).await?;
    Ok(value)
}

/// Runs `body` in a read-only snapshot transaction (see [`read_snapshot!`]); the whole
/// transaction runs again when its connection turns out cut.
///
/// A connection whose transaction is left open (the caller dropped midway) is not reused: the
/// pool discards it when it comes back.
pub(crate) async fn run_snapshot<C, T, F>(lanes: &Lanes<C>, body: F) -> Result<T, RepoError>
where
    C: BackendConnection,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
    F: for<'c> Work<'c, C, T>,
{
    let (_connection, value) = on_connection(lanes, Some(Begin::Snapshot), body).await?;
    Ok(value)
}

/// Runs `body` in a write transaction (see [`write_transaction!`]): commits when it yields
/// `Ok`, rolls back when it yields `Err`. Only `BEGIN` is tried again on a cut connection: once
/// the body has written, whether a cut transaction committed is unknown, and a write that must
/// not happen twice is never repeated.
pub(crate) async fn run_write<C, T, E>(
    lanes: &Lanes<C>,
    body: impl AsyncFnOnce(&mut C) -> Result<T, E>,
) -> Result<E::Settled, RepoError>
where
    C: BackendConnection,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
    E: Settle<T>,
{
    let begin = async |connection: &mut C| connection.begin(Begin::Write).await;
    let (mut object, ()) = on_connection(lanes, None, begin).await?;
    let outcome = body(&mut object).await;
    E::settle(finish(&mut *object, outcome).await)
}

/// A second PostgreSQL connection reading the same snapshot as `first`, for a read whose
/// two statements run at the same time: `first` begins a read-only transaction and exports
/// its snapshot (`pg_export_snapshot()`), the second begins one and imports it. Finish both
/// with [`finish`].
///
/// `Ok(None)`, with nothing begun on `first`, when no connection is free right now: the
/// second is never waited for, so readers that each hold one connection cannot deadlock a
/// full pool waiting for another (under such load one connection is as fast anyway).
#[cfg(feature = "postgres")]
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
    first.begin(Begin::Snapshot).await?;
    let snapshot = diesel::select(sql::<Text>("pg_export_snapshot()"))
        .get_result::<String>(first)
        .await?;
    // An id such as `00000003-0000001B-1`; SET TRANSACTION takes no parameter.
    if snapshot.is_empty() || !snapshot.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(diesel::result::Error::DeserializationError(
            format!("unexpected snapshot id {snapshot:?}").into(),
        ));
    }
    let begin = format!("{POSTGRES_SNAPSHOT}; SET TRANSACTION SNAPSHOT '{snapshot}'");
    diesel_async::AnsiTransactionManager::begin_transaction_sql(&mut *second, &begin).await?;
    Ok(Some(second))
}

/// Ends the transaction [`BackendConnection::begin`] began: commits after `Ok`, rolls back
/// after `Err` (keeping the body's error unless the rollback itself fails otherwise).
pub(crate) async fn finish<C, T, E>(connection: &mut C, outcome: Result<T, E>) -> Result<T, E>
where
    C: AsyncConnection,
    E: From<diesel::result::Error>,
{
    type Transactions<C> = <C as AsyncConnection>::TransactionManager;
    match outcome {
        Ok(value) => {
            Transactions::<C>::commit_transaction(connection).await?;
            Ok(value)
        }
        Err(error) => match Transactions::<C>::rollback_transaction(connection).await {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

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

/// How a write transaction's outcome, once the transaction has ended, becomes the answer of
/// [`run_write`], by the error type of its body.
pub(crate) trait Settle<T>: From<diesel::result::Error> {
    type Settled;
    fn settle(outcome: Result<T, Self>) -> Result<Self::Settled, RepoError>;
}

/// A plain write transaction: a failed query becomes a [`RepoError`].
impl<T> Settle<T> for diesel::result::Error {
    type Settled = T;
    fn settle(outcome: Result<T, Self>) -> Result<T, RepoError> {
        outcome.map_err(crate::error::from_diesel)
    }
}

/// A refusable write transaction: `Ok(Err(reason))` when the body refused (and everything it
/// wrote was rolled back), `Err` when a query failed.
impl<T, R> Settle<T> for Rollback<R> {
    type Settled = Result<T, R>;
    fn settle(outcome: Result<T, Self>) -> Result<Result<T, R>, RepoError> {
        match outcome {
            Ok(value) => Ok(Ok(value)),
            Err(Rollback::Refused(reason)) => Ok(Err(reason)),
            Err(Rollback::Failed(error)) => Err(crate::error::from_diesel(error)),
        }
    }
}

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
        let (pool, holder) = match target(&config.url)? {
            Target::Sqlite(path) => {
                create_parent_folder(&path).await?;
                let manager = || sqlite_manager(&path, config.statement_timeout_ms());
                let lanes = Lanes::new(manager, config, &point_config, false)?;
                (Pool::Sqlite(lanes), Holder::sqlite())
            }
            #[cfg(feature = "postgres")]
            Target::Postgres(url) => {
                let postgres = postgres_config(&url, config)?;
                let manager = || postgres_manager(&url, postgres.clone());
                let lanes = Lanes::new(manager, config, &point_config, true)?;
                (Pool::Postgres(lanes), Holder::postgres(postgres))
            }
            #[cfg(not(feature = "postgres"))]
            Target::Postgres(_) => {
                return Err(DatabaseError::InvalidConfig(
                    "this build has no PostgreSQL support (the `postgres` feature of \
                     customers-persistence)"
                        .into(),
                ));
            }
        };
        let mut database = Database {
            pool,
            distributed: false,
            holder: std::sync::Arc::new(holder),
        };
        database.ping().await.map_err(|error| match error {
            RepoError::Unavailable(message) | RepoError::Internal(message) => {
                DatabaseError::Unavailable(message)
            }
            RepoError::Conflict(_) => DatabaseError::Unavailable(error.to_string()),
        })?;
        database.distributed = database.has_citus().await?;
        tracing::debug!(
            backend = database.backend().as_str(),
            distributed = database.distributed,
            "database connected"
        );
        Ok(database)
    }

    /// Whether this is a PostgreSQL database with the `citus` extension.
    async fn has_citus(&self) -> Result<bool, DatabaseError> {
        #[cfg(feature = "postgres")]
        if let Pool::Postgres(_) = &self.pool {
            use diesel::dsl::sql;
            use diesel::sql_types::Bool;
            return with_connection!(self, |conn| {
                diesel::select(sql::<Bool>(
                    "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
                ))
                .get_result::<bool>(conn)
                .await
            })
            .map_err(|error| DatabaseError::Unavailable(error.to_string()));
        }
        Ok(false)
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
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The same database, for point reads (see [`Lanes`]).
    pub(crate) fn point_reads(&self) -> Database {
        let mut pool = self.pool.clone();
        pool.lanes_mut().set_point_read();
        Database {
            pool,
            distributed: self.distributed,
            holder: self.holder.clone(),
        }
    }

    /// The main pool's occupancy.
    pub fn pool_status(&self) -> PoolStatus {
        let status = self.pool.lanes().main_status();
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
        self.pool.lanes().close();
        self.holder.close();
    }
}

/// Picks the live backend: calls `$run`, one of [`run`], [`run_snapshot`] and [`run_write`],
/// with the backend's pools and `$body` as an async closure whose `$conn` is that backend's
/// connection, and awaits it. This is all a macro does here: diesel's query types are
/// per backend (a query is built and checked for `SqliteConnection` or `PgConnection`), so the
/// body is compiled once for each, while everything around it is the generic functions.
macro_rules! on_backend {
    ($pool:expr, $run:path, async $($move:ident)? |$conn:ident| -> $output:ty $body:block) => {
        match $pool {
            $crate::pool::Pool::Sqlite(lanes) => {
                $run(lanes, async $($move)? |$conn: &mut $crate::pool::SqliteConnection| -> $output { $body }).await
            }
            #[cfg(feature = "postgres")]
            $crate::pool::Pool::Postgres(lanes) => {
                $run(lanes, async $($move)? |$conn: &mut $crate::pool::PgConnection| -> $output { $body }).await
            }
        }
    };
}
pub(crate) use on_backend;

/// Runs `$body` with `$conn` bound to a pooled connection of the live backend. `$body` yields
/// a `diesel::QueryResult<T>` (and may use `?` on diesel results); the macro evaluates to
/// `Result<T, RepoError>`.
///
/// On PostgreSQL a block whose connection turns out cut runs again on another connection, so
/// a block must be safe to run twice: reads, and single writes that set values (a write that
/// must not be repeated belongs in [`write_transaction!`]).
macro_rules! with_connection {
    ($database:expr, |$conn:ident| $body:block) => {
        $crate::pool::on_backend!(
            &$database.pool,
            $crate::pool::run,
            async |$conn| -> ::diesel::QueryResult<_> $body
        )
    };
}
pub(crate) use with_connection;

/// Runs `$body`, a read of several statements, in a read-only transaction on a pooled
/// connection, so that every statement reads the same snapshot: a page and its total, or a
/// customer and its orders, never disagree because a write committed between them (see
/// [`Begin::Snapshot`]). Like [`with_connection!`], `$body` yields a `diesel::QueryResult<T>`,
/// the macro evaluates to `Result<T, RepoError>`, and on PostgreSQL the whole transaction runs
/// again on another connection when its connection turns out cut.
macro_rules! read_snapshot {
    ($database:expr, |$conn:ident| $body:block) => {
        $crate::pool::on_backend!(
            &$database.pool,
            $crate::pool::run_snapshot,
            async |$conn| -> ::diesel::QueryResult<_> $body
        )
    };
}
pub(crate) use read_snapshot;

/// Runs `$body` in one write transaction on a pooled connection ([`Begin::Write`]: `BEGIN
/// IMMEDIATE` on SQLite). `$body` yields a `diesel::QueryResult<T>`: `Ok` commits, `Err` rolls
/// back. Evaluates to `Result<T, RepoError>`.
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
        $crate::pool::write_transaction!(@spawn $database, ::diesel::result::Error, |$conn| $body)
    };
    ($database:expr, |$conn:ident| refusing $refusal:ty => $body:block) => {
        $crate::pool::write_transaction!(
            @spawn $database, $crate::pool::Rollback<$refusal>, |$conn| $body
        )
    };
    (@spawn $database:expr, $error:ty, |$conn:ident| $body:block) => {{
        let pool = $database.pool.clone();
        $crate::pool::spawn_write(async move {
            $crate::pool::on_backend!(
                &pool,
                $crate::pool::run_write,
                async move |$conn| -> Result<_, $error> $body
            )
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
        Database, Lanes, PgConnection, Pool, PoolableConnection, checkout, finish, snapshot_pair,
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
        let on_first = finish(&mut first, on_first).await.unwrap();
        let on_second = finish(&mut second, on_second).await.unwrap();
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
