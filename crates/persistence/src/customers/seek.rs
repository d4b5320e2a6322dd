//! The customer list by cursor (keyset pages) and its counts, exact or bounded.
//!
//! A keyset page starts from a row's sort value and id rather than an offset: the statement
//! seeks to `(sort value, id) > (cursor's value, cursor's id)` (or `<`) in the sort's index
//! and reads the page's rows from there, so a page deep in the list costs what the first
//! does. Both backends compare row values this way and use the index for it.
//!
//! The nullable sorts (`lastOrderAt`, `firstName`) list the rows with a value, then those
//! without one (by id), in both directions. Each part is its own statement over its own
//! index range (a condition that joined them with OR would make the database read the index
//! from its start); a page that crosses from one part into the other reads both, in one
//! snapshot.

use customers_domain::customer::CustomerSummary;
use customers_domain::customer::{
    Allergen, CustomerFilter, CustomerListQuery, CustomerSort, SortDirection,
};
use customers_domain::ids::StoreId;
use customers_domain::keyset::{Position, Seek, SortValue, TotalMode, Travel};
use customers_domain::ports::RepoError;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel::{
    EscapeExpressionMethods, ExpressionMethods, IntoSql, OptionalExtension, QueryDsl,
    SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::list::{Criteria, matching};
use crate::customers::rows::SummaryRow;
use crate::keyset::{CountOf, RowCompare};
use crate::pool::{Database, read_snapshot, with_connection};
use crate::schema::{customer_allergens, customers, stores};
use crate::time::to_db;

/// The two parts of a sort's order: rows with a value, then (nullable sorts only) rows
/// without.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Values,
    Nulls,
}

/// One statement of a keyset read: a part of the order, read up or down the index from an
/// optional position, at most `take` rows.
struct Step<'a> {
    part: Part,
    /// Read in ascending order of (value, id).
    ascending: bool,
    from: Option<&'a Position>,
    take: i64,
}

/// The statements a keyset page reads, in order, before the running `take` is applied: the
/// part the cursor is in (from the cursor), then the parts that follow in the direction of
/// travel (from their start).
fn steps<'a>(query: &CustomerListQuery, seek: &'a Seek) -> Vec<Step<'a>> {
    let parts: &[Part] = match query.sort {
        CustomerSort::LastOrderAt | CustomerSort::FirstName => &[Part::Values, Part::Nulls],
        CustomerSort::CreatedAt | CustomerSort::TotalSpentMinor | CustomerSort::TotalOrders => {
            &[Part::Values]
        }
    };
    let forward = seek.travel == Travel::Forward;
    let ascending = forward == (query.direction == SortDirection::Asc);
    let take = i64::from(seek.take());
    let step = |part: Part, from: Option<&'a Position>| Step {
        part,
        ascending,
        from,
        take,
    };
    let start = seek.from.as_ref().map(|from| match from.value {
        SortValue::Null => Part::Nulls,
        _ => Part::Values,
    });
    let mut ordered: Vec<Part> = parts.to_vec();
    if !forward {
        ordered.reverse();
    }
    let at = start
        .and_then(|part| ordered.iter().position(|p| *p == part))
        .unwrap_or(0);
    ordered[at..]
        .iter()
        .enumerate()
        .map(|(n, part)| step(*part, if n == 0 { seek.from.as_ref() } else { None }))
        .collect()
}

/// The rows of one [`Step`]: the customers matching `$criteria` in the step's part, from its
/// position, in its order. A macro for the reason `matching!` is one.
macro_rules! step_rows {
    ($criteria:expr, $step:expr) => {{
        let criteria: &Criteria<'_> = $criteria;
        let step: &Step<'_> = $step;
        let mut rows = matching!(criteria);
        let greater = step.ascending;
        // `by!(column, sql type, value of a cursor)` for a column without nulls; with
        // `nullable`, for one whose order has the part without values after the rest.
        macro_rules! by {
            ($column:expr, $sql:ty, $value:expr) => {{
                if let Some(from) = step.from {
                    rows = rows.filter(RowCompare {
                        column: $column,
                        id: customers::id,
                        value: $value(&from.value).ok_or_else(unfit)?.into_sql::<$sql>(),
                        after: from.id.clone().into_sql::<Text>(),
                        greater,
                    });
                }
                if step.ascending {
                    rows.order_by(($column.asc(), customers::id.asc()))
                } else {
                    rows.order_by(($column.desc(), customers::id.desc()))
                }
            }};
            ($column:expr, $sql:ty, $value:expr, nullable) => {{
                match step.part {
                    Part::Values => {
                        rows = rows.filter($column.is_not_null());
                        by!($column, $sql, $value)
                    }
                    Part::Nulls => {
                        rows = rows.filter($column.is_null());
                        if let Some(from) = step.from {
                            rows = if greater {
                                rows.filter(customers::id.gt(from.id.clone()))
                            } else {
                                rows.filter(customers::id.lt(from.id.clone()))
                            };
                        }
                        if step.ascending {
                            rows.order_by(customers::id.asc())
                        } else {
                            rows.order_by(customers::id.desc())
                        }
                    }
                }
            }};
        }
        let rows = match criteria.sort {
            CustomerSort::CreatedAt => by!(customers::created_at, Timestamp, time_of),
            CustomerSort::TotalSpentMinor => by!(customers::total_spent_minor, BigInt, int_of),
            CustomerSort::TotalOrders => by!(customers::total_orders, BigInt, int_of),
            CustomerSort::LastOrderAt => {
                by!(customers::last_order_at, Timestamp, time_of, nullable)
            }
            CustomerSort::FirstName => by!(customers::first_name_key, Text, text_of, nullable),
        };
        rows.limit(step.take)
    }};
}

/// A cursor's value as a timestamp, if it is one.
fn time_of(value: &SortValue) -> Option<chrono::NaiveDateTime> {
    match value {
        SortValue::Time(t) => Some(to_db(*t)),
        _ => None,
    }
}

/// A cursor's value as a whole number, if it is one.
fn int_of(value: &SortValue) -> Option<i64> {
    match value {
        SortValue::Int(n) => Some(*n),
        _ => None,
    }
}

/// A cursor's value as text, if it is.
fn text_of(value: &SortValue) -> Option<String> {
    match value {
        SortValue::Text(s) => Some(s.clone()),
        _ => None,
    }
}

/// A cursor whose value does not fit its sort: the domain refuses those before they get here.
fn unfit() -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError("a cursor's value does not fit its sort".into())
}

/// The customers of a keyset page in travel order, and their count as `query.total` asks.
///
/// The count is read beside the page, not in its snapshot (docs/api.md promises that of page
/// numbers only). For a text search or an allergen, whose page reads every match as its count
/// does, both run at the same time on two pooled connections, and the answer takes the longer
/// of the two rather than their sum; for the other filters the page is quick and runs first.
pub(super) async fn seek(
    database: &Database,
    store: &StoreId,
    query: &CustomerListQuery,
    seek: &Seek,
) -> Result<(Vec<CustomerSummary>, Option<u64>), RepoError> {
    let found = async {
        match query.total {
            TotalMode::None => Ok(None),
            mode => count(database, store, &query.filter, mode.count_limit())
                .await
                .map(Some),
        }
    };
    let rows = page(database, store, query, seek);
    let (rows, found) = if Criteria::new(store, query).page_reads_every_match() {
        tokio::join!(rows, found)
    } else {
        (rows.await, found.await)
    };
    Ok((rows?, found?))
}

/// The customers of a keyset page in travel order: at most `seek.take()`, from each step in
/// turn until the page is full, all read in one snapshot.
async fn page(
    database: &Database,
    store: &StoreId,
    query: &CustomerListQuery,
    seek: &Seek,
) -> Result<Vec<CustomerSummary>, RepoError> {
    let criteria = Criteria::new(store, query);
    let steps = steps(query, seek);
    let wanted = usize::try_from(seek.take()).unwrap_or(usize::MAX);
    let rows: Vec<SummaryRow> = if steps.len() == 1 {
        let step = &steps[0];
        with_connection!(database, |conn| {
            step_rows!(&criteria, step)
                .select(SummaryRow::as_select())
                .load::<SummaryRow>(conn)
                .await
        })?
    } else {
        read_snapshot!(database, |conn| {
            let mut rows: Vec<SummaryRow> = Vec::new();
            for step in &steps {
                let left = wanted - rows.len();
                if left == 0 {
                    break;
                }
                let step = Step {
                    take: i64::try_from(left).unwrap_or(i64::MAX),
                    ..*step
                };
                rows.extend(
                    step_rows!(&criteria, &step)
                        .select(SummaryRow::as_select())
                        .load::<SummaryRow>(conn)
                        .await?,
                );
            }
            Ok(rows)
        })?
    };
    Ok(rows.into_iter().map(CustomerSummary::from).collect())
}

/// How many customers match `filter`, at most `limit`.
///
/// Without a filter, the store's counter (exact, and one primary-key read whatever the size).
/// With an allergen alone, the allergen's index entries, one per customer who has it, without
/// visiting the customers. Otherwise a `COUNT(*)` with the filters, of the first `limit`
/// matches only when there is a limit.
async fn count(
    database: &Database,
    store: &StoreId,
    filter: &CustomerFilter,
    limit: Option<u64>,
) -> Result<u64, RepoError> {
    let criteria = Criteria::of_filter(store, filter);
    let sql_limit = limit.map(|limit| i64::try_from(limit).unwrap_or(i64::MAX));
    let allergen_alone = CustomerFilter {
        allergen: filter.allergen,
        ..CustomerFilter::default()
    };
    let allergen = filter
        .allergen
        .filter(|_| *filter == allergen_alone)
        .map(Allergen::code);
    let found: i64 = with_connection!(database, |conn| {
        match (sql_limit, allergen) {
            _ if filter.is_empty() => Ok(stores::table
                .find(criteria.store)
                .select(stores::customer_count)
                .first::<i64>(conn)
                .await
                .optional()?
                .unwrap_or(0)),
            (limit, Some(allergen)) => {
                let with_allergen = customer_allergens::table
                    .filter(customer_allergens::store_id.eq(criteria.store))
                    .filter(customer_allergens::allergen.eq(allergen))
                    .select(customer_allergens::customer_id);
                match limit {
                    Some(limit) => {
                        CountOf(with_allergen.limit(limit))
                            .get_result::<i64>(conn)
                            .await
                    }
                    None => with_allergen.count().get_result::<i64>(conn).await,
                }
            }
            (None, None) => matching!(&criteria).count().get_result::<i64>(conn).await,
            (Some(limit), None) => {
                CountOf(matching!(&criteria).select(customers::id).limit(limit))
                    .get_result::<i64>(conn)
                    .await
            }
        }
    })?;
    let found = u64::try_from(found).unwrap_or(0);
    Ok(limit.map_or(found, |limit| found.min(limit)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use customers_domain::customer::CustomerListParams;

    fn query(sort: &str, direction: &str) -> CustomerListQuery {
        CustomerListParams {
            sort_by: Some(sort.into()),
            sort_dir: Some(direction.into()),
            after: Some(String::new()),
            ..CustomerListParams::default()
        }
        .validate(chrono::Utc::now(), chrono_tz::UTC)
        .unwrap()
    }

    fn at(value: SortValue) -> Position {
        Position {
            value,
            id: "cust_1".into(),
        }
    }

    fn shape(
        query: &CustomerListQuery,
        travel: Travel,
        from: Option<Position>,
    ) -> Vec<(Part, bool, bool)> {
        let seek = Seek {
            travel,
            from,
            limit: 20,
        };
        steps(query, &seek)
            .iter()
            .map(|s| (s.part, s.ascending, s.from.is_some()))
            .collect()
    }

    #[test]
    fn a_nullable_sort_reads_values_then_nulls_and_back() {
        let asc = query("lastOrderAt", "asc");
        let now = SortValue::Time(chrono::Utc::now());
        assert_eq!(
            shape(&asc, Travel::Forward, None),
            [(Part::Values, true, false), (Part::Nulls, true, false)]
        );
        assert_eq!(
            shape(&asc, Travel::Forward, Some(at(now.clone()))),
            [(Part::Values, true, true), (Part::Nulls, true, false)]
        );
        assert_eq!(
            shape(&asc, Travel::Forward, Some(at(SortValue::Null))),
            [(Part::Nulls, true, true)]
        );
        assert_eq!(
            shape(&asc, Travel::Backward, Some(at(SortValue::Null))),
            [(Part::Nulls, false, true), (Part::Values, false, false)]
        );
        assert_eq!(
            shape(&asc, Travel::Backward, Some(at(now))),
            [(Part::Values, false, true)]
        );
        let desc = query("firstName", "desc");
        assert_eq!(
            shape(&desc, Travel::Backward, None),
            [(Part::Nulls, true, false), (Part::Values, true, false)]
        );
    }

    #[test]
    fn a_sort_without_nulls_reads_one_part() {
        let spent = query("totalSpentMinor", "desc");
        assert_eq!(
            shape(&spent, Travel::Forward, Some(at(SortValue::Int(5)))),
            [(Part::Values, false, true)]
        );
        assert_eq!(
            shape(&spent, Travel::Backward, None),
            [(Part::Values, true, false)]
        );
    }
}
