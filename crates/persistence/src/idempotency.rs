//! Idempotency keys ([`IdempotencyRepository`]): one row per store, credential and key,
//! holding the request's digest, the claim that holds the key, the customer the request is
//! about (erasing the customer deletes the row, see `crates/persistence/src/customers/mod.rs`),
//! and once completed the response to replay.
//!
//! `begin` is one write transaction: it sweeps the credential's keys past their lifetime,
//! then claims the key with `INSERT … ON CONFLICT DO NOTHING`. Of two requests claiming a
//! new key at once, the database lets exactly one insert; the other reads that row and is
//! told the key is in progress.

use chrono::{DateTime, NaiveDateTime, Utc};
use customers_domain::idempotency::IdempotencyRepository;
use customers_domain::idempotency::{Begin, IdempotencyScope, StoredResponse};
use customers_domain::ids::CustomerId;
use customers_domain::ports::RepoError;
use diesel::SelectableHelper;
use diesel::{ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable, Selectable};
use diesel_async::RunQueryDsl;

use crate::error::corrupt;
use crate::pool::{Database, with_connection, write_transaction};
use crate::schema::idempotency_keys;
use crate::time::{plus, to_db};

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

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
                if held.locked_until > now {
                    return Ok(Found::Decided(Begin::InProgress));
                }
                // The holder's lease ran out (it crashed): take the key over, keeping its
                // claim, so that whatever the holder did write is recognised as this
                // request's. Conditional: of two takers, one wins.
                let taken = diesel::update(this_key)
                    .filter(idempotency_keys::claim.eq(&held.claim))
                    .filter(idempotency_keys::state.eq(IN_PROGRESS))
                    .filter(idempotency_keys::locked_until.le(now))
                    .set(idempotency_keys::locked_until.eq(new_key.locked_until))
                    .execute(conn)
                    .await?;
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
        let key = (
            scope.store_id.as_str(),
            scope.credential_id.as_str(),
            scope.key.as_str(),
        );
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

    async fn release(&self, scope: &IdempotencyScope, claim: &str) -> Result<(), RepoError> {
        let key = (
            scope.store_id.as_str(),
            scope.credential_id.as_str(),
            scope.key.as_str(),
        );
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
