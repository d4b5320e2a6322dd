//! What recording or cancelling an order does to its customer: the rules every repository
//! applies inside its transaction, after it has locked the customer and read what they hold.
//!
//! A repository reads the customer's [`CustomerAccount`] under its lock, asks
//! [`Order::recording`] or [`Cancellation::apply`] for the [`OrderEffect`], and writes it: the
//! new totals and, when points moved, the ledger entry. No adapter decides a rule itself.

use chrono::{DateTime, Utc};

use crate::audit::Actor;
use crate::ids::{CustomerId, LedgerEntryId, OrderId, StoreId};
use crate::loyalty::{LedgerEntry, LedgerSource, cancel_take_back};
use crate::order::error::OrderError;
use crate::order::model::{CustomerTotals, Order};

/// The reason of the ledger entry an order's points are credited with.
pub const EARN_REASON: &str = "Order recorded";
/// The reason of the ledger entry a cancel takes the order's points back with.
pub const TAKE_BACK_REASON: &str = "Order cancelled";

/// What an order reads of its customer, under the customer's lock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomerAccount {
    /// A blocked customer cannot have orders recorded.
    pub blocked: bool,
    /// Orders, amount spent and loyalty balance before the change.
    pub totals: CustomerTotals,
}

/// What recording or cancelling an order changes for its customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEffect {
    /// The customer's totals afterwards (their `loyalty_points` is the new balance).
    pub totals: CustomerTotals,
    /// The ledger entry to append, when points moved; its `balance_after` is the new balance.
    pub entry: Option<LedgerEntry>,
}

impl Order {
    /// Recording this order for its customer, who holds `account`: refused when the customer
    /// is blocked or their totals cannot take the order; otherwise the new totals and, when
    /// the order earned points, the entry `entry_id` that credits them.
    pub fn recording(
        &self,
        account: CustomerAccount,
        entry_id: &LedgerEntryId,
        now: DateTime<Utc>,
    ) -> Result<OrderEffect, OrderError> {
        let Some(customer) = &self.customer_id else {
            return Err(OrderError::unknown_customer());
        };
        if account.blocked {
            return Err(OrderError::CustomerBlocked);
        }
        let totals = account
            .totals
            .with_order(self.total_minor, self.points_earned)
            .map_err(|_| OrderError::TotalsOutOfRange)?;
        let entry = (self.points_earned > 0).then(|| LedgerEntry {
            id: entry_id.clone(),
            store_id: self.store_id.clone(),
            customer_id: customer.clone(),
            delta: self.points_earned,
            balance_after: totals.loyalty_points,
            reason: EARN_REASON.into(),
            source: LedgerSource::Order,
            order_id: Some(self.id.clone()),
            actor: self.recorded_by.clone(),
            created_at: now,
        });
        Ok(OrderEffect { totals, entry })
    }
}

/// A recorded order of a customer being cancelled: what the cancel needs to know of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cancellation {
    /// The store of the order.
    pub store_id: StoreId,
    /// The order being cancelled.
    pub order_id: OrderId,
    /// The order's customer, whose totals and points go back.
    pub customer_id: CustomerId,
    /// The order's `totalMinor`, taken out of the customer's `totalSpentMinor`.
    pub total_minor: i64,
    /// What the order earned when it was recorded.
    pub points_earned: i64,
    /// Who cancelled: written on the order and on the take-back ledger entry.
    pub cancelled_by: Actor,
    /// When the order was cancelled; also the date of the ledger entry.
    pub cancelled_at: DateTime<Utc>,
}

impl Cancellation {
    /// The customer's totals without the order, and the entry `entry_id` taking back what it
    /// earned — never more than the balance, which does not drop below zero.
    pub fn apply(&self, current: CustomerTotals, entry_id: &LedgerEntryId) -> OrderEffect {
        let taken = cancel_take_back(current.loyalty_points, self.points_earned);
        let totals = current.without_order(self.total_minor, taken);
        let entry = (taken > 0).then(|| LedgerEntry {
            id: entry_id.clone(),
            store_id: self.store_id.clone(),
            customer_id: self.customer_id.clone(),
            delta: -taken,
            balance_after: totals.loyalty_points,
            reason: TAKE_BACK_REASON.into(),
            source: LedgerSource::OrderCancel,
            order_id: Some(self.order_id.clone()),
            actor: Some(self.cancelled_by.clone()),
            created_at: self.cancelled_at,
        });
        OrderEffect { totals, entry }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::order::model::OrderStatus;
    use crate::testing::{now, store_id};

    fn order(total: i64, points: i64) -> Order {
        Order {
            id: OrderId::from_stored("ord_1".into()),
            store_id: store_id(),
            customer_id: Some(CustomerId::from_stored("cus_1".into())),
            external_id: None,
            status: OrderStatus::Recorded,
            total_minor: total,
            currency: "DKK".into(),
            placed_at: now(),
            cancelled_at: None,
            points_earned: points,
            items: Vec::new(),
            recorded_by: Some(Actor::User(UserId::from_stored("usr_1".into()))),
            cancelled_by: None,
        }
    }

    fn account(points: i64) -> CustomerAccount {
        CustomerAccount {
            blocked: false,
            totals: CustomerTotals {
                total_orders: 2,
                total_spent_minor: 1_000,
                loyalty_points: points,
            },
        }
    }

    fn entry_id() -> LedgerEntryId {
        LedgerEntryId::from_stored("led_1".into())
    }

    #[test]
    fn recording_credits_the_points_and_names_the_order_and_its_recorder() {
        let order = order(500, 5);
        let effect = order.recording(account(10), &entry_id(), now()).unwrap();
        assert_eq!(
            effect.totals,
            CustomerTotals {
                total_orders: 3,
                total_spent_minor: 1_500,
                loyalty_points: 15,
            }
        );
        let entry = effect.entry.unwrap();
        assert_eq!((entry.delta, entry.balance_after), (5, 15));
        assert_eq!(entry.source, LedgerSource::Order);
        assert_eq!(entry.reason, EARN_REASON);
        assert_eq!(entry.order_id, Some(order.id.clone()));
        assert_eq!(entry.actor, order.recorded_by);
    }

    #[test]
    fn an_order_that_earns_nothing_writes_no_entry() {
        let effect = order(50, 0).recording(account(10), &entry_id(), now());
        let effect = effect.unwrap();
        assert_eq!(effect.entry, None);
        assert_eq!(effect.totals.loyalty_points, 10);
        assert_eq!(effect.totals.total_orders, 3);
    }

    #[test]
    fn recording_refuses_a_blocked_customer_and_totals_that_cannot_be_stored() {
        let blocked = CustomerAccount {
            blocked: true,
            ..account(0)
        };
        assert_eq!(
            order(500, 5).recording(blocked, &entry_id(), now()),
            Err(OrderError::CustomerBlocked)
        );
        assert_eq!(
            order(500, 5).recording(account(i64::MAX), &entry_id(), now()),
            Err(OrderError::TotalsOutOfRange)
        );
        let mut anonymous = order(500, 5);
        anonymous.customer_id = None;
        assert_eq!(
            anonymous.recording(account(0), &entry_id(), now()),
            Err(OrderError::unknown_customer())
        );
    }

    fn cancellation(total: i64, earned: i64) -> Cancellation {
        Cancellation {
            store_id: store_id(),
            order_id: OrderId::from_stored("ord_1".into()),
            customer_id: CustomerId::from_stored("cus_1".into()),
            total_minor: total,
            points_earned: earned,
            cancelled_by: Actor::User(UserId::from_stored("usr_2".into())),
            cancelled_at: now(),
        }
    }

    #[test]
    fn a_cancel_takes_back_what_the_order_earned() {
        let effect = cancellation(500, 5).apply(account(15).totals, &entry_id());
        assert_eq!(
            effect.totals,
            CustomerTotals {
                total_orders: 1,
                total_spent_minor: 500,
                loyalty_points: 10,
            }
        );
        let entry = effect.entry.unwrap();
        assert_eq!((entry.delta, entry.balance_after), (-5, 10));
        assert_eq!(entry.source, LedgerSource::OrderCancel);
        assert_eq!(entry.reason, TAKE_BACK_REASON);
        assert!(matches!(entry.actor, Some(Actor::User(_))));
    }

    #[test]
    fn a_cancel_takes_back_no_more_than_the_balance() {
        let effect = cancellation(500, 50).apply(account(20).totals, &entry_id());
        assert_eq!(effect.totals.loyalty_points, 0);
        assert_eq!(effect.entry.map(|e| e.delta), Some(-20));
        let spent = cancellation(500, 50).apply(account(0).totals, &entry_id());
        assert_eq!(spent.entry, None);
        assert_eq!(spent.totals.total_orders, 1);
    }
}
