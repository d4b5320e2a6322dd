//! A customer's purchase analytics over their recorded orders: the count and the sum
//! aggregated by the database, and the item lines read once, from which the domain ranks
//! products and categories.

use customers_domain::ids::{CustomerId, StoreId};
use customers_domain::order::{
    CustomerAnalytics, ItemLine, average_order, top_products_and_categories,
};
use customers_domain::ports::RepoError;
use diesel::dsl::{count_star, sql};
use diesel::sql_types::{BigInt, Nullable};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use super::RECORDED;
use crate::pool::{Database, with_connection};
use crate::schema::{customers, order_items, orders};

/// An item line: order, product id and name, category id and name.
type LineRow = (String, String, String, Option<String>, Option<String>);

pub(super) async fn analytics(
    database: &Database,
    store: &StoreId,
    customer: &CustomerId,
) -> Result<Option<CustomerAnalytics>, RepoError> {
    let (store, customer) = (store.as_str(), customer.as_str());
    let found = with_connection!(database, |conn| {
        let exists = customers::table
            .find((store, customer))
            .select(customers::id)
            .first::<String>(conn)
            .await
            .optional()?;
        if exists.is_none() {
            return Ok(None);
        }
        let (orders_count, spent) = orders::table
            .filter(orders::store_id.eq(store))
            .filter(orders::customer_id.eq(customer))
            .filter(orders::status.eq(RECORDED))
            // PostgreSQL sums a BIGINT as NUMERIC, which SQLite does not have.
            .select((
                count_star(),
                sql::<Nullable<BigInt>>("CAST(SUM(orders.total_minor) AS BIGINT)"),
            ))
            .get_result::<(i64, Option<i64>)>(conn)
            .await?;
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
        Ok(Some((orders_count, spent.unwrap_or(0), lines)))
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
