//! The customer list: filters, sorts, offset pages and the exact total.
//!
//! Every sort ends with the id in the same direction, so the order is total and pages never
//! repeat or skip a row. Each sort and filter has an index that starts with `store_id` (see
//! the migrations). The unfiltered total is `stores.customer_count`, a filtered one a
//! `COUNT(*)` with the same filters; page and total always read one snapshot.

use chrono::NaiveDateTime;
use customers_domain::customer::{
    Allergen, CustomerFilter, CustomerListQuery, CustomerSort, CustomerSummary, SortDirection,
};
use customers_domain::ids::StoreId;
use customers_domain::ports::RepoError;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel::{
    EscapeExpressionMethods, ExpressionMethods, IntoSql, OptionalExtension, QueryDsl, QueryResult,
    SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use crate::customers::rows::SummaryRow;
#[cfg(feature = "postgres")]
use crate::error::from_diesel;
use crate::paging::empty_page_settled;
#[cfg(feature = "postgres")]
use crate::pool::{BackendConnection, PgConnection, Pool, checkout, finish, snapshot_pair};
use crate::pool::{Database, with_connection};
use crate::schema::{customer_allergens, customers, stores};
use crate::time::to_db;

/// The character that makes the next one literal in a LIKE pattern.
pub(super) const LIKE_ESCAPE: char = '\\';

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

/// A value bound to a statement that is planned for each execution with the values it is
/// given, never from a plan cached for the statement: on PostgreSQL a prepared statement
/// switches to a generic plan after five executions, and a generic plan assumes the average
/// store, a hundredth of the rows when one store holds most of them (an allergen page of
/// the 1,000,000-customer store: 4 ms planned for it, 300 ms with the generic plan that
/// sorts every customer). Costs a parse and a plan per execution, so it is used for the
/// lists whose plans depend most on the filter's values and the store's size: those whose
/// page reads every match (see [`Criteria::page_reads_every_match`]).
#[derive(Clone, Copy, Debug, QueryId)]
pub(super) struct PlannedEachTime<T>(pub(super) T);

impl<T: Expression> Expression for PlannedEachTime<T> {
    type SqlType = T::SqlType;
}

impl<T: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for PlannedEachTime<T> where
    PlannedEachTime<T>: Expression
{
}

impl<T: ValidGrouping<G>, G> ValidGrouping<G> for PlannedEachTime<T> {
    type IsAggregate = T::IsAggregate;
}

impl<T: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for PlannedEachTime<T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        self.0.walk_ast(out.reborrow())
    }
}

/// What a list reads: the store, the query's filters in the database's terms, its sort and
/// its page.
pub(super) struct Criteria<'a> {
    pub(super) store: &'a str,
    pub(super) filter: &'a CustomerFilter,
    /// `q` as a LIKE pattern.
    pub(super) text: Option<String>,
    pub(super) since: Option<NaiveDateTime>,
    pub(super) allergen: Option<&'static str>,
    pub(super) sort: CustomerSort,
    pub(super) direction: SortDirection,
    pub(super) offset: i64,
    pub(super) limit: i64,
}

impl<'a> Criteria<'a> {
    pub(super) fn new(store: &'a StoreId, query: &'a CustomerListQuery) -> Self {
        Criteria {
            sort: query.sort,
            direction: query.direction,
            offset: i64::try_from(query.page.offset()).unwrap_or(i64::MAX),
            limit: i64::from(query.page.limit()),
            ..Self::of_filter(store, &query.filter)
        }
    }

    /// The customers `filter` selects, for a count (in the default order, from the start).
    pub(super) fn of_filter(store: &'a StoreId, filter: &'a CustomerFilter) -> Self {
        Criteria {
            store: store.as_str(),
            filter,
            text: filter.text.as_deref().map(contains_pattern),
            since: filter.last_order_since.map(to_db),
            allergen: filter.allergen.map(Allergen::code),
            sort: CustomerSort::default(),
            direction: SortDirection::default(),
            offset: 0,
            limit: 0,
        }
    }
}

impl Criteria<'_> {
    /// Whether the page, like the count, reads every match: a text search reads the
    /// candidates of the trigram index (or walks far to find rare matches), an allergen the
    /// customers its index lists, before either can be ordered. Any other filter's page walks
    /// the sort's index and stops at its last row.
    pub(super) fn page_reads_every_match(&self) -> bool {
        self.text.is_some() || self.allergen.is_some()
    }
}

/// The store's customers with every filter of `$criteria` applied: a boxed query, built
/// anew for each statement and backend.
///
/// A macro, not a function, because diesel types a boxed query by its backend
/// (`customers::BoxedQuery<'a, Sqlite>` or `<'a, Pg>`): a function generic over the backend
/// would need bounds that diesel keeps private (`DieselReserveSpecialization`) and implements
/// per backend (boxing the LIMIT/OFFSET clause), so the body is expanded once per backend.
/// `page!` below likewise.
macro_rules! matching {
    ($criteria:expr) => {{
        let criteria: &$crate::customers::list::Criteria<'_> = $criteria;
        let (store, filter) = (criteria.store, criteria.filter);
        let mut matching = customers::table.into_boxed();
        matching = if criteria.page_reads_every_match() {
            matching.filter(
                customers::store_id.eq($crate::customers::list::PlannedEachTime(
                    store.into_sql::<Text>(),
                )),
            )
        } else {
            matching.filter(customers::store_id.eq(store))
        };
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
        if let Some(since) = criteria.since {
            matching = matching.filter(customers::last_order_at.ge(since));
        }
        if let Some(pattern) = &criteria.text {
            matching = matching.filter(
                customers::search_text
                    .like(pattern)
                    .escape($crate::customers::list::LIKE_ESCAPE),
            );
        }
        if let Some(allergen) = criteria.allergen {
            let with_allergen = customer_allergens::table
                .filter(customer_allergens::store_id.eq(store))
                .filter(customer_allergens::allergen.eq(allergen))
                .select(customer_allergens::customer_id);
            matching = matching.filter(customers::id.eq_any(with_allergen));
        }
        matching
    }};
}

pub(super) use matching;

/// The page of `$criteria`: its matching customers in its order, from its offset. Every sort
/// ends with the id in the same direction.
macro_rules! page {
    ($criteria:expr) => {{
        let criteria: &Criteria<'_> = $criteria;
        let page = matching!(criteria);
        let page = match (criteria.sort, criteria.direction) {
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
        };
        page.offset(criteria.offset).limit(criteria.limit)
    }};
}

/// A page of the store's customers and the number of customers that match its filters, both
/// read from one snapshot: a customer created or erased meanwhile is in both or in neither.
///
/// Without a filter the total is the store's counter, read by the page statement. With one
/// it is a `COUNT(*)` with the same filters, a scalar subquery of the page statement: the
/// costly half, it reads every match (from an index holding the filtered columns where there
/// is one), while the page walks the sort's index and stops at its last row.
///
/// A text search (`q`) or an allergen is the exception: its page costs about what its count
/// does (see [`Criteria::page_reads_every_match`]), so on PostgreSQL, when a second
/// connection is free, the count runs on it at the same time as the page, in a transaction
/// that imports the page's snapshot, and the answer takes the longer of the two rather than
/// their sum. For the other filters the page is quick and the pair's two transactions would
/// cost more than they save. On a Citus coordinator an exported snapshot does not cover the
/// workers, so there both halves are one statement.
pub(super) async fn list(
    database: &Database,
    store: &StoreId,
    query: &CustomerListQuery,
) -> Result<(Vec<CustomerSummary>, u64), RepoError> {
    let criteria = Criteria::new(store, query);
    #[cfg(feature = "postgres")]
    let side_by_side = match &database.pool {
        Pool::Postgres(pool) if criteria.page_reads_every_match() && !database.distributed => {
            side_by_side(pool, &criteria).await?
        }
        _ => None,
    };
    #[cfg(not(feature = "postgres"))]
    let side_by_side = None;
    let (rows, total) = match side_by_side {
        Some(found) => found,
        None => one_statement(database, &criteria).await?,
    };
    Ok((
        rows.into_iter().map(CustomerSummary::from).collect(),
        u64::try_from(total).unwrap_or(0),
    ))
}

/// The page on one pooled PostgreSQL connection and its count on another, both reading one
/// snapshot (see [`snapshot_pair`]). `None` when no second connection is free, or when a
/// connection turns out cut (the one-statement read then retries on fresh connections).
#[cfg(feature = "postgres")]
async fn side_by_side(
    pool: &crate::pool::Lanes<PgConnection>,
    criteria: &Criteria<'_>,
) -> Result<Option<(Vec<SummaryRow>, i64)>, RepoError> {
    let mut first = checkout(pool).await?;
    let mut second = match snapshot_pair(pool, &mut first).await {
        Ok(Some(second)) => second,
        Ok(None) => return Ok(None),
        Err(error) if first.is_cut(&error) => return Ok(None),
        Err(error) => return Err(from_diesel(error)),
    };
    let page = page!(criteria)
        .select(SummaryRow::as_select())
        .load::<SummaryRow>(&mut *first);
    let count = matching!(criteria).count().get_result::<i64>(&mut *second);
    // Both run to their end even when one fails.
    let (page, count) = tokio::join!(page, count);
    let page = finish(&mut first, page).await;
    let count = finish(&mut second, count).await;
    match (page, count) {
        (Ok(rows), Ok(total)) => Ok(Some((rows, total))),
        (Err(error), _) if first.is_cut(&error) => Ok(None),
        (_, Err(error)) if second.is_cut(&error) => Ok(None),
        (Err(error), _) | (_, Err(error)) => Err(from_diesel(error)),
    }
}

/// The page with its total as a scalar subquery of the page statement.
///
/// A page with rows carries its total. An empty one (past the end, or nothing matches) does
/// not: the total is read next, and if it shows that the page should have had rows (they
/// came meanwhile), both are read again, so that an answer never has a total its page
/// contradicts.
async fn one_statement(
    database: &Database,
    criteria: &Criteria<'_>,
) -> Result<(Vec<SummaryRow>, i64), RepoError> {
    let unfiltered = criteria.filter.is_empty();
    let (rows, total): (Vec<(SummaryRow, Option<i64>)>, i64) =
        with_connection!(database, |conn| {
            let mut attempts = 0;
            loop {
                attempts += 1;
                let rows = if unfiltered {
                    let counter = stores::table
                        .filter(stores::id.eq(criteria.store))
                        .select(stores::customer_count)
                        .single_value();
                    page!(criteria)
                        .select((SummaryRow::as_select(), counter))
                        .load::<(SummaryRow, Option<i64>)>(conn)
                        .await?
                } else {
                    let count = matching!(criteria).count().single_value();
                    page!(criteria)
                        .select((SummaryRow::as_select(), count))
                        .load::<(SummaryRow, Option<i64>)>(conn)
                        .await?
                };
                if let Some(total) = rows.as_slice().first().map(|(_, total)| total.unwrap_or(0)) {
                    break Ok((rows, total));
                }
                let total = if unfiltered {
                    stores::table
                        .find(criteria.store)
                        .select(stores::customer_count)
                        .first::<i64>(conn)
                        .await
                        .optional()?
                        .unwrap_or(0)
                } else {
                    matching!(criteria).count().get_result::<i64>(conn).await?
                };
                if empty_page_settled(total, criteria.offset, attempts) {
                    break Ok((rows, total));
                }
            }
        })?;
    Ok((rows.into_iter().map(|(row, _)| row).collect(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_planned_each_time_keeps_its_statement_out_of_the_plan_cache() {
        use diesel::pg::Pg;
        use diesel::sqlite::Sqlite;

        let planned = customers::table
            .filter(customers::store_id.eq(PlannedEachTime("st_a".into_sql::<Text>())))
            .select(customers::id);
        let cached = customers::table
            .filter(customers::store_id.eq("st_a"))
            .select(customers::id);
        assert!(!QueryFragment::<Pg>::is_safe_to_cache_prepared(&planned, &Pg).unwrap());
        assert!(!QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&planned, &Sqlite).unwrap());
        assert!(QueryFragment::<Pg>::is_safe_to_cache_prepared(&cached, &Pg).unwrap());
    }

    #[test]
    fn like_wildcards_in_the_text_are_literal() {
        assert_eq!(contains_pattern("maria"), "%maria%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
