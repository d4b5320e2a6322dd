//! The order use cases: record, read, cancel, a customer's history and analytics.

use std::sync::Arc;

use crate::access::{Action, Principal};
use crate::audit::{Actor, AuditAction};
use crate::ids::{CustomerId, LedgerEntryId, OrderId};
use crate::order::analytics::CustomerAnalytics;
use crate::order::error::OrderError;
use crate::order::model::{Order, OrderInput, OrderStatus, Recorded, points_earned};
use crate::order::ports::OrderRepository;
use crate::page::{Page, PageRequest};
use crate::ports::{RepoError, System};
use crate::store::StoreRepository;

/// Recording, reading and cancelling orders, a customer's order history and analytics.
pub struct OrderService<O, S> {
    orders: Arc<O>,
    stores: Arc<S>,
    system: System,
}

impl<O, S> Clone for OrderService<O, S> {
    fn clone(&self) -> Self {
        Self {
            orders: Arc::clone(&self.orders),
            stores: Arc::clone(&self.stores),
            system: self.system.clone(),
        }
    }
}

impl<O: OrderRepository, S: StoreRepository> OrderService<O, S> {
    /// The use cases over these stores, reading the time and new ids from `system`.
    pub fn new(orders: Arc<O>, stores: Arc<S>, system: System) -> Self {
        Self {
            orders,
            stores,
            system,
        }
    }

    fn entry_id(&self) -> LedgerEntryId {
        LedgerEntryId::from_stored(self.system.new_id(LedgerEntryId::PREFIX))
    }

    /// Records an order; its customer's totals and points follow in the same transaction,
    /// with its `order.recorded` audit entry. The order is bounded by the store's largest
    /// order; the customer's totals must stay storable. An order recorded before under the
    /// same `externalId` (or claim) is answered only to a caller that may read orders; others
    /// learn its id only. `claim` is the idempotency claim the write carries, if any.
    pub async fn record(
        &self,
        caller: &Principal,
        input: &OrderInput,
        claim: Option<&str>,
    ) -> Result<Recorded, OrderError> {
        caller.may(Action::RecordOrder)?;
        let now = self.system.now();
        let valid = input.validate(now)?;
        let store = self
            .stores
            .find(&caller.store_id)
            .await?
            .ok_or(OrderError::Storage(RepoError::Internal(
                "the caller's store is missing".into(),
            )))?;
        valid.check_limit(store.max_order_minor)?;
        let points = if valid.customer_id.is_some() {
            points_earned(valid.total_minor, store.minor_units_per_point)
        } else {
            0
        };
        let order = Order {
            id: OrderId::from_stored(self.system.new_id(OrderId::PREFIX)),
            store_id: caller.store_id.clone(),
            customer_id: valid.customer_id,
            external_id: valid.external_id,
            status: OrderStatus::Recorded,
            total_minor: valid.total_minor,
            currency: store.currency,
            placed_at: valid.placed_at,
            cancelled_at: None,
            points_earned: points,
            items: valid.items,
            recorded_by: Some(Actor::of(caller)),
            cancelled_by: None,
        };
        let mut audit = self
            .system
            .audit_entry(
                &caller.store_id,
                Actor::of(caller),
                AuditAction::OrderRecorded,
            )
            .subject(order.id.as_str());
        if let Some(customer) = &order.customer_id {
            audit = audit.about(customer);
        }
        let recorded = self
            .orders
            .record(
                &order,
                &self.entry_id(),
                claim.map(str::to_owned),
                now,
                &audit,
            )
            .await?;
        match recorded {
            Recorded::Existing(existing) if caller.may(Action::GetOrder).is_err() => {
                Err(OrderError::Exists { id: existing.id })
            }
            recorded => Ok(recorded),
        }
    }

    /// The order with this id in the caller's store; a malformed id is `NotFound`.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<Order, OrderError> {
        caller.may(Action::GetOrder)?;
        let id = OrderId::parse(id).ok_or(OrderError::NotFound)?;
        self.orders
            .find(&caller.store_id, &id)
            .await?
            .ok_or(OrderError::NotFound)
    }

    /// Cancels once, naming the caller as who cancelled, with an `order.cancelled` audit
    /// entry; cancelling again answers the cancelled order and changes nothing.
    pub async fn cancel(&self, caller: &Principal, id: &str) -> Result<Order, OrderError> {
        caller.may(Action::CancelOrder)?;
        let id = OrderId::parse(id).ok_or(OrderError::NotFound)?;
        let audit = self
            .system
            .audit_entry(
                &caller.store_id,
                Actor::of(caller),
                AuditAction::OrderCancelled,
            )
            .subject(id.as_str());
        self.orders
            .cancel(&caller.store_id, &id, audit.at, &self.entry_id(), &audit)
            .await?
            .ok_or(OrderError::NotFound)
    }

    /// One page of the customer's orders, newest first; `NotFound` when the customer is not in
    /// the caller's store.
    pub async fn history(
        &self,
        caller: &Principal,
        customer: &str,
        page: PageRequest,
    ) -> Result<Page<Order>, OrderError> {
        caller.may(Action::CustomerOrders)?;
        let customer = CustomerId::parse(customer).ok_or(OrderError::NotFound)?;
        let (items, total) = self
            .orders
            .list_for_customer(&caller.store_id, &customer, page)
            .await?
            .ok_or(OrderError::NotFound)?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    /// The customer's purchase analytics over their orders that are not cancelled; `NotFound` when
    /// the customer is not in the caller's store.
    pub async fn analytics(
        &self,
        caller: &Principal,
        customer: &str,
    ) -> Result<CustomerAnalytics, OrderError> {
        caller.may(Action::CustomerAnalytics)?;
        let customer = CustomerId::parse(customer).ok_or(OrderError::NotFound)?;
        self.orders
            .analytics(&caller.store_id, &customer)
            .await?
            .ok_or(OrderError::NotFound)
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::access::Role;
    use crate::order::model::OrderItemInput;
    use crate::store::StoreSettings;
    use crate::testing::{TestPorts, now, ready, staff, store_id};

    fn service(ports: TestPorts) -> OrderService<impl OrderRepository, impl StoreRepository> {
        ports.order_service()
    }

    fn with_store(ports: &mut TestPorts, minor_units_per_point: i64) {
        ports.stores.expect_find().returning(move |id| {
            let settings = StoreSettings {
                minor_units_per_point,
                ..StoreSettings::default()
            };
            ready(Ok(Some(settings.validate(id.clone(), now()).unwrap())))
        });
    }

    fn input(customer: Option<&str>) -> OrderInput {
        OrderInput {
            customer_id: customer.map(str::to_owned),
            items: Some(vec![OrderItemInput {
                product_id: Some("p".into()),
                product_name: Some("Pizza".into()),
                quantity: Some(2),
                unit_price_minor: Some(12_345),
                ..OrderItemInput::default()
            }]),
            ..OrderInput::default()
        }
    }

    #[tokio::test]
    async fn recording_earns_points_at_the_stores_rate() {
        let mut ports = TestPorts::new();
        with_store(&mut ports, 50);
        ports
            .orders
            .expect_record()
            .withf(|order, entry, claim, _, audit| {
                order.store_id == store_id()
                    && order.recorded_by.as_ref().and_then(Actor::id) == Some("usr_aaaaaaaaaaaa")
                    && audit.action == AuditAction::OrderRecorded
                    && audit.subject_id.as_deref() == Some(order.id.as_str())
                    && audit.customer_id == order.customer_id
                    && audit.actor == Actor::User(staff(Role::Staff).user_id().unwrap().clone())
                    && order.total_minor == 24_690
                    && order.points_earned == 493
                    && order.currency == "DKK"
                    && order.placed_at == now()
                    && entry.as_str().starts_with("loy_")
                    && claim.as_deref() == Some("idem_1")
            })
            .returning(|order, _, _, _, _| ready(Ok(Recorded::New(order.clone()))));
        let recorded = service(ports)
            .record(
                &staff(Role::Staff),
                &input(Some("cust_000000000009")),
                Some("idem_1"),
            )
            .await
            .unwrap();
        assert!(matches!(recorded, Recorded::New(ref o) if o.status == OrderStatus::Recorded));
    }

    #[tokio::test]
    async fn an_order_without_a_customer_earns_nothing() {
        let mut ports = TestPorts::new();
        with_store(&mut ports, 100);
        ports
            .orders
            .expect_record()
            .withf(|order, _, claim, _, audit| {
                order.points_earned == 0
                    && order.customer_id.is_none()
                    && claim.is_none()
                    && audit.customer_id.is_none()
            })
            .returning(|order, _, _, _, _| ready(Ok(Recorded::New(order.clone()))));
        service(ports)
            .record(&staff(Role::Staff), &input(None), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn invalid_orders_are_refused_before_any_lookup() {
        let mut ports = TestPorts::new();
        ports.stores.expect_find().never();
        ports.orders.expect_record().never();
        let error = service(ports)
            .record(&staff(Role::Staff), &OrderInput::default(), None)
            .await
            .unwrap_err();
        assert!(matches!(error, OrderError::Invalid(e) if e.fields()[0].field == "items"));
    }

    #[tokio::test]
    async fn reads_of_malformed_or_missing_ids_are_not_found() {
        let mut ports = TestPorts::new();
        ports
            .orders
            .expect_find()
            .times(1)
            .returning(|_, _| ready(Ok(None)));
        ports
            .orders
            .expect_cancel()
            .times(1)
            .returning(|_, _, _, _, _| ready(Ok(None)));
        ports
            .orders
            .expect_list_for_customer()
            .times(1)
            .returning(|_, _, _| ready(Ok(None)));
        ports
            .orders
            .expect_analytics()
            .times(1)
            .returning(|_, _| ready(Ok(None)));
        let service = service(ports);
        let caller = staff(Role::Staff);
        assert!(matches!(
            service.get(&caller, "nope").await,
            Err(OrderError::NotFound)
        ));
        assert!(matches!(
            service.get(&caller, "ord_000000000001").await,
            Err(OrderError::NotFound)
        ));
        assert!(matches!(
            service.cancel(&caller, "ord_000000000001").await,
            Err(OrderError::NotFound)
        ));
        assert!(matches!(
            service
                .history(&caller, "cust_000000000001", PageRequest::first())
                .await,
            Err(OrderError::NotFound)
        ));
        assert!(matches!(
            service.analytics(&caller, "cust_000000000001").await,
            Err(OrderError::NotFound)
        ));
        assert!(matches!(
            service.analytics(&caller, "cust_x").await,
            Err(OrderError::NotFound)
        ));
    }

    #[tokio::test]
    async fn a_cancel_carries_the_entry_for_the_points_taken_back() {
        let mut ports = TestPorts::new();
        ports
            .orders
            .expect_cancel()
            .withf(|store, id, at, entry, audit| {
                *store == store_id()
                    && id.as_str() == "ord_000000000001"
                    && *at == now()
                    && entry.as_str().starts_with("loy_")
                    && audit.action == AuditAction::OrderCancelled
                    && audit.actor.id() == Some("usr_aaaaaaaaaaaa")
                    && audit.subject_id.as_deref() == Some("ord_000000000001")
            })
            .returning(|_, _, _, _, _| ready(Ok(None)));
        let _ = service(ports)
            .cancel(&staff(Role::Staff), "ord_000000000001")
            .await;
    }

    fn with_limit(ports: &mut TestPorts, max_order_minor: i64) {
        ports.stores.expect_find().returning(move |id| {
            let settings = StoreSettings {
                max_order_minor,
                ..StoreSettings::default()
            };
            ready(Ok(Some(settings.validate(id.clone(), now()).unwrap())))
        });
    }

    #[tokio::test]
    async fn orders_beyond_the_stores_largest_are_refused_before_any_write() {
        for (total, field) in [(Some(50_001), "totalMinor"), (None, "items")] {
            let mut ports = TestPorts::new();
            with_limit(&mut ports, 50_000);
            ports.orders.expect_record().never();
            let mut order = input(Some("cust_000000000009"));
            order.total_minor = total;
            // Two pizzas of 12,345 and one of 30,000: 54,690 in all.
            if let Some(items) = order.items.as_mut() {
                items.push(OrderItemInput {
                    quantity: Some(1),
                    unit_price_minor: Some(30_000),
                    ..items[0].clone()
                });
            }
            let error = service(ports)
                .record(&staff(Role::Staff), &order, None)
                .await
                .unwrap_err();
            assert!(
                matches!(&error, OrderError::Invalid(e) if e.fields()[0].field == field),
                "{error:?}"
            );
        }
        // At the limit exactly: recorded.
        let mut ports = TestPorts::new();
        with_limit(&mut ports, 24_690);
        ports
            .orders
            .expect_record()
            .times(1)
            .returning(|order, _, _, _, _| ready(Ok(Recorded::New(order.clone()))));
        service(ports)
            .record(&staff(Role::Staff), &input(None), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_repeat_shows_the_order_only_to_callers_that_may_read_orders() {
        use crate::access::{Holder, Scope};
        let key = |scopes: Vec<Scope>| Principal {
            holder: Holder::ApiKey {
                name: "pos".into(),
                scopes,
            },
            ..staff(Role::Staff)
        };
        for (caller, shown) in [
            (key(vec![Scope::WriteOrders]), false),
            (key(vec![Scope::WriteOrders, Scope::ReadOrders]), true),
            (staff(Role::Staff), true),
        ] {
            let mut ports = TestPorts::new();
            with_store(&mut ports, 100);
            ports
                .orders
                .expect_record()
                .returning(|order, _, _, _, _| ready(Ok(Recorded::Existing(order.clone()))));
            let answer = service(ports).record(&caller, &input(None), None).await;
            match answer {
                Ok(Recorded::Existing(order)) => {
                    assert!(shown);
                    assert!(order.id.as_str().starts_with("ord_"));
                }
                Err(OrderError::Exists { id }) => {
                    assert!(!shown);
                    assert!(id.as_str().starts_with("ord_"));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
