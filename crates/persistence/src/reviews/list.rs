//! The review list: filters, newest first, offset pages and the exact total.
//!
//! The order is `created_at DESC, id DESC`: total, so pages never repeat or skip a review.
//! Each filter has an index that starts with `store_id` and ends in that order (see the
//! migrations). Totals the counters hold (no filter, approval alone, minimum rating alone)
//! are read from `review_stats`; any other is a `COUNT(*)` with the same filters.

use chrono::NaiveDateTime;
use customers_domain::ids::StoreId;
use customers_domain::keyset::{Seek, SortValue, Travel};
use customers_domain::page::PageRequest;
use customers_domain::ports::RepoError;
use customers_domain::review::{Review, ReviewFilter, ReviewStats};
use diesel::sql_types::{Text, Timestamp};
use diesel::{
    ExpressionMethods, IntoSql, JoinOnDsl, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::RunQueryDsl;

use crate::keyset::{CountOf, RowCompare};
use crate::paging::empty_page_settled;
use crate::pool::{Database, with_connection};
use crate::reviews::counters::Tally;
use crate::reviews::rows::{ReviewRow, StatsRow, rating_to_db};
use crate::schema::{review_stats, reviews};
use crate::time::to_db;

/// The filter of a review list in the database's terms.
struct Criteria<'a> {
    store: &'a str,
    filter: &'a ReviewFilter,
    customer: Option<&'a str>,
    min_rating: Option<i32>,
    from: Option<NaiveDateTime>,
    before: Option<NaiveDateTime>,
}

impl<'a> Criteria<'a> {
    fn new(store: &'a StoreId, filter: &'a ReviewFilter) -> Self {
        Self {
            store: store.as_str(),
            filter,
            customer: filter.customer_id.as_ref().map(|id| id.as_str()),
            min_rating: filter.min_rating.map(rating_to_db),
            from: filter.created_from.map(to_db),
            before: filter.created_before.map(to_db),
        }
    }
}

/// The store's reviews from `$source` (the reviews, or the reviews with their store's counters
/// joined) with every filter of `$criteria` applied. A macro, not a function: a boxed query is
/// typed by its backend, and diesel keeps the bounds a function generic over the backend would
/// need private (see `customers/list.rs`).
macro_rules! matching {
    ($criteria:expr, $source:expr) => {{
        let criteria: &Criteria<'_> = $criteria;
        let filter = criteria.filter;
        let mut matching = $source
            .filter(reviews::store_id.eq(criteria.store))
            .into_boxed();
        if let Some(approved) = filter.is_approved {
            matching = matching.filter(reviews::is_approved.eq(approved));
        }
        if let Some(featured) = filter.is_featured {
            matching = matching.filter(reviews::is_featured.eq(featured));
        }
        // `responded_at` is set exactly when there is a response (a CHECK says so), and the
        // partial indexes of this filter carry it.
        match filter.has_response {
            Some(true) => matching = matching.filter(reviews::responded_at.is_not_null()),
            Some(false) => matching = matching.filter(reviews::responded_at.is_null()),
            None => {}
        }
        if let Some(min_rating) = criteria.min_rating {
            matching = matching.filter(reviews::rating.ge(min_rating));
        }
        if let Some(customer) = criteria.customer {
            matching = matching.filter(reviews::customer_id.eq(customer));
        }
        if let Some(from) = criteria.from {
            matching = matching.filter(reviews::created_at.ge(from));
        }
        if let Some(before) = criteria.before {
            matching = matching.filter(reviews::created_at.lt(before));
        }
        matching
    }};
}

/// A page of the store's reviews and the number that match the filter, read by one
/// statement (one snapshot): the counters that answer the filter's total joined to the
/// page's rows, or a scalar `COUNT(*)` with the same filters.
pub(super) async fn list(
    database: &Database,
    store: &StoreId,
    filter: &ReviewFilter,
    page: PageRequest,
) -> Result<(Vec<Review>, u64), RepoError> {
    let criteria = Criteria::new(store, filter);
    let store = criteria.store;
    let tally = Tally::of(filter);
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let limit = i64::from(page.limit());
    let (rows, total) = with_connection!(database, |conn| {
        // Its page: newest first, from the offset.
        macro_rules! page {
            ($source:expr) => {
                matching!(&criteria, $source)
                    .order_by((reviews::created_at.desc(), reviews::id.desc()))
                    .offset(offset)
                    .limit(limit)
            };
        }
        let mut attempts = 0;
        loop {
            attempts += 1;
            // The page with its total in one statement: the store's counters joined to each
            // row, or a scalar `COUNT(*)`. A page with rows carries its total.
            let (rows, total) = match tally {
                Some(tally) => {
                    let with_counters = reviews::table.left_join(
                        review_stats::table.on(review_stats::store_id.eq(reviews::store_id)),
                    );
                    let rows = page!(with_counters)
                        .select((ReviewRow::as_select(), Option::<StatsRow>::as_select()))
                        .load::<(ReviewRow, Option<StatsRow>)>(conn)
                        .await?;
                    let mut total = None;
                    let rows: Vec<ReviewRow> = rows
                        .into_iter()
                        .map(|(row, stats)| {
                            total.get_or_insert_with(|| {
                                tally.read(&stats.map(ReviewStats::from).unwrap_or_default())
                            });
                            row
                        })
                        .collect();
                    (rows, total)
                }
                None => {
                    let count = matching!(&criteria, reviews::table).count().single_value();
                    let rows = page!(reviews::table)
                        .select((ReviewRow::as_select(), count))
                        .load::<(ReviewRow, Option<i64>)>(conn)
                        .await?;
                    let total = rows.as_slice().first().map(|(_, total)| total.unwrap_or(0));
                    (rows.into_iter().map(|(row, _)| row).collect(), total)
                }
            };
            if let Some(total) = total {
                break Ok((rows, total));
            }
            // An empty page: its total is counted on its own (see `empty_page_settled`).
            let total = match tally {
                Some(tally) => {
                    let stats = review_stats::table
                        .find(store)
                        .select(StatsRow::as_select())
                        .first::<StatsRow>(conn)
                        .await
                        .optional()?;
                    tally.read(&stats.map(ReviewStats::from).unwrap_or_default())
                }
                None => {
                    matching!(&criteria, reviews::table)
                        .count()
                        .get_result::<i64>(conn)
                        .await?
                }
            };
            if empty_page_settled(total, offset, attempts) {
                break Ok((rows, total));
            }
        }
    })?;
    let reviews = rows
        .into_iter()
        .map(ReviewRow::into_review)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((reviews, u64::try_from(total).unwrap_or(0)))
}

/// The reviews of a keyset page in travel order: newest first going forward (`(created_at,
/// id) < cursor`), oldest first going backward, served by the filter's index either way.
pub(super) async fn seek(
    database: &Database,
    store: &StoreId,
    filter: &ReviewFilter,
    seek: &Seek,
) -> Result<Vec<Review>, RepoError> {
    let criteria = Criteria::new(store, filter);
    // Newest first: forward reads down the index, backward up it.
    let ascending = seek.travel == Travel::Backward;
    let from = match &seek.from {
        Some(position) => match position.value {
            SortValue::Time(at) => Some((to_db(at), position.id.clone())),
            // The domain refuses such cursors; a review list has no rows without an instant.
            _ => return Ok(Vec::new()),
        },
        None => None,
    };
    let take = i64::from(seek.take());
    let rows = with_connection!(database, |conn| {
        let mut rows = matching!(&criteria, reviews::table);
        if let Some((at, id)) = &from {
            rows = rows.filter(RowCompare {
                column: reviews::created_at,
                id: reviews::id,
                value: at.into_sql::<Timestamp>(),
                after: id.clone().into_sql::<Text>(),
                greater: ascending,
            });
        }
        let rows = if ascending {
            rows.order_by((reviews::created_at.asc(), reviews::id.asc()))
        } else {
            rows.order_by((reviews::created_at.desc(), reviews::id.desc()))
        };
        rows.limit(take)
            .select(ReviewRow::as_select())
            .load::<ReviewRow>(conn)
            .await
    })?;
    rows.into_iter()
        .map(ReviewRow::into_review)
        .collect::<Result<Vec<_>, _>>()
}

/// How many reviews match `filter`, at most `limit`: from the counters where they answer it
/// and no limit is asked, else a `COUNT(*)`, through the limit when there is one.
pub(super) async fn count(
    database: &Database,
    store: &StoreId,
    filter: &ReviewFilter,
    limit: Option<u64>,
) -> Result<u64, RepoError> {
    let criteria = Criteria::new(store, filter);
    let found: i64 = with_connection!(database, |conn| {
        match (limit, Tally::of(filter)) {
            (Some(limit), _) => {
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                CountOf(
                    matching!(&criteria, reviews::table)
                        .select(reviews::id)
                        .limit(limit),
                )
                .get_result::<i64>(conn)
                .await
            }
            (None, Some(tally)) => {
                let stats = review_stats::table
                    .find(criteria.store)
                    .select(StatsRow::as_select())
                    .first::<StatsRow>(conn)
                    .await
                    .optional()?;
                Ok(tally.read(&stats.map(ReviewStats::from).unwrap_or_default()))
            }
            (None, None) => {
                matching!(&criteria, reviews::table)
                    .count()
                    .get_result::<i64>(conn)
                    .await
            }
        }
    })?;
    Ok(u64::try_from(found).unwrap_or(0))
}
