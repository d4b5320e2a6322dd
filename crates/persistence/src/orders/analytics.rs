//! A customer's purchase analytics, aggregated by the database over their recorded orders:
//! never more than a handful of rows come back, however many orders there are.

use customers_domain::ids::{CustomerId, StoreId};
use customers_domain::order::{CustomerAnalytics, Ranked, TOP, average_order};
use customers_domain::ports::RepoError;
use diesel::dsl::{count, count_star, max, sql};
use diesel::sql_types::{BigInt, Nullable};
use diesel::{AggregateExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use super::RECORDED;
use crate::pool::{Database, with_connection};
use crate::schema::{customers, order_items, orders};

/// How many products and categories come back (the domain's `TOP`).
const TOP_ROWS: i64 = TOP as i64;

/// A ranked id, its name (the greatest stored under that id) and the number of orders.
type RankedRow<Id> = (Id, Option<String>, i64);

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
        // The items of the customer's recorded orders. An IN rather than a join: without
        // statistics (never gathered by the service) SQLite would otherwise start from all
        // of the store's items.
        let items = || {
            let recorded = orders::table
                .filter(orders::store_id.eq(store))
                .filter(orders::customer_id.eq(customer))
                .filter(orders::status.eq(RECORDED))
                .select(orders::id);
            order_items::table
                .filter(order_items::store_id.eq(store))
                .filter(order_items::order_id.eq_any(recorded))
        };
        // Ranked by the number of orders containing them (not by quantity), ties by name.
        let products = items()
            .group_by(order_items::product_id)
            .select((
                order_items::product_id,
                max(order_items::product_name),
                count(order_items::order_id).aggregate_distinct(),
            ))
            .order_by((
                count(order_items::order_id).aggregate_distinct().desc(),
                max(order_items::product_name).asc(),
                order_items::product_id.asc(),
            ))
            .limit(TOP_ROWS)
            .load::<RankedRow<String>>(conn)
            .await?;
        let categories = items()
            .filter(order_items::category_id.is_not_null())
            .group_by(order_items::category_id)
            .select((
                order_items::category_id,
                max(order_items::category_name),
                count(order_items::order_id).aggregate_distinct(),
            ))
            .order_by((
                count(order_items::order_id).aggregate_distinct().desc(),
                max(order_items::category_name).asc(),
                order_items::category_id.asc(),
            ))
            .limit(TOP_ROWS)
            .load::<RankedRow<Option<String>>>(conn)
            .await?;
        Ok(Some((
            orders_count,
            spent.unwrap_or(0),
            products,
            categories,
        )))
    })?;
    let Some((orders_count, spent, products, categories)) = found else {
        return Ok(None);
    };
    Ok(Some(CustomerAnalytics {
        total_orders: orders_count,
        total_spent_minor: spent,
        average_order_minor: average_order(spent, orders_count),
        top_products: products.into_iter().map(ranked).collect(),
        top_categories: categories
            .into_iter()
            .filter_map(|(id, name, count)| id.map(|id| ranked((id, name, count))))
            .collect(),
    }))
}

fn ranked((id, name, order_count): RankedRow<String>) -> Ranked {
    Ranked {
        name: name.unwrap_or_else(|| id.clone()),
        id,
        order_count,
    }
}
