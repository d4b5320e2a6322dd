//! Orders ([`OrderRepository`]): recording and cancelling (with the customer's totals and
//! points in the same transaction), reading, a customer's history, and analytics.
//!
//! Writes that involve a customer lock the customer's row first (by updating it), then touch
//! the order: recording, cancelling and erasing a customer all take their locks in that order,
//! so on PostgreSQL they queue rather than deadlock. On SQLite every write transaction
//! excludes the others anyway.

mod analytics;
mod rows;

use chrono::{DateTime, Utc};
use customers_domain::audit::AuditEntry;
use customers_domain::ids::{CustomerId, LedgerEntryId, OrderId, StoreId};
use customers_domain::order::{Cancellation, CustomerAccount, CustomerAnalytics, CustomerTotals};
use customers_domain::order::{Order, Recorded};
use customers_domain::order::{OrderError, OrderRepository};
use customers_domain::page::PageRequest;
use customers_domain::ports::RepoError;
use diesel::dsl::{case_when, max};
use diesel::result::Error as DieselError;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::RunQueryDsl;

use crate::audit::{AuditRow, insert_audit};
use crate::error::is_unique_violation;
use crate::loyalty::{NewEntry, actor_columns};
use crate::pool::{Database, Rollback, read_snapshot, with_connection, write_transaction};
use crate::schema::{customers, ledger_entries, order_items, orders};
use crate::time::to_db;
use rows::{ItemRow, NewItem, NewOrder, OrderRow, with_items};

const RECORDED: &str = "recorded";
const CANCELLED: &str = "cancelled";

/// The items of these orders of `store`, in `(order_id, line_no)` order. The caller selects
/// `ItemRow::as_select()`: a selection is typed by its backend.
#[diesel::dsl::auto_type(no_type_alias)]
fn items_of<'a>(store: &'a str, order_ids: &'a [&'a str]) -> _ {
    order_items::table
        .filter(order_items::store_id.eq(store))
        .filter(order_items::order_id.eq_any(order_ids))
        .order_by((order_items::order_id, order_items::line_no))
}

/// Locks the customer's row (by updating it, as `lock_customer` does) and reads whether they
/// are blocked and the totals an order or a cancel moves: `(is_blocked, total_orders,
/// total_spent_minor, loyalty_points)`. The domain computes the new totals from these
/// (`CustomerTotals`); nothing that could overflow is computed in SQL.
#[diesel::dsl::auto_type(no_type_alias)]
fn lock_totals<'a>(store: &'a str, id: &'a str) -> _ {
    diesel::dsl::update(customers::table.find((store, id)))
        .set(customers::loyalty_points.eq(customers::loyalty_points))
        .returning((
            customers::is_blocked,
            customers::total_orders,
            customers::total_spent_minor,
            customers::loyalty_points,
        ))
}

fn totals((orders, spent, points): (i64, i64, i64)) -> CustomerTotals {
    CustomerTotals {
        total_orders: orders,
        total_spent_minor: spent,
        loyalty_points: points,
    }
}

/// Which order to find.
enum Key<'a> {
    Id(&'a str),
    /// The order recorded under this external id or idempotency claim.
    Recorded {
        external_id: Option<&'a str>,
        claim: Option<&'a str>,
    },
}

/// Why recording wrote nothing.
enum Refusal {
    UnknownCustomer,
    /// The domain's rule refused the order (a blocked customer, totals out of range).
    Rule(OrderError),
    /// The same external id or claim was recorded meanwhile.
    Duplicate,
}

impl Database {
    async fn find_order(&self, store: &str, key: Key<'_>) -> Result<Option<Order>, RepoError> {
        // A point read (see `pool::Lanes`).
        let found = with_connection!(self.point_reads(), |conn| {
            let mut query = orders::table
                .filter(orders::store_id.eq(store))
                .select(OrderRow::as_select())
                .into_boxed();
            query = match key {
                Key::Id(id) => query.filter(orders::id.eq(id)),
                Key::Recorded {
                    external_id: Some(external_id),
                    claim: Some(claim),
                } => query.filter(
                    orders::external_id
                        .eq(external_id)
                        .or(orders::request_claim.eq(claim)),
                ),
                Key::Recorded {
                    external_id: Some(external_id),
                    claim: None,
                } => query.filter(orders::external_id.eq(external_id)),
                Key::Recorded {
                    external_id: None,
                    claim: Some(claim),
                } => query.filter(orders::request_claim.eq(claim)),
                Key::Recorded {
                    external_id: None,
                    claim: None,
                } => return Ok(None),
            };
            let Some(order) = query.first::<OrderRow>(conn).await.optional()? else {
                return Ok(None);
            };
            let items = items_of(store, &[order.id.as_str()])
                .select(ItemRow::as_select())
                .load::<ItemRow>(conn)
                .await?;
            Ok(Some((order, items)))
        })?;
        let Some((order, items)) = found else {
            return Ok(None);
        };
        Ok(with_items(vec![order], items)?.pop())
    }

    /// The order already recorded under the external id or claim of `order`, if any.
    async fn recorded_before(
        &self,
        order: &Order,
        claim: Option<&str>,
    ) -> Result<Option<Order>, RepoError> {
        let key = Key::Recorded {
            external_id: order.external_id.as_deref(),
            claim,
        };
        self.find_order(order.store_id.as_str(), key).await
    }
}

impl OrderRepository for Database {
    async fn record(
        &self,
        order: &Order,
        earn_entry: &LedgerEntryId,
        claim: Option<String>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<Recorded, OrderError> {
        // A repeat (the common duplicate) is answered without taking the write lock.
        if let Some(existing) = self.recorded_before(order, claim.as_deref()).await? {
            return Ok(Recorded::Existing(existing));
        }
        let row = NewOrder::new(order, claim.clone(), to_db(now));
        let items = NewItem::all_of(order)?;
        let audit = AuditRow::new(audit);
        let store = order.store_id.as_str().to_owned();
        let customer = order.customer_id.as_ref().map(|c| c.as_str().to_owned());
        let placed_at = to_db(order.placed_at);
        let (earn_entry, recorded) = (earn_entry.clone(), order.clone());
        let written = write_transaction!(self, |conn| refusing Refusal => {
            let mut earned = None;
            if let Some(customer) = &customer {
                // Locks the customer's row; the domain decides, from what it holds, whether
                // and how the order moves their totals and points.
                let (blocked, orders_count, spent, balance) = lock_totals(&store, customer)
                    .get_result::<(bool, i64, i64, i64)>(conn)
                    .await
                    .optional()?
                    .ok_or(Rollback::Refused(Refusal::UnknownCustomer))?;
                let account = CustomerAccount {
                    blocked,
                    totals: totals((orders_count, spent, balance)),
                };
                let effect = recorded
                    .recording(account, &earn_entry, now)
                    .map_err(|refused| Rollback::Refused(Refusal::Rule(refused)))?;
                let after = effect.totals;
                let newest_order = case_when::<_, _, Nullable<Timestamp>>(
                    customers::last_order_at
                        .is_null()
                        .or(customers::last_order_at.lt(placed_at)),
                    placed_at,
                )
                .otherwise(customers::last_order_at);
                let seq = diesel::update(customers::table.find((&store, customer)))
                    .set((
                        customers::total_orders.eq(after.total_orders),
                        customers::total_spent_minor.eq(after.total_spent_minor),
                        customers::last_order_at.eq(newest_order),
                        customers::loyalty_points.eq(after.loyalty_points),
                        customers::ledger_seq
                            .eq(customers::ledger_seq + i64::from(effect.entry.is_some())),
                    ))
                    .returning(customers::ledger_seq)
                    .get_result::<i64>(conn)
                    .await?;
                earned = effect.entry.map(|entry| (entry, seq));
            }
            diesel::insert_into(orders::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(|error: DieselError| {
                    if is_unique_violation(&error) {
                        Rollback::Refused(Refusal::Duplicate)
                    } else {
                        Rollback::Failed(error)
                    }
                })?;
            // One row at a time: diesel-async has no multi-row insert for SQLite.
            for item in &items {
                diesel::insert_into(order_items::table)
                    .values(item)
                    .execute(conn)
                    .await?;
            }
            if let Some((entry, seq)) = &earned {
                diesel::insert_into(ledger_entries::table)
                    .values(NewEntry::new(entry, *seq, None))
                    .execute(conn)
                    .await?;
            }
            insert_audit(&audit).execute(conn).await?;
            Ok(())
        })?;
        match written {
            Ok(()) => Ok(Recorded::New(order.clone())),
            Err(Refusal::UnknownCustomer) => Err(OrderError::unknown_customer()),
            Err(Refusal::Rule(refused)) => Err(refused),
            Err(Refusal::Duplicate) => match self.recorded_before(order, claim.as_deref()).await? {
                Some(existing) => Ok(Recorded::Existing(existing)),
                None => Err(RepoError::Internal(format!(
                    "the order id {} is taken by another order",
                    order.id
                ))
                .into()),
            },
        }
    }

    async fn find(&self, store: &StoreId, id: &OrderId) -> Result<Option<Order>, RepoError> {
        self.find_order(store.as_str(), Key::Id(id.as_str())).await
    }

    async fn cancel(
        &self,
        store: &StoreId,
        id: &OrderId,
        now: DateTime<Utc>,
        take_back_entry: &LedgerEntryId,
        audit: &AuditEntry,
    ) -> Result<Option<Order>, RepoError> {
        let (store_id, order_id) = (store.as_str().to_owned(), id.as_str().to_owned());
        let (store_key, order_key) = (store.clone(), id.clone());
        let (entry_id, cancelled_at) = (take_back_entry.clone(), to_db(now));
        let actor = audit.actor.clone();
        let (actor_type, actor_id) = actor_columns(Some(&actor));
        let audit = AuditRow::new(audit);
        write_transaction!(self, |conn| {
            let order = orders::table.find((&store_id, &order_id));
            let Some(customer) = order
                .filter(orders::status.eq(RECORDED))
                .select(orders::customer_id)
                .first::<Option<String>>(conn)
                .await
                .optional()?
            else {
                // No such order, or cancelled already: nothing changes.
                return Ok(());
            };
            // Locks the customer's row and reads the totals, before the order is touched.
            let current = match &customer {
                Some(customer) => lock_totals(&store_id, customer)
                    .get_result::<(bool, i64, i64, i64)>(conn)
                    .await
                    .optional()?
                    .map(|(_, orders_count, spent, balance)| {
                        totals((orders_count, spent, balance))
                    }),
                None => None,
            };
            let Some((customer, total, earned)) = diesel::update(order)
                .filter(orders::status.eq(RECORDED))
                .set((
                    orders::status.eq(CANCELLED),
                    orders::cancelled_at.eq(cancelled_at),
                    orders::cancelled_by_type.eq(actor_type),
                    orders::cancelled_by_id.eq(&actor_id),
                ))
                .returning((
                    orders::customer_id,
                    orders::total_minor,
                    orders::points_earned,
                ))
                .get_result::<(Option<String>, i64, i64)>(conn)
                .await
                .optional()?
            else {
                // Cancelled meanwhile by another request.
                return Ok(());
            };
            insert_audit(&audit.about(customer.clone()))
                .execute(conn)
                .await?;
            // The customer may have been erased meanwhile (the order then has none).
            let (Some(customer), Some(current)) = (customer, current) else {
                return Ok(());
            };
            let cancellation = Cancellation {
                store_id: store_key.clone(),
                order_id: order_key.clone(),
                customer_id: CustomerId::from_stored(customer),
                total_minor: total,
                points_earned: earned,
                cancelled_by: actor.clone(),
                cancelled_at: cancelled_at.and_utc(),
            };
            let effect = cancellation.apply(current, &entry_id);
            let after = effect.totals;
            let customer = cancellation.customer_id.as_str();
            // Read after the row lock was taken: sees every order recorded for the customer.
            let newest_recorded = orders::table
                .filter(orders::store_id.eq(&store_id))
                .filter(orders::customer_id.eq(customer))
                .filter(orders::status.eq(RECORDED))
                .select(max(orders::placed_at))
                .single_value();
            let seq = diesel::update(customers::table.find((&store_id, customer)))
                .set((
                    customers::total_orders.eq(after.total_orders),
                    customers::total_spent_minor.eq(after.total_spent_minor),
                    customers::last_order_at.eq(newest_recorded),
                    customers::loyalty_points.eq(after.loyalty_points),
                    customers::ledger_seq
                        .eq(customers::ledger_seq + i64::from(effect.entry.is_some())),
                ))
                .returning(customers::ledger_seq)
                .get_result::<i64>(conn)
                .await?;
            if let Some(entry) = &effect.entry {
                diesel::insert_into(ledger_entries::table)
                    .values(NewEntry::new(entry, seq, None))
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })?;
        self.find(store, id).await
    }

    async fn list_for_customer(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        page: PageRequest,
    ) -> Result<Option<(Vec<Order>, u64)>, RepoError> {
        let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
        let limit = i64::from(page.limit());
        let (store, customer) = (store.as_str(), customer.as_str());
        let found = read_snapshot!(self, |conn| {
            let exists = customers::table
                .find((store, customer))
                .select(customers::id)
                .first::<String>(conn)
                .await
                .optional()?;
            if exists.is_none() {
                return Ok(None);
            }
            let of_customer = || {
                orders::table
                    .filter(orders::store_id.eq(store))
                    .filter(orders::customer_id.eq(customer))
            };
            let total = of_customer().count().get_result::<i64>(conn).await?;
            let page = of_customer()
                .order_by((orders::placed_at.desc(), orders::id.desc()))
                .offset(offset)
                .limit(limit)
                .select(OrderRow::as_select())
                .load::<OrderRow>(conn)
                .await?;
            let ids: Vec<&str> = page.iter().map(|order| order.id.as_str()).collect();
            let items = items_of(store, &ids)
                .select(ItemRow::as_select())
                .load::<ItemRow>(conn)
                .await?;
            Ok(Some((page, items, total)))
        })?;
        let Some((page, items, total)) = found else {
            return Ok(None);
        };
        Ok(Some((
            with_items(page, items)?,
            u64::try_from(total).unwrap_or(0),
        )))
    }

    async fn analytics(
        &self,
        store: &StoreId,
        customer: &CustomerId,
    ) -> Result<Option<CustomerAnalytics>, RepoError> {
        analytics::analytics(self, store, customer).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use customers_domain::order::OrderStatus;

    #[test]
    fn stored_statuses_are_the_domains() {
        assert_eq!(OrderStatus::Recorded.as_str(), RECORDED);
        assert_eq!(OrderStatus::Cancelled.as_str(), CANCELLED);
    }
}
