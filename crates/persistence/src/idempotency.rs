//! Idempotency keys ([`IdempotencyRepository`]): one row per store, credential and key,
//! holding the request's digest, the claim that holds the key, the customer the request is
//! about (erasing the customer deletes the row, see `crates/persistence/src/customers/mod.rs`),
//! and once completed the response to replay.
//!
//! `begin` is one write transaction: it sweeps the credential's keys past their lifetime,
//! then claims the key with `INSERT … ON CONFLICT DO NOTHING`. Of two requests claiming a
//! new key at once, the database lets exactly one insert; the other reads that row and is
//! told the key is in progress.
//!
//! A claim in progress names its holder, the process running it ([`Holder`]). A claim whose
//! holder is gone is taken over at once: on SQLite, any other process than this one (SQLite
//! serves one process at a time, docs/operations.md); on PostgreSQL, a holder whose session
//! lock is free. A request that ends without an answer to store sets the holder to NULL
//! (`abandon`), which frees the claim too. Otherwise the lease (`locked_until`) still ends it.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, NaiveDateTime, Utc};
use customers_domain::idempotency::IdempotencyRepository;
use customers_domain::idempotency::{Begin, IdempotencyScope, StoredResponse};
use customers_domain::ids::CustomerId;
use customers_domain::ports::RepoError;
use diesel::SelectableHelper;
use diesel::{ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable, Selectable};
use diesel_async::RunQueryDsl;

use crate::error::corrupt;
#[cfg(feature = "postgres")]
use crate::error::with_causes;
#[cfg(feature = "postgres")]
use crate::pool::PgConnection;
use crate::pool::{Database, SqliteConnection, with_connection, write_transaction};
use crate::schema::idempotency_keys;
use crate::time::{plus, to_db};

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

/// This process as the holder of idempotency claims: the number written into `holder` of the
/// keys it claims, and how another process tells whether that holder still lives.
///
/// - SQLite serves one process at a time (docs/operations.md): a claim of another holder was
///   made by a process that is gone. The number is drawn at random when the database is
///   opened.
/// - PostgreSQL: the holder keeps a session of its own, outside the pool, that holds the
///   advisory lock `(HOLDER_LOCK_CLASS, number)` for as long as the process lives (it is
///   opened at the first claim). When the process dies, the server ends that session and the
///   lock is free: a claim whose holder's lock can be taken is taken over. Among the live
///   processes a number is unique, since a process draws another when the lock of its draw
///   is held. A session found cut is opened again under the same number when it is free.
pub(crate) struct Holder {
    kind: HolderKind,
    /// Set by [`Holder::close`]: no session is opened any more.
    closed: AtomicBool,
}

enum HolderKind {
    Sqlite(i64),
    #[cfg(feature = "postgres")]
    Postgres {
        config: Box<tokio_postgres::Config>,
        session: tokio::sync::Mutex<Option<Box<Session>>>,
    },
}

/// The session that holds a PostgreSQL holder's lock; dropping it closes the connection.
#[cfg(feature = "postgres")]
struct Session {
    number: i32,
    /// The server process of the session (`pg_backend_pid()`), for tests that end it.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pid: i32,
    client: tokio_postgres::Client,
}

/// The class of the holders' advisory locks (the first half of the two-key form, apart from
/// the login throttle's class and the one-key migration lock): "idem" in ASCII.
#[cfg(feature = "postgres")]
const HOLDER_LOCK_CLASS: i32 = 0x6964_656d;

/// A number not drawn before by this process, random across processes.
fn random_number() -> u64 {
    static DRAWS: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one((
        AtomicU64::fetch_add(&DRAWS, 1, Ordering::Relaxed),
        std::process::id(),
        std::time::SystemTime::now(),
    ))
}

impl Holder {
    /// The holder of a SQLite database's claims: a random number.
    pub(crate) fn sqlite() -> Holder {
        Holder {
            kind: HolderKind::Sqlite(random_number() as i64),
            closed: Default::default(),
        }
    }

    /// The holder of a PostgreSQL database's claims; its session opens at the first claim,
    /// with `config`.
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(config: tokio_postgres::Config) -> Holder {
        Holder {
            kind: HolderKind::Postgres {
                config: Box::new(config),
                session: tokio::sync::Mutex::new(None),
            },
            closed: Default::default(),
        }
    }

    /// This process's number, its lock held (PostgreSQL: the session opened, or opened again
    /// when it was cut).
    async fn number(&self) -> Result<i64, RepoError> {
        if AtomicBool::load(&self.closed, Ordering::Relaxed) {
            return Err(RepoError::Unavailable("the database is closed".into()));
        }
        match &self.kind {
            HolderKind::Sqlite(number) => Ok(*number),
            #[cfg(feature = "postgres")]
            HolderKind::Postgres { config, session } => {
                let mut session = session.lock().await;
                if let Some(open) = session.as_ref().filter(|open| !open.client.is_closed()) {
                    return Ok(open.number.into());
                }
                let previous = session.take().map(|cut| cut.number);
                let open = open_session(config, previous).await?;
                let number = open.number;
                *session = Some(Box::new(open));
                Ok(number.into())
            }
        }
    }

    /// Ends the holder: its claims in progress no longer hold their keys (PostgreSQL: the
    /// session closes, unless a claim is using it right now).
    pub(crate) fn close(&self) {
        AtomicBool::store(&self.closed, true, Ordering::Relaxed);
        match &self.kind {
            HolderKind::Sqlite(_) => {}
            #[cfg(feature = "postgres")]
            HolderKind::Postgres { session, .. } => {
                if let Ok(mut session) = session.try_lock() {
                    session.take();
                }
            }
        }
    }

    /// The server process of the PostgreSQL session holding this holder's lock, if open.
    #[cfg(feature = "testing")]
    pub(crate) async fn session_pid(&self) -> Option<i32> {
        match &self.kind {
            HolderKind::Sqlite(_) => None,
            HolderKind::Postgres { session, .. } => session.lock().await.as_ref().map(|s| s.pid),
        }
    }
}

/// Opens a holder's session and takes its lock: under `previous` when it is free, else under
/// a new random number.
#[cfg(feature = "postgres")]
async fn open_session(
    config: &tokio_postgres::Config,
    previous: Option<i32>,
) -> Result<Session, RepoError> {
    let unavailable = |error: tokio_postgres::Error| {
        RepoError::Unavailable(format!(
            "no session for idempotency claims: {}",
            with_causes(&error)
        ))
    };
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(unavailable)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(error = %with_causes(&error), "the idempotency holder's session ended");
        }
    });
    let candidates = previous
        .into_iter()
        .chain(std::iter::repeat_with(|| random_number() as i32))
        .take(16);
    for number in candidates {
        let row = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, $2), pg_backend_pid()",
                &[&HOLDER_LOCK_CLASS, &number],
            )
            .await
            .map_err(unavailable)?;
        if row.try_get::<_, bool>(0).map_err(unavailable)? {
            let pid = row.try_get(1).map_err(unavailable)?;
            return Ok(Session {
                number,
                pid,
                client,
            });
        }
    }
    Err(RepoError::Internal(
        "no free number for this process's idempotency claims".into(),
    ))
}

/// Whether the holder of a claim, another process than this one, is gone.
trait HolderGone {
    async fn holder_gone(&mut self, holder: i64) -> diesel::QueryResult<bool>;
}

impl HolderGone for SqliteConnection {
    /// One process at a time: another holder is a process that is no more.
    async fn holder_gone(&mut self, _holder: i64) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

#[cfg(feature = "postgres")]
impl HolderGone for PgConnection {
    /// The holder's lock is free: its session, and so its process, ended. Tried in shared
    /// mode, for this transaction only: the claims of one dead holder are taken over side by
    /// side (an exclusive try would see the lock of another taker), while a live holder's
    /// exclusive lock still refuses it. Of two takers of one claim, the conditional update
    /// lets one win.
    async fn holder_gone(&mut self, holder: i64) -> diesel::QueryResult<bool> {
        use diesel::sql_types::{Bool, Integer};
        #[derive(diesel::QueryableByName)]
        struct Free {
            #[diesel(sql_type = Bool)]
            free: bool,
        }
        let Ok(number) = i32::try_from(holder) else {
            // Not a number a PostgreSQL holder draws: no lock could show it alive.
            return Ok(true);
        };
        diesel::sql_query("SELECT pg_try_advisory_xact_lock_shared($1, $2) AS free")
            .bind::<Integer, _>(HOLDER_LOCK_CLASS)
            .bind::<Integer, _>(number)
            .get_result::<Free>(self)
            .await
            .map(|row| row.free)
    }
}

#[derive(Insertable)]
#[diesel(table_name = idempotency_keys)]
struct NewKey {
    store_id: String,
    credential_id: String,
    key: String,
    request_digest: String,
    claim: String,
    state: &'static str,
    locked_until: NaiveDateTime,
    created_at: NaiveDateTime,
    customer_id: Option<String>,
    holder: Option<i64>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct KeyRow {
    request_digest: String,
    claim: String,
    state: String,
    response_status: Option<i32>,
    response_body: Option<Vec<u8>>,
    locked_until: NaiveDateTime,
    holder: Option<i64>,
}

/// What `begin` found, before the stored response is checked.
enum Found {
    Decided(Begin),
    Completed(KeyRow),
}

impl KeyRow {
    fn into_response(self) -> Result<StoredResponse, RepoError> {
        let status = self
            .response_status
            .and_then(|status| u16::try_from(status).ok())
            .ok_or_else(|| corrupt("response status", &format!("{:?}", self.response_status)))?;
        let body = self
            .response_body
            .ok_or_else(|| corrupt("response body", "NULL"))?;
        Ok(StoredResponse { status, body })
    }
}

/// The primary key of a scope's row: store, credential, key.
fn row_key(scope: &IdempotencyScope) -> (&str, &str, &str) {
    (
        scope.store_id.as_str(),
        scope.credential_id.as_str(),
        scope.key.as_str(),
    )
}

impl IdempotencyRepository for Database {
    async fn begin(
        &self,
        scope: &IdempotencyScope,
        customer: Option<CustomerId>,
        request_digest: &str,
        claim: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        lifetime: chrono::Duration,
    ) -> Result<Begin, RepoError> {
        let me = self.holder.number().await?;
        let new_key = NewKey {
            store_id: scope.store_id.as_str().to_owned(),
            credential_id: scope.credential_id.as_str().to_owned(),
            key: scope.key.clone(),
            request_digest: request_digest.to_owned(),
            claim: claim.to_owned(),
            state: IN_PROGRESS,
            locked_until: to_db(plus(now, lease)),
            created_at: to_db(now),
            customer_id: customer.map(|id| id.as_str().to_owned()),
            holder: Some(me),
        };
        let expired_before = to_db(plus(now, -lifetime));
        let now = to_db(now);
        let found = write_transaction!(self, |conn| {
            let of_credential = || {
                idempotency_keys::table
                    .filter(idempotency_keys::store_id.eq(&new_key.store_id))
                    .filter(idempotency_keys::credential_id.eq(&new_key.credential_id))
            };
            // Keys past their lifetime are free: this credential's go now (one index range).
            diesel::delete(of_credential().filter(idempotency_keys::created_at.lt(expired_before)))
                .execute(conn)
                .await?;
            // Twice at most: the holder may release the key between our insert and our read.
            for _ in 0..2 {
                let inserted = diesel::insert_into(idempotency_keys::table)
                    .values(&new_key)
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
                if inserted > 0 {
                    return Ok(Found::Decided(Begin::Proceed {
                        claim: new_key.claim.clone(),
                    }));
                }
                let this_key = of_credential().filter(idempotency_keys::key.eq(&new_key.key));
                let Some(held) = this_key
                    .select(KeyRow::as_select())
                    .first::<KeyRow>(conn)
                    .await
                    .optional()?
                else {
                    continue;
                };
                if held.request_digest != new_key.request_digest {
                    return Ok(Found::Decided(Begin::Mismatch));
                }
                if held.state == COMPLETED {
                    return Ok(Found::Completed(held));
                }
                let free = match held.holder {
                    // Given up by its request (`abandon`).
                    None => true,
                    Some(holder) if holder == me => false,
                    Some(holder) => conn.holder_gone(holder).await?,
                };
                if !free && held.locked_until > now {
                    return Ok(Found::Decided(Begin::InProgress));
                }
                // The holder is gone, gave the key up, or its lease ran out: take the key
                // over, keeping its claim, so that whatever the holder did write is
                // recognised as this request's. Conditional: of two takers, one wins.
                let take_over = diesel::update(this_key)
                    .filter(idempotency_keys::claim.eq(&held.claim))
                    .filter(idempotency_keys::state.eq(IN_PROGRESS))
                    .filter(idempotency_keys::locked_until.eq(held.locked_until));
                let taken_over = (
                    idempotency_keys::locked_until.eq(new_key.locked_until),
                    idempotency_keys::holder.eq(me),
                );
                let taken = match held.holder {
                    Some(holder) => {
                        take_over
                            .filter(idempotency_keys::holder.eq(holder))
                            .set(taken_over)
                            .execute(conn)
                            .await?
                    }
                    None => {
                        take_over
                            .filter(idempotency_keys::holder.is_null())
                            .set(taken_over)
                            .execute(conn)
                            .await?
                    }
                };
                return Ok(Found::Decided(if taken > 0 {
                    Begin::Proceed { claim: held.claim }
                } else {
                    Begin::InProgress
                }));
            }
            Ok(Found::Decided(Begin::InProgress))
        })?;
        match found {
            Found::Decided(begin) => Ok(begin),
            Found::Completed(row) => row.into_response().map(Begin::Replay),
        }
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
        response: &StoredResponse,
    ) -> Result<(), RepoError> {
        let key = row_key(scope);
        with_connection!(self, |conn| {
            diesel::update(idempotency_keys::table.find(key))
                .filter(idempotency_keys::claim.eq(claim))
                .filter(idempotency_keys::state.eq(IN_PROGRESS))
                .set((
                    idempotency_keys::state.eq(COMPLETED),
                    idempotency_keys::response_status.eq(i32::from(response.status)),
                    idempotency_keys::response_body.eq(&response.body),
                ))
                .execute(conn)
                .await
                .map(drop)
        })
    }

    async fn abandon(&self, scope: &IdempotencyScope, claim: &str) -> Result<(), RepoError> {
        let me = self.holder.number().await?;
        let key = row_key(scope);
        with_connection!(self, |conn| {
            diesel::update(idempotency_keys::table.find(key))
                .filter(idempotency_keys::claim.eq(claim))
                .filter(idempotency_keys::state.eq(IN_PROGRESS))
                .filter(idempotency_keys::holder.eq(me))
                .set(idempotency_keys::holder.eq(None::<i64>))
                .execute(conn)
                .await
                .map(drop)
        })
    }

    async fn release(&self, scope: &IdempotencyScope, claim: &str) -> Result<(), RepoError> {
        let key = row_key(scope);
        with_connection!(self, |conn| {
            diesel::delete(idempotency_keys::table.find(key))
                .filter(idempotency_keys::claim.eq(claim))
                .filter(idempotency_keys::state.eq(IN_PROGRESS))
                .execute(conn)
                .await
                .map(drop)
        })
    }
}
