//! Orders and the ledger under hostile callers: actors and audit entries stored with the
//! change, totals that cannot be stored refused with nothing written, a store's largest order,
//! and erasure removing the idempotency keys that name the customer.

use crate::backend::Backend;
use crate::backend::Repositories;
use chrono::Duration;
use customers_domain::audit::AuditRepository;
use customers_domain::audit::{Actor, AuditAction, AuditEntry, AuditFilter};
use customers_domain::customer::Activity;
use customers_domain::customer::CustomerRepository;
use customers_domain::idempotency::IdempotencyRepository;
use customers_domain::idempotency::{Begin, IdempotencyScope, StoredResponse};
use customers_domain::ids::{CredentialId, StoreId};
use customers_domain::loyalty::LedgerSource;
use customers_domain::loyalty::{LoyaltyError, LoyaltyRepository};
use customers_domain::order::{OrderError, OrderRepository};
use customers_domain::page::PageRequest;
use customers_domain::store::StoreRepository;

use crate::support::{
    activity, at, audit, cancelled_audit, entry_id, manual, new_customer, new_store,
    new_store_with_token, now, recorded_audit, simple_order, whole_ledger,
};

async fn entries_of(
    db: &impl Repositories,
    store: &StoreId,
    action: AuditAction,
) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        action: Some(action),
        ..AuditFilter::default()
    };
    let page = PageRequest::new(Some(1), Some(100)).unwrap();
    AuditRepository::list(db, store, &filter, page)
        .await
        .expect("the trail is read")
        .0
}

pub async fn orders_and_cancels_store_their_actor_and_audit_entry<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let key = Actor::ApiKey(CredentialId::from_stored("key_recorder00000001".into()));
    let mut order = simple_order(&store, Some(&maria), 10, 5_000);
    order.recorded_by = Some(key.clone());
    let recorded_entry = AuditEntry {
        actor: key.clone(),
        ..recorded_audit(&order)
    };
    OrderRepository::record(db, &order, &entry_id(), None, now(), &recorded_entry)
        .await
        .expect("recorded");
    let found = OrderRepository::find(db, &store, &order.id).await.unwrap();
    assert_eq!(
        found.as_ref().and_then(|o| o.recorded_by.clone()),
        Some(key.clone())
    );
    assert_eq!(found.and_then(|o| o.cancelled_by), None);
    let (_, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!(
        (entries[0].source, entries[0].actor.clone()),
        (LedgerSource::Order, Some(key.clone()))
    );
    assert_eq!(
        entries_of(db, &store, AuditAction::OrderRecorded).await,
        [recorded_entry]
    );

    // A repeat writes nothing, no entry either.
    let mut repeat = simple_order(&store, Some(&maria), 10, 5_000);
    repeat.external_id = Some("pos-1".into());
    OrderRepository::record(
        db,
        &repeat,
        &entry_id(),
        None,
        now(),
        &recorded_audit(&repeat),
    )
    .await
    .expect("recorded");
    let mut again = simple_order(&store, Some(&maria), 10, 5_000);
    again.external_id = Some("pos-1".into());
    OrderRepository::record(
        db,
        &again,
        &entry_id(),
        None,
        now(),
        &recorded_audit(&again),
    )
    .await
    .expect("a repeat");
    assert_eq!(
        entries_of(db, &store, AuditAction::OrderRecorded)
            .await
            .len(),
        2
    );

    // The cancel names its actor on the order and the entry; its audit entry gets the
    // order's customer; a second cancel writes nothing.
    let cancel = cancelled_audit(&store).subject(order.id.as_str());
    let cancelled = db
        .cancel(&store, &order.id, at(20), &entry_id(), &cancel)
        .await
        .unwrap()
        .expect("the order");
    assert_eq!(cancelled.cancelled_by, Some(cancel.actor.clone()));
    let (_, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!(
        (entries[0].source, entries[0].actor.clone()),
        (LedgerSource::OrderCancel, Some(cancel.actor.clone()))
    );
    let stored = entries_of(db, &store, AuditAction::OrderCancelled).await;
    assert_eq!(stored, [cancel.clone().about(&maria)]);
    let twice = db
        .cancel(
            &store,
            &order.id,
            at(21),
            &entry_id(),
            &cancelled_audit(&store),
        )
        .await
        .unwrap()
        .expect("the order");
    assert_eq!(twice.cancelled_by, Some(cancel.actor));
    assert_eq!(
        entries_of(db, &store, AuditAction::OrderCancelled)
            .await
            .len(),
        1
    );
}

pub async fn totals_that_cannot_be_stored_are_refused_and_nothing_is_written<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let near = Activity {
        total_spent_minor: i64::MAX - 100,
        total_orders: 1,
        last_order_at: Some(at(0)),
        loyalty_points: 7,
    };
    assert_eq!(t.set_activity(&store, &maria, &near).await, Ok(true));
    let too_much = simple_order(&store, Some(&maria), 10, 101);
    assert_eq!(
        OrderRepository::record(
            db,
            &too_much,
            &entry_id(),
            None,
            now(),
            &recorded_audit(&too_much)
        )
        .await,
        Err(OrderError::TotalsOutOfRange)
    );
    assert_eq!(
        OrderRepository::find(db, &store, &too_much.id).await,
        Ok(None)
    );
    assert_eq!(activity(db, &store, &maria).await, near);
    assert!(
        entries_of(db, &store, AuditAction::OrderRecorded)
            .await
            .is_empty()
    );
    // What still fits is recorded.
    let fits = simple_order(&store, Some(&maria), 10, 100);
    OrderRepository::record(db, &fits, &entry_id(), None, now(), &recorded_audit(&fits))
        .await
        .expect("recorded");
    assert_eq!(
        activity(db, &store, &maria).await.total_spent_minor,
        i64::MAX
    );

    // Points likewise, for an order and for an adjustment.
    let rich = Activity {
        total_spent_minor: 0,
        total_orders: 0,
        last_order_at: None,
        loyalty_points: i64::MAX - 5,
    };
    assert_eq!(t.set_activity(&store, &maria, &rich).await, Ok(true));
    let earning = simple_order(&store, Some(&maria), 10, 1_000);
    assert_eq!(
        OrderRepository::record(
            db,
            &earning,
            &entry_id(),
            None,
            now(),
            &recorded_audit(&earning)
        )
        .await,
        Err(OrderError::TotalsOutOfRange)
    );
    let credit = manual(&store, &maria, 6, 1);
    assert_eq!(
        db.adjust(&credit, None, &audit(&store)).await,
        Err(LoyaltyError::PointsOutOfRange)
    );
    assert_eq!(activity(db, &store, &maria).await, rich);
    let exact = manual(&store, &maria, 5, 2);
    let stored = db.adjust(&exact, None, &audit(&store)).await.unwrap();
    assert_eq!(stored.balance_after, i64::MAX);
    let debit = manual(&store, &maria, -1_000_000, 3);
    assert_eq!(
        db.adjust(&debit, None, &audit(&store))
            .await
            .map(|e| e.balance_after),
        Ok(i64::MAX - 1_000_000)
    );
}

pub async fn a_stores_largest_order_is_kept_and_changed<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let store_ref = &store;
    let read = move || async move {
        StoreRepository::find(db, store_ref)
            .await
            .unwrap()
            .expect("the store")
            .max_order_minor
    };
    assert_eq!(read().await, 100_000_000);
    assert_eq!(db.set_max_order_minor(&store, i64::MAX).await, Ok(true));
    assert_eq!(read().await, i64::MAX);
    let elsewhere = StoreId::from_stored("store_nosuchstore0001".into());
    assert_eq!(db.set_max_order_minor(&elsewhere, 5).await, Ok(false));
    assert_eq!(read().await, i64::MAX);
}

pub async fn erasing_a_customer_deletes_the_keys_that_name_them<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, credential) = new_store_with_token(db).await;
    let maria = new_customer(db, &store, 1).await;
    let jonas = new_customer(db, &store, 2).await;
    let scope = |key: &str| IdempotencyScope {
        store_id: store.clone(),
        credential_id: credential.clone(),
        key: key.into(),
    };
    let begin = move |key: IdempotencyScope, customer, claim: &'static str| async move {
        db.begin(
            &key,
            customer,
            "digest",
            claim,
            at(0),
            Duration::seconds(30),
            Duration::hours(24),
        )
        .await
        .expect("begin works")
    };
    let response = StoredResponse {
        status: 200,
        body: b"{\"reason\":\"Maria's birthday\"}".to_vec(),
    };
    for (key, customer, claim) in [
        ("maria-done", &maria, "claim-1"),
        ("jonas-done", &jonas, "claim-2"),
        ("maria-running", &maria, "claim-3"),
    ] {
        let begun = begin(scope(key), Some(customer.clone()), claim).await;
        assert_eq!(
            begun,
            Begin::Proceed {
                claim: claim.into()
            }
        );
        if !key.ends_with("running") {
            db.complete(&scope(key), claim, &response).await.unwrap();
        }
    }
    assert_eq!(
        CustomerRepository::delete(db, &store, &maria, &audit(&store)).await,
        Ok(true)
    );
    // Maria's keys are free again; Jonas's stored response is untouched.
    assert_eq!(
        begin(scope("maria-done"), None, "claim-4").await,
        Begin::Proceed {
            claim: "claim-4".into()
        }
    );
    // The request that was running stores nothing: its key is gone.
    db.complete(&scope("maria-running"), "claim-3", &response)
        .await
        .unwrap();
    assert_eq!(
        begin(scope("maria-running"), None, "claim-5").await,
        Begin::Proceed {
            claim: "claim-5".into()
        }
    );
    assert_eq!(
        begin(scope("jonas-done"), Some(jonas.clone()), "claim-6").await,
        Begin::Replay(response)
    );
}
