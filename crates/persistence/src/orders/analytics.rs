//! A customer's purchase analytics over their recorded orders: the count and the sum from
//! the customer's own totals, and the item lines read once, from which the domain ranks
//! products and categories.

use customers_domain::ids::{CustomerId, StoreId};
use customers_domain::order::{
    CustomerAnalytics, ItemLine, average_order, top_products_and_categories,
};
use customers_domain::ports::RepoError;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use super::RECORDED;
use crate::pool::{Database, read_snapshot};
use crate::schema::{customers, order_items, orders};

/// An item line: order, product id and name, category id and name.
type LineRow = (String, String, String, Option<String>, Option<String>);

pub(super) async fn analytics(
    database: &Database,
    store: &StoreId,
    customer: &CustomerId,
) -> Result<Option<CustomerAnalytics>, RepoError> {
    let (store, customer) = (store.as_str(), customer.as_str());
    let found = read_snapshot!(database, |conn| {
        // The customer's totals are kept exact by every order recorded or cancelled, in the
        // same transaction (bench/check.sql verifies them against the orders): one read of
        // the customer instead of an aggregate over its orders.
        let totals = customers::table
            .find((store, customer))
            .select((customers::total_orders, customers::total_spent_minor))
            .first::<(i64, i64)>(conn)
            .await
            .optional()?;
        let Some((orders_count, spent)) = totals else {
            return Ok(None);
        };
        // The items of the customer's recorded orders, in one pass: one probe of the items'
        // primary key per order, the cost of a long history, paid once for both rankings
        // (ranking in SQL took one pass per ranking, and sorted for each COUNT(DISTINCT)).
        // An IN rather than a join: without statistics (never gathered by the service)
        // SQLite would otherwise start from all of the store's items.
        let recorded = orders::table
            .filter(orders::store_id.eq(store))
            .filter(orders::customer_id.eq(customer))
            .filter(orders::status.eq(RECORDED))
            .select(orders::id);
        let lines = order_items::table
            .filter(order_items::store_id.eq(store))
            .filter(order_items::order_id.eq_any(recorded))
            .select((
                order_items::order_id,
                order_items::product_id,
                order_items::product_name,
                order_items::category_id,
                order_items::category_name,
            ))
            .load::<LineRow>(conn)
            .await?;
        Ok(Some((orders_count, spent, lines)))
    })?;
    let Some((orders_count, spent, lines)) = found else {
        return Ok(None);
    };
    let lines: Vec<ItemLine> = lines
        .into_iter()
        .map(
            |(order_id, product_id, product_name, category_id, category_name)| ItemLine {
                order_id,
                product_id,
                product_name,
                category_id,
                category_name,
            },
        )
        .collect();
    let (top_products, top_categories) = top_products_and_categories(&lines);
    Ok(Some(CustomerAnalytics {
        total_orders: orders_count,
        total_spent_minor: spent,
        average_order_minor: average_order(spent, orders_count),
        top_products,
        top_categories,
    }))
}
