//! Orders and the loyalty ledger in memory. What an order or a cancel does to its customer is
//! decided by [`Order::recording`] and [`Cancellation::apply`], what an adjustment may do by
//! [`check_balance`]; this only writes their answers, all under one lock.

use chrono::{DateTime, Utc};

use super::{Memory, StoredCustomer, StoredOrder, page_of};
use crate::audit::AuditEntry;
use crate::ids::{CustomerId, LedgerEntryId, OrderId, StoreId};
use crate::loyalty::{LedgerEntry, LoyaltyError, LoyaltyRepository, check_balance};
use crate::order::{
    Cancellation, CustomerAccount, CustomerAnalytics, CustomerTotals, ItemLine, Order, OrderEffect,
    OrderError, OrderRepository, OrderStatus, Recorded, average_order, top_products_and_categories,
};
use crate::page::PageRequest;
use crate::ports::RepoError;

fn totals_of(stored: &StoredCustomer) -> CustomerTotals {
    let activity = &stored.customer.activity;
    CustomerTotals {
        total_orders: activity.total_orders,
        total_spent_minor: activity.total_spent_minor,
        loyalty_points: activity.loyalty_points,
    }
}

/// Writes an order's effect on its customer: the totals and, when points moved, the entry as
/// the next of the ledger.
fn write_effect(stored: &mut StoredCustomer, effect: OrderEffect) {
    let activity = &mut stored.customer.activity;
    activity.total_orders = effect.totals.total_orders;
    activity.total_spent_minor = effect.totals.total_spent_minor;
    activity.loyalty_points = effect.totals.loyalty_points;
    if let Some(entry) = effect.entry {
        stored.ledger.push((entry, None));
    }
}

impl OrderRepository for Memory {
    async fn record(
        &self,
        order: &Order,
        earn_entry: &LedgerEntryId,
        claim: Option<String>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<Recorded, OrderError> {
        self.write(|state| {
            let tenant = state.tenant_mut(&order.store_id)?;
            let same = |stored: &&StoredOrder| {
                (order.external_id.is_some() && stored.order.external_id == order.external_id)
                    || (claim.is_some() && stored.claim == claim)
            };
            if let Some(existing) = tenant.orders.values().find(same) {
                return Ok(Recorded::Existing(existing.order.clone()));
            }
            if tenant.orders.contains_key(&order.id) {
                return Err(RepoError::Internal(format!(
                    "the order id {} is taken by another order",
                    order.id
                ))
                .into());
            }
            tenant.audit_free(audit)?;
            if let Some(customer) = &order.customer_id {
                let stored = tenant
                    .customers
                    .get_mut(customer)
                    .ok_or_else(OrderError::unknown_customer)?;
                let account = CustomerAccount {
                    blocked: stored.customer.is_blocked(),
                    totals: totals_of(stored),
                };
                let effect = order.recording(account, earn_entry, now)?;
                let last = &mut stored.customer.activity.last_order_at;
                *last = Some(last.map_or(order.placed_at, |at| at.max(order.placed_at)));
                write_effect(stored, effect);
            }
            tenant.orders.insert(
                order.id.clone(),
                StoredOrder {
                    order: order.clone(),
                    claim,
                },
            );
            tenant.log(audit.clone());
            Ok(Recorded::New(order.clone()))
        })
    }

    async fn find(&self, store: &StoreId, id: &OrderId) -> Result<Option<Order>, RepoError> {
        self.read(|state| {
            state
                .tenant(store)
                .and_then(|tenant| tenant.orders.get(id))
                .map(|stored| stored.order.clone())
        })
    }

    async fn cancel(
        &self,
        store: &StoreId,
        id: &OrderId,
        now: DateTime<Utc>,
        take_back_entry: &LedgerEntryId,
        audit: &AuditEntry,
    ) -> Result<Option<Order>, RepoError> {
        self.write(|state| {
            let Some(tenant) = state.tenants.get_mut(store) else {
                return Ok(None);
            };
            let Some(stored) = tenant.orders.get_mut(id) else {
                return Ok(None);
            };
            if stored.order.status == OrderStatus::Cancelled {
                return Ok(Some(stored.order.clone()));
            }
            tenant.audit_free(audit)?;
            let Some(stored) = tenant.orders.get_mut(id) else {
                return Ok(None);
            };
            let order = &mut stored.order;
            order.status = OrderStatus::Cancelled;
            order.cancelled_at = Some(now);
            order.cancelled_by = Some(audit.actor.clone());
            let order = order.clone();
            let mut entry = audit.clone();
            entry.customer_id = order.customer_id.clone();
            tenant.log(entry);
            let Some(customer) = &order.customer_id else {
                return Ok(Some(order));
            };
            let newest_recorded = tenant
                .orders
                .values()
                .filter(|other| {
                    other.order.customer_id.as_ref() == Some(customer)
                        && other.order.status == OrderStatus::Recorded
                })
                .map(|other| other.order.placed_at)
                .max();
            if let Some(stored) = tenant.customers.get_mut(customer) {
                let cancellation = Cancellation {
                    store_id: store.clone(),
                    order_id: order.id.clone(),
                    customer_id: customer.clone(),
                    total_minor: order.total_minor,
                    points_earned: order.points_earned,
                    cancelled_by: audit.actor.clone(),
                    cancelled_at: now,
                };
                let effect = cancellation.apply(totals_of(stored), take_back_entry);
                stored.customer.activity.last_order_at = newest_recorded;
                write_effect(stored, effect);
            }
            Ok(Some(order))
        })
    }

    async fn list_for_customer(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        page: PageRequest,
    ) -> Result<Option<(Vec<Order>, u64)>, RepoError> {
        self.read(|state| {
            let tenant = state.tenant(store)?;
            tenant.customers.get(customer)?;
            let mut orders: Vec<&Order> = tenant
                .orders
                .values()
                .map(|stored| &stored.order)
                .filter(|order| order.customer_id.as_ref() == Some(customer))
                .collect();
            orders.sort_by(|a, b| (b.placed_at, &b.id).cmp(&(a.placed_at, &a.id)));
            Some(page_of(orders.into_iter().cloned(), page))
        })
    }

    async fn analytics(
        &self,
        store: &StoreId,
        customer: &CustomerId,
    ) -> Result<Option<CustomerAnalytics>, RepoError> {
        self.read(|state| {
            let tenant = state.tenant(store)?;
            let activity = &tenant.customers.get(customer)?.customer.activity;
            let lines: Vec<ItemLine> = tenant
                .orders
                .values()
                .map(|stored| &stored.order)
                .filter(|order| {
                    order.customer_id.as_ref() == Some(customer)
                        && order.status == OrderStatus::Recorded
                })
                .flat_map(|order| {
                    order.items.iter().map(|item| ItemLine {
                        order_id: order.id.as_str().to_owned(),
                        product_id: item.product_id.clone(),
                        product_name: item.product_name.clone(),
                        category_id: item.category_id.clone(),
                        category_name: item.category_name.clone(),
                    })
                })
                .collect();
            let (top_products, top_categories) = top_products_and_categories(&lines);
            Some(CustomerAnalytics {
                total_orders: activity.total_orders,
                total_spent_minor: activity.total_spent_minor,
                average_order_minor: average_order(
                    activity.total_spent_minor,
                    activity.total_orders,
                ),
                top_products,
                top_categories,
            })
        })
    }
}

impl LoyaltyRepository for Memory {
    async fn adjust(
        &self,
        entry: &LedgerEntry,
        claim: Option<String>,
        audit: &AuditEntry,
    ) -> Result<LedgerEntry, LoyaltyError> {
        self.write(|state| {
            let tenant = state
                .tenants
                .get_mut(&entry.store_id)
                .ok_or(LoyaltyError::NotFound)?;
            if claim.is_some() {
                let used = tenant
                    .customers
                    .values()
                    .flat_map(|stored| &stored.ledger)
                    .find(|(_, used)| *used == claim);
                if let Some((used, _)) = used {
                    return Ok(used.clone());
                }
            }
            tenant.audit_free(audit)?;
            let stored = tenant
                .customers
                .get_mut(&entry.customer_id)
                .ok_or(LoyaltyError::NotFound)?;
            let balance = check_balance(stored.customer.activity.loyalty_points, entry.delta)?;
            let written = LedgerEntry {
                balance_after: balance,
                ..entry.clone()
            };
            stored.customer.activity.loyalty_points = balance;
            stored.ledger.push((written.clone(), claim));
            tenant.log(audit.clone());
            Ok(written)
        })
    }

    async fn ledger(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        page: PageRequest,
    ) -> Result<Option<(i64, Vec<LedgerEntry>, u64)>, RepoError> {
        self.read(|state| {
            let stored = state.tenant(store)?.customers.get(customer)?;
            let newest_first = stored.ledger.iter().rev().map(|(entry, _)| entry.clone());
            let (entries, total) = page_of(newest_first, page);
            Some((stored.customer.activity.loyalty_points, entries, total))
        })
    }
}
