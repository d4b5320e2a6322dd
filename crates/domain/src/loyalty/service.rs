//! The loyalty use cases: manual adjustments and reading the ledger.

use std::sync::Arc;

use crate::access::{Action, Principal};
use crate::audit::{Actor, AuditAction};
use crate::ids::{CustomerId, LedgerEntryId};
use crate::loyalty::error::LoyaltyError;
use crate::loyalty::ledger::{Adjustment, LedgerEntry, LedgerSource};
use crate::loyalty::ports::LoyaltyRepository;
use crate::page::{Page, PageRequest};
use crate::ports::System;

/// The answer to an adjustment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdjustOutcome {
    /// The customer whose balance moved.
    pub customer_id: CustomerId,
    /// The balance before the adjustment.
    pub previous_balance: i64,
    /// The points added or deducted.
    pub adjustment: i64,
    /// The balance after the adjustment.
    pub new_balance: i64,
    /// The reason, as stored (trimmed).
    pub reason: String,
}

impl From<&LedgerEntry> for AdjustOutcome {
    fn from(entry: &LedgerEntry) -> Self {
        Self {
            customer_id: entry.customer_id.clone(),
            previous_balance: entry.balance_before(),
            adjustment: entry.delta,
            new_balance: entry.balance_after,
            reason: entry.reason.clone(),
        }
    }
}

/// A customer's balance and a page of their ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoyaltyPage {
    /// The customer's current balance.
    pub balance: i64,
    /// The requested page of entries, newest first.
    pub entries: Page<LedgerEntry>,
}

/// Adjusting points by hand and reading a customer's ledger.
pub struct LoyaltyService<L> {
    loyalty: Arc<L>,
    system: System,
}

impl<L> Clone for LoyaltyService<L> {
    fn clone(&self) -> Self {
        Self {
            loyalty: Arc::clone(&self.loyalty),
            system: self.system.clone(),
        }
    }
}

impl<L: LoyaltyRepository> LoyaltyService<L> {
    /// The use cases over this ledger, reading the time and new ids from `system`.
    pub fn new(loyalty: Arc<L>, system: System) -> Self {
        Self { loyalty, system }
    }

    /// Adds or deducts points by hand. Concurrent adjustments never lose an update: the
    /// database applies each one conditionally. `claim` is the idempotency claim, if any.
    pub async fn adjust(
        &self,
        caller: &Principal,
        customer: &str,
        delta: Option<i64>,
        reason: Option<&str>,
        claim: Option<&str>,
    ) -> Result<AdjustOutcome, LoyaltyError> {
        caller.may(Action::AdjustLoyalty)?;
        let adjustment = Adjustment::parse(delta, reason)?;
        let customer = CustomerId::parse(customer).ok_or(LoyaltyError::NotFound)?;
        let entry = LedgerEntry {
            id: LedgerEntryId::from_stored(self.system.new_id(LedgerEntryId::PREFIX)),
            store_id: caller.store_id.clone(),
            customer_id: customer,
            delta: adjustment.delta,
            balance_after: 0,
            reason: adjustment.reason,
            source: LedgerSource::Manual,
            order_id: None,
            actor: Some(Actor::of(caller)),
            created_at: self.system.now(),
        };
        let audit = self
            .system
            .audit_entry(
                &caller.store_id,
                Actor::of(caller),
                AuditAction::LoyaltyAdjusted,
            )
            .about(&entry.customer_id)
            .subject(entry.id.as_str());
        let stored = self
            .loyalty
            .adjust(&entry, claim.map(str::to_owned), &audit)
            .await?;
        Ok(AdjustOutcome::from(&stored))
    }

    /// The customer's balance and one page of their entries, newest first; `NotFound` when the
    /// customer is not in the caller's store.
    pub async fn ledger(
        &self,
        caller: &Principal,
        customer: &str,
        page: PageRequest,
    ) -> Result<LoyaltyPage, LoyaltyError> {
        caller.may(Action::CustomerLoyalty)?;
        let customer = CustomerId::parse(customer).ok_or(LoyaltyError::NotFound)?;
        let (balance, items, total) = self
            .loyalty
            .ledger(&caller.store_id, &customer, page)
            .await?
            .ok_or(LoyaltyError::NotFound)?;
        Ok(LoyaltyPage {
            balance,
            entries: Page {
                items,
                total,
                request: page,
            },
        })
    }

    /// The customer's points balance; `NotFound` when the customer is not in the caller's
    /// store. Who may read the ledger may read the balance.
    pub async fn balance(&self, caller: &Principal, customer: &str) -> Result<i64, LoyaltyError> {
        let first = PageRequest::new(Some(1), Some(1)).map_err(LoyaltyError::Invalid)?;
        Ok(self.ledger(caller, customer, first).await?.balance)
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::access::Role;
    use crate::testing::{TestPorts, now, ready, staff, store_id};

    fn service(ports: TestPorts) -> LoyaltyService<impl LoyaltyRepository> {
        ports.loyalty_service()
    }

    #[tokio::test]
    async fn an_adjustment_is_a_manual_entry_by_the_caller() {
        let mut ports = TestPorts::new();
        ports
            .loyalty
            .expect_adjust()
            .withf(|entry, claim, audit| {
                audit.action == AuditAction::LoyaltyAdjusted
                    && audit.customer_id.as_ref() == Some(&entry.customer_id)
                    && audit.subject_id.as_deref() == Some(entry.id.as_str())
                    && entry.store_id == store_id()
                    && entry.customer_id.as_str() == "cust_000000000009"
                    && entry.delta == 500
                    && entry.reason == "Compensation"
                    && entry.source == LedgerSource::Manual
                    && entry.actor.as_ref().and_then(Actor::id) == Some("usr_aaaaaaaaaaaa")
                    && entry.created_at == now()
                    && claim.is_none()
            })
            .returning(|entry, _, _| {
                let mut stored = entry.clone();
                stored.balance_after = 2950;
                ready(Ok(stored))
            });
        let outcome = service(ports)
            .adjust(
                &staff(Role::Manager),
                "cust_000000000009",
                Some(500),
                Some(" Compensation "),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            (
                outcome.previous_balance,
                outcome.adjustment,
                outcome.new_balance
            ),
            (2450, 500, 2950)
        );
    }

    #[tokio::test]
    async fn invalid_adjustments_write_nothing() {
        let mut ports = TestPorts::new();
        ports.loyalty.expect_adjust().never();
        let error = service(ports)
            .adjust(
                &staff(Role::Manager),
                "cust_000000000009",
                Some(0),
                None,
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(error, LoyaltyError::Invalid(e) if e.fields().len() == 2));
    }

    #[tokio::test]
    async fn the_ledger_of_a_missing_customer_is_not_found() {
        let mut ports = TestPorts::new();
        ports
            .loyalty
            .expect_ledger()
            .times(1)
            .returning(|_, _, _| ready(Ok(None)));
        let service = service(ports);
        let caller = staff(Role::Staff);
        assert!(matches!(
            service
                .ledger(&caller, "cust_000000000009", PageRequest::first())
                .await,
            Err(LoyaltyError::NotFound)
        ));
        assert!(matches!(
            service
                .ledger(&caller, "not-an-id", PageRequest::first())
                .await,
            Err(LoyaltyError::NotFound)
        ));
    }

    #[tokio::test]
    async fn the_balance_is_the_ledgers_and_reads_one_entry_at_most() {
        let mut ports = TestPorts::new();
        ports
            .loyalty
            .expect_ledger()
            .withf(|store, customer, page| {
                *store == store_id()
                    && customer.as_str() == "cust_000000000009"
                    && page.limit() == 1
            })
            .times(1)
            .returning(|_, _, _| ready(Ok(Some((170, Vec::new(), 3)))));
        let service = service(ports);
        let balance = service
            .balance(&staff(Role::Staff), "cust_000000000009")
            .await;
        assert_eq!(balance.ok(), Some(170));
    }
}
