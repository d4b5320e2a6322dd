//! Orders: recording (totals, points and ledger together, once), cancelling, history.

use crate::backend::{Backend, Repositories};
use customers_domain::customer::CustomerRepository;
use customers_domain::customer::{Activity, Block, BlockReason};
use customers_domain::loyalty::LedgerSource;
use customers_domain::loyalty::LoyaltyRepository;
use customers_domain::order::{OrderError, OrderRepository};
use customers_domain::order::{OrderStatus, Recorded};
use customers_domain::page::PageRequest;

use crate::support::{
    activity, at, audit, cancelled_audit, customer_id, entry_id, item, manual, new_customer,
    new_store, now, order, record, recorded_audit, simple_order, whole_ledger,
};

async fn find_order(
    db: &impl Repositories,
    store: &customers_domain::ids::StoreId,
    id: &customers_domain::ids::OrderId,
) -> Result<Option<customers_domain::order::Order>, customers_domain::ports::RepoError> {
    OrderRepository::find(db, store, id).await
}

pub async fn recording_moves_totals_points_and_ledger_together<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let bystander = new_customer(db, &store, 2).await;

    let first = order(
        &store,
        Some(&maria),
        10,
        vec![
            item("pizza", Some("mains"), 2, 8_900),
            item("cola", Some("drinks"), 1, 2_500),
            item("bread", None, 1, 45),
        ],
    );
    assert_eq!(first.points_earned, 203);
    let earn = entry_id();
    let recorded =
        OrderRepository::record(db, &first, &earn, None, now(), &recorded_audit(&first)).await;
    assert_eq!(recorded, Ok(Recorded::New(first.clone())));
    assert_eq!(
        activity(db, &store, &maria).await,
        Activity {
            total_spent_minor: 20_345,
            total_orders: 1,
            last_order_at: Some(at(10)),
            loyalty_points: 203,
        }
    );
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!(balance, 203);
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(
        (entry.id.clone(), entry.delta, entry.balance_after),
        (earn, 203, 203)
    );
    assert_eq!(entry.source, LedgerSource::Order);
    assert_eq!(entry.order_id, Some(first.id.clone()));
    assert_eq!(
        find_order(db, &store, &first.id).await,
        Ok(Some(first.clone()))
    );

    // An older order adds to the totals but leaves last_order_at at the newest.
    let older = simple_order(&store, Some(&maria), 5, 1_000);
    record(db, &older).await;
    // An order too small to earn points writes no ledger entry.
    let tiny = simple_order(&store, Some(&maria), 7, 99);
    assert_eq!(tiny.points_earned, 0);
    record(db, &tiny).await;
    assert_eq!(
        activity(db, &store, &maria).await,
        Activity {
            total_spent_minor: 21_444,
            total_orders: 3,
            last_order_at: Some(at(10)),
            loyalty_points: 213,
        }
    );
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!((balance, entries.len()), (213, 2));
    assert_eq!(activity(db, &store, &bystander).await, Activity::default());
}

pub async fn orders_without_a_customer_earn_nothing<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let walk_in = simple_order(&store, None, 10, 5_000);
    assert_eq!(walk_in.points_earned, 0);
    record(db, &walk_in).await;
    assert_eq!(find_order(db, &store, &walk_in.id).await, Ok(Some(walk_in)));
    assert_eq!(activity(db, &store, &maria).await, Activity::default());
    assert_eq!(whole_ledger(db, &store, &maria).await, (0, vec![]));
}

pub async fn an_unknown_customer_is_refused<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let elsewhere = new_customer(db, &other, 1).await;
    for customer in [customer_id(99), elsewhere] {
        let mut unknown = simple_order(&store, Some(&customer), 10, 5_000);
        unknown.external_id = Some("pos-1".into());
        assert_eq!(
            OrderRepository::record(
                db,
                &unknown,
                &entry_id(),
                Some("claim-1".into()),
                now(),
                &recorded_audit(&unknown)
            )
            .await,
            Err(OrderError::unknown_customer())
        );
        assert_eq!(find_order(db, &store, &unknown.id).await, Ok(None));
    }
    assert_eq!(
        activity(db, &other, &customer_id(1)).await,
        Activity::default()
    );
    // Nothing was kept: the external id and the claim are still free.
    let mut later = simple_order(&store, None, 11, 100);
    later.external_id = Some("pos-1".into());
    let recorded = OrderRepository::record(
        db,
        &later,
        &entry_id(),
        Some("claim-1".into()),
        now(),
        &recorded_audit(&later),
    )
    .await;
    assert_eq!(recorded, Ok(Recorded::New(later)));
}

pub async fn a_blocked_customer_is_refused_and_nothing_is_written<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    record(db, &simple_order(&store, Some(&maria), 5, 1_000)).await;
    let before = activity(db, &store, &maria).await;
    let block = Block {
        reason: Some(BlockReason::from_stored("no-shows".into())),
        at: at(6),
    };
    assert_eq!(
        db.set_block(&store, &maria, Some(block), at(6), &audit(&store))
            .await,
        Ok(true)
    );

    let refused = simple_order(&store, Some(&maria), 10, 5_000);
    assert_eq!(
        OrderRepository::record(
            db,
            &refused,
            &entry_id(),
            None,
            now(),
            &recorded_audit(&refused)
        )
        .await,
        Err(OrderError::CustomerBlocked)
    );
    assert_eq!(find_order(db, &store, &refused.id).await, Ok(None));
    assert_eq!(activity(db, &store, &maria).await, before);
    assert_eq!(whole_ledger(db, &store, &maria).await.1.len(), 1);

    // Unblocked, the same order goes through.
    assert_eq!(
        db.set_block(&store, &maria, None, at(7), &audit(&store))
            .await,
        Ok(true)
    );
    record(db, &refused).await;
    assert_eq!(activity(db, &store, &maria).await.total_orders, 2);
}

pub async fn an_external_id_is_recorded_once<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let maria = new_customer(db, &store, 1).await;
    let mut first = simple_order(&store, Some(&maria), 10, 5_000);
    first.external_id = Some("pos-4711".into());
    record(db, &first).await;
    let after_first = activity(db, &store, &maria).await;

    // The same external id again (another id, another total): the first order, nothing new.
    let mut again = simple_order(&store, Some(&maria), 20, 9_000);
    again.external_id = first.external_id.clone();
    assert_eq!(
        OrderRepository::record(
            db,
            &again,
            &entry_id(),
            None,
            now(),
            &recorded_audit(&again)
        )
        .await,
        Ok(Recorded::Existing(first.clone()))
    );
    assert_eq!(find_order(db, &store, &again.id).await, Ok(None));
    assert_eq!(activity(db, &store, &maria).await, after_first);
    assert_eq!(whole_ledger(db, &store, &maria).await.1.len(), 1);

    // Another store's orders are its own.
    let mut elsewhere = simple_order(&other, None, 10, 5_000);
    elsewhere.external_id = first.external_id.clone();
    record(db, &elsewhere).await;
}

/// Ten requests recording the same external id at once: one order, counted once.
pub async fn concurrent_duplicates_record_one_order<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let attempts: Vec<_> = (0..10)
        .map(|n| {
            let mut order = simple_order(&store, Some(&maria), 10 + n, 5_000);
            order.external_id = Some("pos-race".into());
            let db = db.clone();
            tokio::spawn(async move {
                OrderRepository::record(
                    &db,
                    &order,
                    &entry_id(),
                    None,
                    now(),
                    &recorded_audit(&order),
                )
                .await
            })
        })
        .collect();
    let mut new = Vec::new();
    let mut existing = Vec::new();
    for attempt in attempts {
        match attempt.await.expect("the task finished") {
            Ok(Recorded::New(order)) => new.push(order),
            Ok(Recorded::Existing(order)) => existing.push(order),
            Err(error) => panic!("a duplicate failed: {error:?}"),
        }
    }
    assert_eq!(new.len(), 1, "exactly one order is new");
    assert!(existing.iter().all(|order| *order == new[0]));
    let counted = activity(db, &store, &maria).await;
    assert_eq!(
        (counted.total_orders, counted.total_spent_minor),
        (1, 5_000)
    );
    assert_eq!(counted.loyalty_points, 50);
    let history = db
        .list_for_customer(&store, &maria, PageRequest::first())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.1, 1);
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!((balance, entries.len()), (50, 1));
}

pub async fn an_idempotency_claim_records_once<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let first = simple_order(&store, Some(&maria), 10, 5_000);
    assert_eq!(
        OrderRepository::record(
            db,
            &first,
            &entry_id(),
            Some("idem_claim_1".into()),
            now(),
            &recorded_audit(&first)
        )
        .await,
        Ok(Recorded::New(first.clone()))
    );
    // A retry of the same request carries the same claim, with new ids.
    let retry = simple_order(&store, Some(&maria), 10, 5_000);
    assert_eq!(
        OrderRepository::record(
            db,
            &retry,
            &entry_id(),
            Some("idem_claim_1".into()),
            now(),
            &recorded_audit(&retry)
        )
        .await,
        Ok(Recorded::Existing(first))
    );
    assert_eq!(activity(db, &store, &maria).await.total_orders, 1);
    // Another claim is another order.
    let other = simple_order(&store, Some(&maria), 10, 5_000);
    let recorded = OrderRepository::record(
        db,
        &other,
        &entry_id(),
        Some("idem_claim_2".into()),
        now(),
        &recorded_audit(&other),
    )
    .await;
    assert_eq!(recorded, Ok(Recorded::New(other)));
}

pub async fn cancelling_reverses_totals_and_finds_the_new_last_order<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let early = record(db, &simple_order(&store, Some(&maria), 10, 1_000)).await;
    let middle = record(db, &simple_order(&store, Some(&maria), 20, 2_000)).await;
    let late = record(db, &simple_order(&store, Some(&maria), 30, 3_000)).await;

    let take_back = entry_id();
    let cancelled = db
        .cancel(
            &store,
            &late.id,
            at(40),
            &take_back,
            &cancelled_audit(&store),
        )
        .await;
    let expected = customers_domain::order::Order {
        status: OrderStatus::Cancelled,
        cancelled_at: Some(at(40)),
        cancelled_by: Some(cancelled_audit(&store).actor),
        ..late.clone()
    };
    assert_eq!(cancelled, Ok(Some(expected)));
    assert_eq!(
        activity(db, &store, &maria).await,
        Activity {
            total_spent_minor: 3_000,
            total_orders: 2,
            last_order_at: Some(at(20)),
            loyalty_points: 30,
        }
    );
    let (_, entries) = whole_ledger(db, &store, &maria).await;
    let newest = &entries[0];
    assert_eq!(
        (newest.id.clone(), newest.delta, newest.balance_after),
        (take_back, -30, 30)
    );
    assert_eq!(newest.source, LedgerSource::OrderCancel);
    assert_eq!(newest.order_id, Some(late.id.clone()));
    assert_eq!(newest.actor, Some(cancelled_audit(&store).actor));
    assert_eq!(newest.created_at, at(40));

    // Cancelling an older order leaves the newest remaining one as last_order_at.
    db.cancel(
        &store,
        &early.id,
        at(41),
        &entry_id(),
        &cancelled_audit(&store),
    )
    .await
    .unwrap();
    assert_eq!(
        activity(db, &store, &maria).await.last_order_at,
        Some(at(20))
    );
    db.cancel(
        &store,
        &middle.id,
        at(42),
        &entry_id(),
        &cancelled_audit(&store),
    )
    .await
    .unwrap();
    assert_eq!(activity(db, &store, &maria).await, Activity::default());
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!((balance, entries.len()), (0, 6));
    assert_eq!(entries.iter().map(|e| e.delta).sum::<i64>(), 0);
}

pub async fn cancelling_takes_back_points_but_never_below_zero<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let first = record(db, &simple_order(&store, Some(&maria), 10, 10_000)).await;
    let second = record(db, &simple_order(&store, Some(&maria), 20, 5_000)).await;
    // 150 points; 130 spent.
    db.adjust(&manual(&store, &maria, -130, 21), None, &audit(&store))
        .await
        .unwrap();

    // The first order earned 100, but only 20 are left: 20 are taken.
    db.cancel(
        &store,
        &first.id,
        at(30),
        &entry_id(),
        &cancelled_audit(&store),
    )
    .await
    .unwrap();
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!(
        (balance, entries[0].delta, entries[0].balance_after),
        (0, -20, 0)
    );
    assert_eq!(activity(db, &store, &maria).await.loyalty_points, 0);

    // Nothing is left to take back: no entry.
    let count = entries.len();
    db.cancel(
        &store,
        &second.id,
        at(31),
        &entry_id(),
        &cancelled_audit(&store),
    )
    .await
    .unwrap();
    let (balance, entries) = whole_ledger(db, &store, &maria).await;
    assert_eq!((balance, entries.len()), (0, count));
    let after = activity(db, &store, &maria).await;
    assert_eq!((after.total_orders, after.total_spent_minor), (0, 0));
}

pub async fn cancelling_twice_changes_nothing<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    record(db, &simple_order(&store, Some(&maria), 5, 2_000)).await;
    let order = record(db, &simple_order(&store, Some(&maria), 10, 5_000)).await;
    let first = db
        .cancel(
            &store,
            &order.id,
            at(20),
            &entry_id(),
            &cancelled_audit(&store),
        )
        .await
        .unwrap();
    let after_first = activity(db, &store, &maria).await;
    let ledger = whole_ledger(db, &store, &maria).await;

    let second = db
        .cancel(
            &store,
            &order.id,
            at(30),
            &entry_id(),
            &cancelled_audit(&store),
        )
        .await
        .unwrap();
    assert_eq!(second, first);
    assert_eq!(second.unwrap().cancelled_at, Some(at(20)));
    assert_eq!(activity(db, &store, &maria).await, after_first);
    assert_eq!(whole_ledger(db, &store, &maria).await, ledger);

    // Orders without a customer cancel too; unknown ids are None.
    let walk_in = record(db, &simple_order(&store, None, 10, 5_000)).await;
    let cancelled = db
        .cancel(
            &store,
            &walk_in.id,
            at(20),
            &entry_id(),
            &cancelled_audit(&store),
        )
        .await
        .unwrap();
    assert_eq!(cancelled.map(|o| o.status), Some(OrderStatus::Cancelled));
    assert_eq!(
        db.cancel(
            &store,
            &crate::support::order_id(),
            at(20),
            &entry_id(),
            &cancelled_audit(&store)
        )
        .await,
        Ok(None)
    );
}

pub async fn another_stores_order_is_not_found<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, intruder) = (new_store(db).await, new_store(db).await);
    let maria = new_customer(db, &store, 1).await;
    let order = record(db, &simple_order(&store, Some(&maria), 10, 5_000)).await;
    assert_eq!(find_order(db, &intruder, &order.id).await, Ok(None));
    assert_eq!(
        db.cancel(
            &intruder,
            &order.id,
            at(20),
            &entry_id(),
            &cancelled_audit(&intruder)
        )
        .await,
        Ok(None)
    );
    assert_eq!(find_order(db, &store, &order.id).await, Ok(Some(order)));
    assert_eq!(activity(db, &store, &maria).await.total_orders, 1);
}

pub async fn history_is_newest_first_in_pages<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let maria = new_customer(db, &store, 1).await;
    let quiet = new_customer(db, &store, 2).await;
    let mut recorded = Vec::new();
    for n in 0..25 {
        // Pairs share a placed_at: the id decides between them.
        let mut order = simple_order(&store, Some(&maria), n / 2, 1_000 + n);
        order.items.push(item("cola", Some("drinks"), 1, 0));
        recorded.push(record(db, &order).await);
    }
    let cancelled = db
        .cancel(
            &store,
            &recorded[3].id,
            at(100),
            &entry_id(),
            &cancelled_audit(&store),
        )
        .await
        .unwrap()
        .unwrap();
    recorded[3] = cancelled;
    record(db, &simple_order(&store, Some(&quiet), 50, 1_000)).await;
    recorded.sort_by(|a, b| (b.placed_at, &b.id).cmp(&(a.placed_at, &a.id)));

    let mut seen = Vec::new();
    for page in 1..=4 {
        let request = PageRequest::new(Some(page), Some(10)).unwrap();
        let (orders, total) = db
            .list_for_customer(&store, &maria, request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(total, 25);
        assert_eq!(orders.len(), [10, 10, 5, 0][page as usize - 1]);
        seen.extend(orders);
    }
    assert_eq!(
        seen, recorded,
        "every order once, newest first, with its items"
    );

    assert_eq!(
        db.list_for_customer(&other, &maria, PageRequest::first())
            .await,
        Ok(None)
    );
    assert_eq!(
        db.list_for_customer(&store, &customer_id(99), PageRequest::first())
            .await,
        Ok(None)
    );
    let lonely = new_customer(db, &store, 3).await;
    assert_eq!(
        db.list_for_customer(&store, &lonely, PageRequest::first())
            .await,
        Ok(Some((vec![], 0)))
    );
}

/// Erasing a customer keeps their orders (without them) and removes their ledger.
pub async fn erasing_a_customer_keeps_orders_and_removes_the_ledger<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = crate::support::with_contact(
        crate::support::blank_customer(&store, customer_id(1)),
        Some("maria@example.dk"),
        Some("+4520123456"),
    );
    crate::support::insert(db, &maria).await;
    let order = record(db, &simple_order(&store, Some(&maria.id), 10, 5_000)).await;
    let adjustment = manual(&store, &maria.id, 25, 11);
    db.adjust(&adjustment, None, &audit(&adjustment.store_id))
        .await
        .unwrap();

    assert_eq!(
        CustomerRepository::delete(db, &store, &maria.id, &audit(&store)).await,
        Ok(true)
    );
    let kept = find_order(db, &store, &order.id).await.unwrap().unwrap();
    assert_eq!(kept.customer_id, None);
    assert_eq!(kept.items, order.items);
    assert_eq!(
        db.ledger(&store, &maria.id, PageRequest::first()).await,
        Ok(None)
    );
    assert_eq!(
        db.list_for_customer(&store, &maria.id, PageRequest::first())
            .await,
        Ok(None)
    );

    // The same id, email and phone start afresh: no entry of the old ledger is left (its
    // numbers and ids would collide), and the kept order is not theirs.
    crate::support::insert(db, &maria).await;
    assert_eq!(whole_ledger(db, &store, &maria.id).await, (0, vec![]));
    let reused = customers_domain::loyalty::LedgerEntry {
        id: adjustment.id.clone(),
        ..manual(&store, &maria.id, 7, 12)
    };
    assert_eq!(
        db.adjust(&reused, None, &audit(&reused.store_id))
            .await
            .map(|e| e.balance_after),
        Ok(7)
    );
    assert_eq!(
        db.list_for_customer(&store, &maria.id, PageRequest::first())
            .await,
        Ok(Some((vec![], 0)))
    );
}
