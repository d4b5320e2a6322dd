//! Data portability: everything held about one customer, in one document.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::access::{Action, Principal};
use crate::audit::AuditRepository;
use crate::audit::{Actor, AuditAction};
use crate::customer::CustomerRepository;
use crate::customer::{Customer, CustomerError};
use crate::ids::CustomerId;
use crate::loyalty::LedgerEntry;
use crate::loyalty::LoyaltyRepository;
use crate::order::Order;
use crate::order::OrderRepository;
use crate::page::{MAX_LIMIT, PageRequest};
use crate::ports::{RepoError, System};
use crate::review::ReviewRepository;
use crate::review::{Review, ReviewFilter};

/// Everything the store holds about a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerExport {
    /// The full customer, profile, totals and block included.
    pub customer: Customer,
    /// Every order of the customer, newest first, cancelled ones included.
    pub orders: Vec<Order>,
    /// Every review linked to the customer.
    pub reviews: Vec<Review>,
    /// Every entry of the customer's loyalty ledger.
    pub loyalty_entries: Vec<LedgerEntry>,
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
}

/// Exporting everything held about a customer (`GET /customers/:id/export`).
pub struct PrivacyService<C, O, R, L, A> {
    customers: Arc<C>,
    orders: Arc<O>,
    reviews: Arc<R>,
    loyalty: Arc<L>,
    audit: Arc<A>,
    system: System,
}

impl<C, O, R, L, A> Clone for PrivacyService<C, O, R, L, A> {
    fn clone(&self) -> Self {
        Self {
            customers: Arc::clone(&self.customers),
            orders: Arc::clone(&self.orders),
            reviews: Arc::clone(&self.reviews),
            loyalty: Arc::clone(&self.loyalty),
            audit: Arc::clone(&self.audit),
            system: self.system.clone(),
        }
    }
}

/// Reads every page of a list, a hundred rows at a time.
async fn all_pages<T, F, Fut>(mut page_of: F) -> Result<Vec<T>, RepoError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, u64), RepoError>>,
{
    let mut rows = Vec::new();
    for page in 1.. {
        let request = PageRequest::new(Some(page), Some(i64::from(MAX_LIMIT)))
            .map_err(|e| RepoError::Internal(e.to_string()))?;
        let (items, total) = page_of(request).await?;
        let done = items.is_empty() || (rows.len() + items.len()) as u64 >= total;
        rows.extend(items);
        if done {
            break;
        }
    }
    Ok(rows)
}

impl<
    C: CustomerRepository,
    O: OrderRepository,
    R: ReviewRepository,
    L: LoyaltyRepository,
    A: AuditRepository,
> PrivacyService<C, O, R, L, A>
{
    /// The service over these stores, reading the time and new ids from `system`.
    pub fn new(
        customers: Arc<C>,
        orders: Arc<O>,
        reviews: Arc<R>,
        loyalty: Arc<L>,
        audit: Arc<A>,
        system: System,
    ) -> Self {
        Self {
            customers,
            orders,
            reviews,
            loyalty,
            audit,
            system,
        }
    }

    /// The customer's profile, orders, reviews and loyalty entries (docs/api.md §4 "Export").
    pub async fn export(
        &self,
        caller: &Principal,
        id: &str,
    ) -> Result<CustomerExport, CustomerError> {
        caller.may(Action::ExportCustomer)?;
        let id = CustomerId::parse(id).ok_or(CustomerError::NotFound)?;
        let store = &caller.store_id;
        let customer = self
            .customers
            .find(store, &id)
            .await?
            .ok_or(CustomerError::NotFound)?;
        let id = &id;
        let orders = all_pages(|page| async move {
            Ok(self
                .orders
                .list_for_customer(store, id, page)
                .await?
                .unwrap_or_default())
        })
        .await?;
        let filter = ReviewFilter {
            customer_id: Some(id.clone()),
            ..ReviewFilter::default()
        };
        let reviews = all_pages(|page| self.reviews.list(store, &filter, page)).await?;
        let loyalty_entries = all_pages(|page| async move {
            Ok(self
                .loyalty
                .ledger(store, id, page)
                .await?
                .map(|(_, entries, total)| (entries, total))
                .unwrap_or_default())
        })
        .await?;
        // Accounted for before anything leaves the service.
        let audit = self
            .system
            .audit_entry(store, Actor::of(caller), AuditAction::CustomerExported)
            .about(id);
        self.audit.record(&audit).await?;
        Ok(CustomerExport {
            customer,
            orders,
            reviews,
            loyalty_entries,
            exported_at: audit.at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use crate::customer::{Activity, Profile};
    use crate::testing::{TestPorts, now, ready, staff, store_id};

    fn customer() -> Customer {
        Customer {
            id: CustomerId::parse("cust_000000000009").unwrap(),
            store_id: store_id(),
            profile: Profile::default(),
            activity: Activity::default(),
            block: None,
            created_at: now(),
            updated_at: now(),
            version: 1,
        }
    }

    #[tokio::test]
    async fn an_export_reads_every_page_of_every_list() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_find()
            .returning(|_, _| ready(Ok(Some(customer()))));
        // 250 ledger entries: three pages of at most a hundred.
        ports
            .loyalty
            .expect_ledger()
            .times(3)
            .returning(|_, _, page| {
                let start = page.offset() as i64;
                let entries: Vec<LedgerEntry> = (start..(start + 100).min(250))
                    .map(|i| LedgerEntry {
                        id: crate::ids::LedgerEntryId::from_stored(format!("loy_{i:012}")),
                        store_id: store_id(),
                        customer_id: CustomerId::parse("cust_000000000009").unwrap(),
                        delta: 1,
                        balance_after: i + 1,
                        reason: "r".into(),
                        source: crate::loyalty::LedgerSource::Manual,
                        order_id: None,
                        actor: None,
                        created_at: now(),
                    })
                    .collect();
                ready(Ok(Some((250, entries, 250))))
            });
        ports
            .orders
            .expect_list_for_customer()
            .times(1)
            .returning(|_, _, _| ready(Ok(Some((vec![], 0)))));
        ports
            .reviews
            .expect_list()
            .withf(|_, filter, _| {
                filter.customer_id.as_ref().map(|c| c.as_str()) == Some("cust_000000000009")
            })
            .times(1)
            .returning(|_, _, _| ready(Ok((vec![], 0))));
        ports
            .audit
            .expect_record()
            .withf(|entry| {
                entry.action == AuditAction::CustomerExported
                    && entry.customer_id.as_ref().map(|c| c.as_str()) == Some("cust_000000000009")
                    && entry.actor == Actor::of(&staff(Role::Admin))
            })
            .times(1)
            .returning(|_| ready(Ok(())));
        let export = ports
            .privacy_service()
            .export(&staff(Role::Admin), "cust_000000000009")
            .await
            .unwrap();
        assert_eq!(export.loyalty_entries.len(), 250);
        assert_eq!(export.exported_at, now());
    }

    #[tokio::test]
    async fn another_stores_customer_has_nothing_to_export() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_find()
            .returning(|_, _| ready(Ok(None)));
        ports.orders.expect_list_for_customer().never();
        ports.audit.expect_record().never();
        let error = ports
            .privacy_service()
            .export(&staff(Role::Admin), "cust_000000000009")
            .await
            .unwrap_err();
        assert!(matches!(error, CustomerError::NotFound));
    }
}
