//! Failed logins counted per throttle key ([`LoginFailureRepository`]): one row per failure.
//! The keys span stores (a client address does), so this is the one table without
//! `store_id`.

use chrono::{DateTime, NaiveDateTime, Utc};
use customers_domain::audit::AuditEntry;
use customers_domain::ports::{LoginFailureRepository, RepoError};
use diesel::{ExpressionMethods, Insertable, QueryDsl};
use diesel_async::RunQueryDsl;

use crate::audit::{AuditRow, insert_audit};
use crate::pool::{Database, with_connection, write_transaction};
use crate::schema::login_failures;
use crate::time::{from_db, to_db};

#[derive(Insertable)]
#[diesel(table_name = login_failures)]
struct NewFailure {
    throttle_key: String,
    failed_at: NaiveDateTime,
}

/// The keys once each, so that a key given twice counts one failure.
fn distinct(mut keys: Vec<String>) -> Vec<String> {
    keys.sort_unstable();
    keys.dedup();
    keys
}

impl LoginFailureRepository for Database {
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

    async fn record_failure(
        &self,
        keys: Vec<String>,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> Result<(), RepoError> {
        let keys = distinct(keys);
        let audit = audit.as_ref().map(AuditRow::new);
        if keys.is_empty() && audit.is_none() {
            return Ok(());
        }
        let (at, forget_before) = (to_db(at), to_db(forget_before));
        let rows: Vec<NewFailure> = keys
            .iter()
            .map(|key| NewFailure {
                throttle_key: key.clone(),
                failed_at: at,
            })
            .collect();
        write_transaction!(self, |conn| {
            // The old failures go first: the new one is kept whatever `forget_before` says.
            diesel::delete(
                login_failures::table
                    .filter(login_failures::throttle_key.eq_any(&keys))
                    .filter(login_failures::failed_at.lt(forget_before)),
            )
            .execute(conn)
            .await?;
            // One row at a time: diesel-async has no multi-row insert for SQLite (two keys).
            for row in &rows {
                diesel::insert_into(login_failures::table)
                    .values(row)
                    .execute(conn)
                    .await?;
            }
            if let Some(audit) = &audit {
                insert_audit!(conn, audit)?;
            }
            Ok(())
        })
    }

    async fn clear(&self, key: String) -> Result<(), RepoError> {
        with_connection!(self, |conn| {
            diesel::delete(login_failures::table.filter(login_failures::throttle_key.eq(&key)))
                .execute(conn)
                .await
                .map(drop)
        })
    }
}
