//! Analytics: aggregates over a customer's recorded orders.

use crate::backend::Backend;
use customers_domain::order::OrderRepository;
use customers_domain::order::{CustomerAnalytics, Ranked};

use crate::support::{
    cancelled_audit, customer_id, entry_id, item, new_customer, new_store, order, record,
    simple_order,
};

fn ranked(id: &str, order_count: i64) -> Ranked {
    Ranked {
        id: id.into(),
        name: id.to_uppercase(),
        order_count,
    }
}

pub async fn analytics_count_orders_containing_a_product<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let other = new_customer(db, &store, 2).await;
    let orders = [
        // Pizza in three orders (seven pieces), cola in two (twelve bottles).
        vec![
            item("pizza", Some("mains"), 3, 8_900),
            item("cola", Some("drinks"), 10, 2_500),
        ],
        vec![
            item("pizza", Some("mains"), 2, 8_900),
            item("pizza", Some("mains"), 1, 8_900),
        ],
        vec![
            item("pizza", Some("mains"), 1, 8_900),
            item("cola", Some("drinks"), 2, 2_500),
        ],
        // One order each, ties broken by name: bread < salad < soup < tiramisu < water.
        vec![
            item("water", Some("drinks"), 1, 1_500),
            item("tiramisu", Some("desserts"), 1, 4_500),
            item("soup", Some("starters"), 1, 4_000),
            item("salad", Some("starters"), 1, 5_500),
            item("bread", None, 1, 500),
        ],
    ];
    let mut spent = 0;
    for (n, items) in orders.into_iter().enumerate() {
        let order = order(&store, Some(&maria), n as i64, items);
        spent += order.total_minor;
        record(db, &order).await;
    }
    // A cancelled order counts for nothing, however much it holds.
    let cancelled = record(
        db,
        &order(
            &store,
            Some(&maria),
            9,
            vec![item("wine", Some("drinks"), 50, 30_000); 3],
        ),
    )
    .await;
    db.cancel(
        &store,
        &cancelled.id,
        crate::support::at(10),
        &entry_id(),
        &cancelled_audit(&store),
    )
    .await
    .unwrap();
    // Another customer's orders are theirs.
    record(
        db,
        &order(
            &store,
            Some(&other),
            1,
            vec![item("wine", Some("drinks"), 1, 1)],
        ),
    )
    .await;

    let analytics = db.analytics(&store, &maria).await.unwrap().unwrap();
    assert_eq!(
        analytics,
        CustomerAnalytics {
            total_orders: 4,
            total_spent_minor: spent,
            average_order_minor: customers_domain::order::average_order(spent, 4),
            top_products: vec![
                ranked("pizza", 3),
                ranked("cola", 2),
                ranked("bread", 1),
                ranked("salad", 1),
                ranked("soup", 1),
            ],
            top_categories: vec![
                // A tie: by name.
                ranked("drinks", 3),
                ranked("mains", 3),
                ranked("desserts", 1),
                ranked("starters", 1),
            ],
        }
    );
}

pub async fn analytics_ties_go_by_name_and_names_sort_bytewise<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    // The ids sort the other way round from the names.
    let named = |id: &str, name: &str| customers_domain::order::OrderItem {
        product_name: name.into(),
        ..item(id, Some("mains"), 1, 100)
    };
    record(
        db,
        &order(
            &store,
            Some(&maria),
            1,
            vec![
                named("p1", "b"),
                named("p2", "a"),
                named("p3", "B"),
                named("p4", "Æble"),
            ],
        ),
    )
    .await;
    let analytics = db.analytics(&store, &maria).await.unwrap().unwrap();
    let names: Vec<_> = analytics
        .top_products
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["B", "a", "b", "Æble"]);
}

pub async fn analytics_average_rounds_half_away_from_zero<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    record(db, &simple_order(&store, Some(&maria), 1, 2)).await;
    record(db, &simple_order(&store, Some(&maria), 2, 3)).await;
    let analytics = db.analytics(&store, &maria).await.unwrap().unwrap();
    assert_eq!(
        (analytics.total_orders, analytics.total_spent_minor),
        (2, 5)
    );
    assert_eq!(analytics.average_order_minor, 3, "2.5 rounds up");
    record(db, &simple_order(&store, Some(&maria), 3, 5)).await;
    let analytics = db.analytics(&store, &maria).await.unwrap().unwrap();
    assert_eq!(analytics.average_order_minor, 3, "10 / 3 rounds down");
}

pub async fn analytics_without_orders_are_zero<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let maria = new_customer(db, &store, 1).await;
    let empty = CustomerAnalytics {
        total_orders: 0,
        total_spent_minor: 0,
        average_order_minor: 0,
        top_products: vec![],
        top_categories: vec![],
    };
    assert_eq!(db.analytics(&store, &maria).await, Ok(Some(empty.clone())));
    // Only cancelled orders: still nothing.
    let order = record(db, &simple_order(&store, Some(&maria), 1, 5_000)).await;
    db.cancel(
        &store,
        &order.id,
        crate::support::at(2),
        &entry_id(),
        &cancelled_audit(&store),
    )
    .await
    .unwrap();
    assert_eq!(db.analytics(&store, &maria).await, Ok(Some(empty)));
    assert_eq!(db.analytics(&store, &customer_id(99)).await, Ok(None));
    assert_eq!(db.analytics(&other, &maria).await, Ok(None));
}
