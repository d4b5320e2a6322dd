//! Login attempts and failures counted per throttle key ([`LoginFailureRepository`]): one row
//! per key of an attempt. The keys span stores (a client address does), so this is the one
//! table without `store_id`.
//!
//! A claim reads the recent rows of its keys, asks the domain's
//! [`verdict`](customers_domain::access::throttle::verdict) and records the attempt in one write
//! transaction, serialized with every other claim on the same keys: SQLite's `BEGIN IMMEDIATE`
//! serializes all writers; on PostgreSQL each key is locked first with
//! `pg_advisory_xact_lock`, in key order (no deadlock), until the transaction ends. An attempt
//! row carries its `attempt_id` until the attempt is resolved.

use chrono::{DateTime, NaiveDateTime, Utc};
use customers_domain::access::throttle::{self, Recent, Refusal};
use customers_domain::access::{AttemptClaim, LoginFailureRepository};
use customers_domain::audit::AuditEntry;
use customers_domain::ports::RepoError;
use diesel::{ExpressionMethods, Insertable, QueryDsl};
use diesel_async::RunQueryDsl;

use crate::audit::{AuditRow, insert_audit};
#[cfg(feature = "postgres")]
use crate::pool::PgConnection;
use crate::pool::{Database, SqliteConnection, with_connection, write_transaction};
use crate::schema::login_failures;
use crate::time::{from_db, to_db};

#[derive(Insertable)]
#[diesel(table_name = login_failures)]
struct NewRow {
    throttle_key: String,
    failed_at: NaiveDateTime,
    attempt_id: Option<String>,
}

/// The keys once each, in order, so that a key given twice counts once and locks are always
/// taken in the same order.
fn distinct(mut keys: Vec<String>) -> Vec<String> {
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The key under which refusals of `key` are noted.
fn refusal_key(key: &str) -> String {
    format!("refused:{key}")
}

/// Serializing the transactions that count under the same keys.
trait KeyLocks {
    /// Holds a lock on each of `keys` (sorted) until the transaction ends.
    async fn lock_keys(&mut self, keys: &[String]) -> diesel::QueryResult<()>;
}

impl KeyLocks for SqliteConnection {
    /// `BEGIN IMMEDIATE` already holds the database's one write lock.
    async fn lock_keys(&mut self, _keys: &[String]) -> diesel::QueryResult<()> {
        Ok(())
    }
}

/// The class of the throttle's advisory locks (the first half of the two-key form, which
/// cannot meet the one-key migration lock of `crate::migrations`): "thro" in ASCII.
#[cfg(feature = "postgres")]
const THROTTLE_LOCK_CLASS: i32 = 0x7468_726f;

#[cfg(feature = "postgres")]
impl KeyLocks for PgConnection {
    async fn lock_keys(&mut self, keys: &[String]) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Integer, Text};
        for key in keys {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind::<Integer, _>(THROTTLE_LOCK_CLASS)
                .bind::<Text, _>(key)
                .execute(self)
                .await?;
        }
        Ok(())
    }
}

impl LoginFailureRepository for Database {
    async fn claim_attempt(&self, claim: AttemptClaim) -> Result<Result<(), Refusal>, RepoError> {
        let keys = distinct(claim.keys.all());
        if keys.is_empty() {
            // Nothing to count under: nothing to refuse.
            return Ok(Ok(()));
        }
        let now = to_db(claim.now);
        let since = to_db(claim.now - throttle::WINDOW);
        let rows: Vec<NewRow> = keys
            .iter()
            .map(|key| NewRow {
                throttle_key: key.clone(),
                failed_at: now,
                attempt_id: Some(claim.attempt.clone()),
            })
            .collect();
        write_transaction!(self, |conn| refusing Refusal => {
            conn.lock_keys(&keys).await?;
            let recent = login_failures::table
                .filter(login_failures::throttle_key.eq_any(&keys))
                .filter(login_failures::failed_at.gt(since))
                .select((login_failures::throttle_key, login_failures::failed_at))
                .load::<(String, NaiveDateTime)>(conn)
                .await?;
            let recent = Recent::sort_out(
                &claim.keys,
                recent.into_iter().map(|(key, at)| (key, from_db(at))),
            );
            throttle::verdict(&claim.policy, &claim.keys, &recent, claim.now)
                .map_err(crate::pool::Rollback::Refused)?;
            // One row at a time: diesel-async has no multi-row insert for SQLite.
            for row in &rows {
                diesel::insert_into(login_failures::table)
                    .values(row)
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })
    }

    async fn fail_attempt(
        &self,
        attempt: String,
        audit: Option<AuditEntry>,
    ) -> Result<(), RepoError> {
        let audit = audit.as_ref().map(AuditRow::new);
        write_transaction!(self, |conn| {
            diesel::update(login_failures::table.filter(login_failures::attempt_id.eq(&attempt)))
                .set(login_failures::attempt_id.eq(None::<String>))
                .execute(conn)
                .await?;
            if let Some(audit) = &audit {
                insert_audit(audit).execute(conn).await?;
            }
            Ok(())
        })
    }

    async fn forget_attempt(&self, attempt: String, clear: Vec<String>) -> Result<(), RepoError> {
        let clear = distinct(clear);
        write_transaction!(self, |conn| {
            diesel::delete(login_failures::table.filter(login_failures::attempt_id.eq(&attempt)))
                .execute(conn)
                .await?;
            if !clear.is_empty() {
                diesel::delete(
                    login_failures::table.filter(login_failures::throttle_key.eq_any(&clear)),
                )
                .execute(conn)
                .await?;
            }
            Ok(())
        })
    }

    async fn note_refusal(
        &self,
        key: String,
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> Result<bool, RepoError> {
        let key = refusal_key(&key);
        let audit = audit.as_ref().map(AuditRow::new);
        let (at, since) = (to_db(at), to_db(since));
        write_transaction!(self, |conn| {
            conn.lock_keys(std::slice::from_ref(&key)).await?;
            let noted: i64 = login_failures::table
                .filter(login_failures::throttle_key.eq(&key))
                .filter(login_failures::failed_at.ge(since))
                .count()
                .get_result(conn)
                .await?;
            if noted > 0 {
                return Ok(false);
            }
            diesel::insert_into(login_failures::table)
                .values(&NewRow {
                    throttle_key: key.clone(),
                    failed_at: at,
                    attempt_id: None,
                })
                .execute(conn)
                .await?;
            if let Some(audit) = &audit {
                insert_audit(audit).execute(conn).await?;
            }
            Ok(true)
        })
    }

    async fn forget_before(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        let before = to_db(before);
        let gone = with_connection!(self, |conn| {
            diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(before)))
                .execute(conn)
                .await
        })?;
        Ok(gone as u64)
    }

    async fn failures_since(
        &self,
        keys: Vec<String>,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, RepoError> {
        let keys = distinct(keys);
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let since = to_db(since);
        let rows = with_connection!(self, |conn| {
            login_failures::table
                .filter(login_failures::throttle_key.eq_any(&keys))
                .filter(login_failures::failed_at.ge(since))
                .order_by((login_failures::throttle_key, login_failures::failed_at))
                .select((login_failures::throttle_key, login_failures::failed_at))
                .load::<(String, NaiveDateTime)>(conn)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(key, at)| (key, from_db(at)))
            .collect())
    }
}
