//! Order rows as stored, and their conversion to and from the domain's types.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use customers_domain::ids::{CustomerId, OrderId, StoreId};
use customers_domain::order::{Order, OrderItem, OrderStatus};
use customers_domain::ports::RepoError;
use diesel::{Insertable, Queryable, Selectable};

use crate::error::corrupt;
use crate::loyalty::{actor_columns, actor_of};
use crate::schema::{order_items, orders};
use crate::time::{from_db, to_db};

#[derive(Insertable)]
#[diesel(table_name = orders)]
pub(super) struct NewOrder {
    store_id: String,
    id: String,
    customer_id: Option<String>,
    external_id: Option<String>,
    status: &'static str,
    total_minor: i64,
    currency: String,
    placed_at: NaiveDateTime,
    cancelled_at: Option<NaiveDateTime>,
    points_earned: i64,
    request_claim: Option<String>,
    created_at: NaiveDateTime,
    recorded_by_type: Option<&'static str>,
    recorded_by_id: Option<String>,
}

impl NewOrder {
    pub(super) fn new(order: &Order, claim: Option<String>, created_at: NaiveDateTime) -> Self {
        let (recorded_by_type, recorded_by_id) = actor_columns(order.recorded_by.as_ref());
        Self {
            store_id: order.store_id.as_str().to_owned(),
            id: order.id.as_str().to_owned(),
            customer_id: order.customer_id.as_ref().map(|c| c.as_str().to_owned()),
            external_id: order.external_id.clone(),
            status: order.status.as_str(),
            total_minor: order.total_minor,
            currency: order.currency.clone(),
            placed_at: to_db(order.placed_at),
            cancelled_at: order.cancelled_at.map(to_db),
            points_earned: order.points_earned,
            request_claim: claim,
            created_at,
            recorded_by_type,
            recorded_by_id,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = order_items)]
pub(super) struct NewItem {
    store_id: String,
    order_id: String,
    line_no: i32,
    product_id: String,
    product_name: String,
    category_id: Option<String>,
    category_name: Option<String>,
    quantity: i64,
    unit_price_minor: i64,
}

impl NewItem {
    /// The order's items, numbered from 0 in their order.
    pub(super) fn all_of(order: &Order) -> Result<Vec<Self>, RepoError> {
        order
            .items
            .iter()
            .enumerate()
            .map(|(line, item)| {
                let line_no = i32::try_from(line)
                    .map_err(|_| RepoError::Internal("an order has too many items".into()))?;
                Ok(Self {
                    store_id: order.store_id.as_str().to_owned(),
                    order_id: order.id.as_str().to_owned(),
                    line_no,
                    product_id: item.product_id.clone(),
                    product_name: item.product_name.clone(),
                    category_id: item.category_id.clone(),
                    category_name: item.category_name.clone(),
                    quantity: item.quantity,
                    unit_price_minor: item.unit_price_minor,
                })
            })
            .collect()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(super) struct OrderRow {
    store_id: String,
    pub(super) id: String,
    customer_id: Option<String>,
    external_id: Option<String>,
    status: String,
    total_minor: i64,
    currency: String,
    placed_at: NaiveDateTime,
    cancelled_at: Option<NaiveDateTime>,
    points_earned: i64,
    recorded_by_type: Option<String>,
    recorded_by_id: Option<String>,
    cancelled_by_type: Option<String>,
    cancelled_by_id: Option<String>,
}

/// An item with the id of its order; loaded in `(order_id, line_no)` order.
#[derive(Queryable, Selectable)]
#[diesel(table_name = order_items, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(super) struct ItemRow {
    order_id: String,
    product_id: String,
    product_name: String,
    category_id: Option<String>,
    category_name: Option<String>,
    quantity: i64,
    unit_price_minor: i64,
}

impl OrderRow {
    fn into_order(self, items: Vec<OrderItem>) -> Result<Order, RepoError> {
        let status = OrderStatus::from_stored(&self.status)
            .ok_or_else(|| corrupt("status", &self.status))?;
        Ok(Order {
            id: OrderId::from_stored(self.id),
            store_id: StoreId::from_stored(self.store_id),
            customer_id: self.customer_id.map(CustomerId::from_stored),
            external_id: self.external_id,
            status,
            total_minor: self.total_minor,
            currency: self.currency,
            placed_at: from_db(self.placed_at),
            cancelled_at: self.cancelled_at.map(from_db),
            points_earned: self.points_earned,
            items,
            recorded_by: actor_of(self.recorded_by_type, self.recorded_by_id)?,
            cancelled_by: actor_of(self.cancelled_by_type, self.cancelled_by_id)?,
        })
    }
}

/// The orders, in the order given, each with its items.
pub(super) fn with_items(
    orders: Vec<OrderRow>,
    items: Vec<ItemRow>,
) -> Result<Vec<Order>, RepoError> {
    let mut by_order: HashMap<String, Vec<OrderItem>> = HashMap::new();
    for item in items {
        by_order.entry(item.order_id).or_default().push(OrderItem {
            product_id: item.product_id,
            product_name: item.product_name,
            category_id: item.category_id,
            category_name: item.category_name,
            quantity: item.quantity,
            unit_price_minor: item.unit_price_minor,
        });
    }
    orders
        .into_iter()
        .map(|order| {
            let items = by_order.remove(&order.id).unwrap_or_default();
            order.into_order(items)
        })
        .collect()
}
