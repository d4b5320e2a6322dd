//! The loyalty ledger ([`LoyaltyRepository`]): append-only entries, numbered per customer.
//!
//! A customer's `loyalty_points` and `ledger_seq` move together in one conditional UPDATE
//! (`… WHERE loyalty_points + delta >= 0 RETURNING loyalty_points, ledger_seq`), and the entry
//! is written with that `seq` and `balance_after` in the same transaction. So the balance is
//! always the sum of the entries, entries order exactly by `seq` (1, 2, 3, … with no gap), and
//! `ledger_seq` is how many there are. Orders write their entries the same way.

use chrono::NaiveDateTime;
use customers_domain::audit::{Actor, AuditEntry};
use customers_domain::ids::{CustomerId, LedgerEntryId, OrderId, StoreId, UserId};
use customers_domain::loyalty::{LedgerEntry, LedgerSource, balances_that_take, check_balance};
use customers_domain::loyalty::{LoyaltyError, LoyaltyRepository};
use customers_domain::page::PageRequest;
use customers_domain::ports::RepoError;
use diesel::{ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable, Selectable};
use diesel::{SelectableHelper, result::Error as DieselError};
use diesel_async::RunQueryDsl;

use crate::audit::{AuditRow, insert_audit};
use crate::customers::lock_customer;
use crate::error::{corrupt, is_unique_violation};
use crate::pool::{Database, Rollback, with_connection, write_transaction};
use crate::schema::{customers, ledger_entries};
use crate::time::{from_db, to_db};

/// A ledger entry as written: `seq` and `balance_after` come from the customer's UPDATE.
#[derive(Insertable)]
#[diesel(table_name = ledger_entries)]
pub(crate) struct NewEntry {
    store_id: String,
    id: String,
    customer_id: String,
    seq: i64,
    delta: i64,
    balance_after: i64,
    reason: String,
    source: &'static str,
    order_id: Option<String>,
    actor_id: Option<String>,
    actor_type: Option<&'static str>,
    request_claim: Option<String>,
    created_at: NaiveDateTime,
}

/// The stored form of an entry's actor: its type and id, as the audit trail stores them.
pub(crate) fn actor_columns(actor: Option<&Actor>) -> (Option<&'static str>, Option<String>) {
    match actor {
        Some(actor) => (Some(actor.kind()), actor.id().map(str::to_owned)),
        None => (None, None),
    }
}

/// Reads back what [`actor_columns`] stored. An id without a type was written before types
/// were kept, by a staff user (the only actor entries had then).
pub(crate) fn actor_of(
    kind: Option<String>,
    id: Option<String>,
) -> Result<Option<Actor>, RepoError> {
    match (kind, id) {
        (None, None) => Ok(None),
        (None, Some(id)) => Ok(Some(Actor::User(UserId::from_stored(id)))),
        (Some(kind), id) => Actor::from_stored(&kind, id)
            .map(Some)
            .ok_or_else(|| corrupt("actor type", &kind)),
    }
}

impl NewEntry {
    /// The entry as the `seq`-th of its customer's ledger.
    pub(crate) fn new(entry: &LedgerEntry, seq: i64, claim: Option<String>) -> Self {
        let (actor_type, actor_id) = actor_columns(entry.actor.as_ref());
        Self {
            store_id: entry.store_id.as_str().to_owned(),
            id: entry.id.as_str().to_owned(),
            customer_id: entry.customer_id.as_str().to_owned(),
            seq,
            delta: entry.delta,
            balance_after: entry.balance_after,
            reason: entry.reason.clone(),
            source: entry.source.as_str(),
            order_id: entry.order_id.as_ref().map(|id| id.as_str().to_owned()),
            actor_id,
            actor_type,
            request_claim: claim,
            created_at: to_db(entry.created_at),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = ledger_entries, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct EntryRow {
    store_id: String,
    id: String,
    customer_id: String,
    delta: i64,
    balance_after: i64,
    reason: String,
    source: String,
    order_id: Option<String>,
    actor_id: Option<String>,
    actor_type: Option<String>,
    created_at: NaiveDateTime,
}

impl EntryRow {
    pub(crate) fn into_entry(self) -> Result<LedgerEntry, RepoError> {
        let source = LedgerSource::from_stored(&self.source)
            .ok_or_else(|| corrupt("source", &self.source))?;
        Ok(LedgerEntry {
            id: LedgerEntryId::from_stored(self.id),
            store_id: StoreId::from_stored(self.store_id),
            customer_id: CustomerId::from_stored(self.customer_id),
            delta: self.delta,
            balance_after: self.balance_after,
            reason: self.reason,
            source,
            order_id: self.order_id.map(OrderId::from_stored),
            actor: actor_of(self.actor_type, self.actor_id)?,
            created_at: from_db(self.created_at),
        })
    }
}

/// Why an adjustment wrote nothing.
enum Refusal {
    UnknownCustomer,
    /// The ledger's rule refused the delta.
    Rule(LoyaltyError),
    /// Another request with the same claim wrote its entry first.
    ClaimUsed,
}

impl Database {
    /// The entry written under this idempotency claim, if any.
    async fn entry_of_claim(
        &self,
        store: &str,
        claim: &str,
    ) -> Result<Option<LedgerEntry>, RepoError> {
        let row = with_connection!(self, |conn| {
            ledger_entries::table
                .filter(ledger_entries::store_id.eq(store))
                .filter(ledger_entries::request_claim.eq(claim))
                .select(EntryRow::as_select())
                .first::<EntryRow>(conn)
                .await
                .optional()
        })?;
        row.map(EntryRow::into_entry).transpose()
    }
}

impl LoyaltyRepository for Database {
    async fn adjust(
        &self,
        entry: &LedgerEntry,
        claim: Option<String>,
        audit: &AuditEntry,
    ) -> Result<LedgerEntry, LoyaltyError> {
        let store = entry.store_id.as_str().to_owned();
        let audit = AuditRow::new(audit);
        if let Some(claim) = &claim
            && let Some(used) = self.entry_of_claim(&store, claim).await?
        {
            return Ok(used);
        }
        let (customer, delta) = (entry.customer_id.as_str().to_owned(), entry.delta);
        let new_entry = entry.clone();
        let (claimed, replay_claim) = (claim.is_some(), claim.clone());
        // Only balances that can take the delta are updated: the sum computed in SQL can
        // neither go below zero nor overflow.
        let (lowest, highest) = balances_that_take(delta);
        let written = write_transaction!(self, |conn| refusing Refusal => {
            let credit = || {
                diesel::update(customers::table.find((&store, &customer)))
                    .filter(customers::loyalty_points.between(lowest, highest))
                    .set((
                        customers::loyalty_points.eq(customers::loyalty_points + delta),
                        customers::ledger_seq.eq(customers::ledger_seq + 1),
                    ))
                    .returning((customers::loyalty_points, customers::ledger_seq))
            };
            let (balance, seq) = match credit().get_result::<(i64, i64)>(conn).await.optional()? {
                Some(moved) => moved,
                None => match lock_customer(&store, &customer)
                    .get_result::<(i64, bool)>(conn)
                    .await
                    .optional()?
                {
                    None => return Err(Rollback::Refused(Refusal::UnknownCustomer)),
                    Some((balance, _)) => match check_balance(balance, delta) {
                        Err(refused) => return Err(Rollback::Refused(Refusal::Rule(refused))),
                        // Changed after the first try's snapshot; locked now, so this succeeds.
                        Ok(_) => credit().get_result::<(i64, i64)>(conn).await?,
                    },
                },
            };
            let written = LedgerEntry {
                balance_after: balance,
                ..new_entry
            };
            diesel::insert_into(ledger_entries::table)
                .values(NewEntry::new(&written, seq, claim))
                .execute(conn)
                .await
                .map_err(|error: DieselError| {
                    if claimed && is_unique_violation(&error) {
                        Rollback::Refused(Refusal::ClaimUsed)
                    } else {
                        Rollback::Failed(error)
                    }
                })?;
            insert_audit(&audit).execute(conn).await?;
            Ok(balance)
        })?;
        match written {
            Ok(balance) => Ok(LedgerEntry {
                balance_after: balance,
                ..entry.clone()
            }),
            Err(Refusal::UnknownCustomer) => Err(LoyaltyError::NotFound),
            Err(Refusal::Rule(refused)) => Err(refused),
            Err(Refusal::ClaimUsed) => {
                let used = match &replay_claim {
                    Some(claim) => self.entry_of_claim(entry.store_id.as_str(), claim).await?,
                    None => None,
                };
                used.ok_or_else(|| {
                    LoyaltyError::Storage(RepoError::Internal(
                        "an entry's claim was taken, but no entry holds it".into(),
                    ))
                })
            }
        }
    }

    async fn ledger(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        page: PageRequest,
    ) -> Result<Option<(i64, Vec<LedgerEntry>, u64)>, RepoError> {
        let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
        let limit = i64::from(page.limit());
        let (store, customer) = (store.as_str(), customer.as_str());
        let found = with_connection!(self, |conn| {
            let Some((balance, newest)) = customers::table
                .find((store, customer))
                .select((customers::loyalty_points, customers::ledger_seq))
                .first::<(i64, i64)>(conn)
                .await
                .optional()?
            else {
                return Ok(None);
            };
            // Entries up to the `seq` read with the balance: the page agrees with the balance
            // even when an adjustment commits in between.
            let rows = ledger_entries::table
                .filter(ledger_entries::store_id.eq(store))
                .filter(ledger_entries::customer_id.eq(customer))
                .filter(ledger_entries::seq.le(newest))
                .order_by(ledger_entries::seq.desc())
                .offset(offset)
                .limit(limit)
                .select(EntryRow::as_select())
                .load::<EntryRow>(conn)
                .await?;
            Ok(Some((balance, newest, rows)))
        })?;
        let Some((balance, newest, rows)) = found else {
            return Ok(None);
        };
        let entries = rows
            .into_iter()
            .map(EntryRow::into_entry)
            .collect::<Result<Vec<_>, _>>()?;
        // Entries are numbered 1..=ledger_seq: the newest number is the count.
        Ok(Some((balance, entries, u64::try_from(newest).unwrap_or(0))))
    }
}
