//! The customer list: filters, sorts, offset pages and the exact total.
//!
//! Every sort ends with the id in the same direction, so the order is total and pages never
//! repeat or skip a row. Each sort and filter has an index that starts with `store_id` (see
//! the migrations). The unfiltered total is `stores.customer_count`, a filtered one a
//! `COUNT(*)` with the same filters; either is read by the page statement itself.

use customers_domain::customer::{
    Allergen, CustomerFilter, CustomerListQuery, CustomerSort, CustomerSummary, SortDirection,
};
use customers_domain::ids::StoreId;
use customers_domain::ports::RepoError;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{
    EscapeExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, QueryResult,
    SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use crate::customers::rows::SummaryRow;
use crate::pool::{Database, with_connection};
use crate::schema::{customer_allergens, customers, stores};
use crate::time::to_db;

/// How often an empty page is read again because rows came while it was read (see [`list`]).
const LIST_ATTEMPTS: u32 = 3;

/// The character that makes the next one literal in a LIKE pattern.
const LIKE_ESCAPE: char = '\\';

/// `%text%`, with `%`, `_` and the escape character of `text` matched literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `<ordering> NULLS LAST`, which both backends understand (diesel offers it for PostgreSQL
/// only). SQLite serves it from an ascending index; PostgreSQL has a `DESC NULLS LAST` index
/// for the descending case.
#[derive(Clone, Copy, Debug, QueryId)]
struct NullsLast<T>(T);

impl<T: Expression> Expression for NullsLast<T> {
    type SqlType = T::SqlType;
}

impl<T: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for NullsLast<T> where NullsLast<T>: Expression {}

impl<T: ValidGrouping<G>, G> ValidGrouping<G> for NullsLast<T> {
    type IsAggregate = T::IsAggregate;
}

impl<T: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for NullsLast<T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(" NULLS LAST");
        Ok(())
    }
}

/// The store's customers with every filter of the query applied: a boxed query, built anew
/// for each statement and backend.
macro_rules! matching {
    ($store:expr, $filter:expr, $text:expr, $since:expr, $allergen:expr) => {{
        let (store, filter): (&str, &CustomerFilter) = ($store, $filter);
        let mut matching = customers::table
            .filter(customers::store_id.eq(store))
            .into_boxed();
        if let Some(accepts) = filter.accepts_marketing {
            matching = matching.filter(customers::accepts_marketing.eq(accepts));
        }
        if let Some(blocked) = filter.is_blocked {
            matching = matching.filter(customers::is_blocked.eq(blocked));
        }
        match filter.has_orders {
            Some(true) => matching = matching.filter(customers::total_orders.gt(0)),
            Some(false) => matching = matching.filter(customers::total_orders.eq(0)),
            None => {}
        }
        if let Some(min) = filter.min_spent {
            matching = matching.filter(customers::total_spent_minor.ge(min));
        }
        if let Some(max) = filter.max_spent {
            matching = matching.filter(customers::total_spent_minor.le(max));
        }
        if let Some(since) = $since {
            matching = matching.filter(customers::last_order_at.ge(since));
        }
        if let Some(pattern) = $text {
            matching = matching.filter(customers::search_text.like(pattern).escape(LIKE_ESCAPE));
        }
        if let Some(allergen) = $allergen {
            let with_allergen = customer_allergens::table
                .filter(customer_allergens::store_id.eq(store))
                .filter(customer_allergens::allergen.eq(allergen))
                .select(customer_allergens::customer_id);
            matching = matching.filter(customers::id.eq_any(with_allergen));
        }
        matching
    }};
}

/// A page of the store's customers and the number of customers that match its filters.
///
/// One statement reads both, so the total and the page come from the same snapshot: a
/// customer created or erased meanwhile is in both or in neither. Without a filter the total
/// is the store's counter; with one it is a `COUNT(*)` with the same filters, a scalar
/// subquery that the database runs once (from an index holding the filtered columns where
/// there is one), while the page stops at its last row in the sort's index.
pub(super) async fn list(
    database: &Database,
    store: &StoreId,
    query: &CustomerListQuery,
) -> Result<(Vec<CustomerSummary>, u64), RepoError> {
    let store = store.as_str();
    let filter: &CustomerFilter = &query.filter;
    let text = filter.text.as_deref().map(contains_pattern);
    let since = filter.last_order_since.map(to_db);
    let allergen = filter.allergen.map(Allergen::code);
    let offset = i64::try_from(query.page.offset()).unwrap_or(i64::MAX);
    let limit = i64::from(query.page.limit());
    let unfiltered = filter.is_empty();
    let (rows, total): (Vec<(SummaryRow, Option<i64>)>, i64) =
        with_connection!(database, |conn| {
            let sorted = || {
                let page = matching!(store, filter, text.as_ref(), since, allergen);
                match (query.sort, query.direction) {
                    (CustomerSort::CreatedAt, SortDirection::Asc) => {
                        page.order_by((customers::created_at.asc(), customers::id.asc()))
                    }
                    (CustomerSort::CreatedAt, SortDirection::Desc) => {
                        page.order_by((customers::created_at.desc(), customers::id.desc()))
                    }
                    (CustomerSort::TotalSpentMinor, SortDirection::Asc) => {
                        page.order_by((customers::total_spent_minor.asc(), customers::id.asc()))
                    }
                    (CustomerSort::TotalSpentMinor, SortDirection::Desc) => {
                        page.order_by((customers::total_spent_minor.desc(), customers::id.desc()))
                    }
                    (CustomerSort::TotalOrders, SortDirection::Asc) => {
                        page.order_by((customers::total_orders.asc(), customers::id.asc()))
                    }
                    (CustomerSort::TotalOrders, SortDirection::Desc) => {
                        page.order_by((customers::total_orders.desc(), customers::id.desc()))
                    }
                    (CustomerSort::LastOrderAt, SortDirection::Asc) => page.order_by((
                        NullsLast(customers::last_order_at.asc()),
                        customers::id.asc(),
                    )),
                    (CustomerSort::LastOrderAt, SortDirection::Desc) => page.order_by((
                        NullsLast(customers::last_order_at.desc()),
                        customers::id.desc(),
                    )),
                    (CustomerSort::FirstName, SortDirection::Asc) => page.order_by((
                        NullsLast(customers::first_name_key.asc()),
                        customers::id.asc(),
                    )),
                    (CustomerSort::FirstName, SortDirection::Desc) => page.order_by((
                        NullsLast(customers::first_name_key.desc()),
                        customers::id.desc(),
                    )),
                }
            };
            // A page with rows carries its total. An empty one (past the end, or nothing
            // matches) does not: the total is read next, and if it shows that the page should
            // have had rows (they came meanwhile), both are read again, so that an answer
            // never has a total its page contradicts.
            let mut attempts = 0;
            loop {
                attempts += 1;
                let rows = if unfiltered {
                    let counter = stores::table
                        .filter(stores::id.eq(store))
                        .select(stores::customer_count)
                        .single_value();
                    sorted()
                        .select((SummaryRow::as_select(), counter))
                        .offset(offset)
                        .limit(limit)
                        .load::<(SummaryRow, Option<i64>)>(conn)
                        .await?
                } else {
                    let count = matching!(store, filter, text.as_ref(), since, allergen)
                        .count()
                        .single_value();
                    sorted()
                        .select((SummaryRow::as_select(), count))
                        .offset(offset)
                        .limit(limit)
                        .load::<(SummaryRow, Option<i64>)>(conn)
                        .await?
                };
                if let Some(total) = rows.as_slice().first().map(|(_, total)| total.unwrap_or(0)) {
                    break Ok((rows, total));
                }
                let total = if unfiltered {
                    stores::table
                        .find(store)
                        .select(stores::customer_count)
                        .first::<i64>(conn)
                        .await
                        .optional()?
                        .unwrap_or(0)
                } else {
                    matching!(store, filter, text.as_ref(), since, allergen)
                        .count()
                        .get_result::<i64>(conn)
                        .await?
                };
                if total <= offset || attempts == LIST_ATTEMPTS {
                    break Ok((rows, total));
                }
            }
        })?;
    let total = u64::try_from(total).unwrap_or(0);
    Ok((
        rows.into_iter()
            .map(|(row, _)| CustomerSummary::from(row))
            .collect(),
        total,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_the_text_are_literal() {
        assert_eq!(contains_pattern("maria"), "%maria%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
