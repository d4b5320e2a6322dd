//! Reviews ([`ReviewRepository`]): one per order, moderated, answered, listed, and counted.
//!
//! Each store's counters (`review_stats`: the total, one count per rating, the approved) move
//! in the transaction of every write that changes them: an insert, a moderation that flips
//! approval, a delete. So the statistics and the unfiltered total read one row, however many
//! reviews a store has. The counter row is the last thing such a write touches: on PostgreSQL
//! it is locked until the commit, and the store's review writes take turns on it.

mod counters;
mod list;
mod rows;

use customers_domain::ids::{ReviewId, StoreId};
use customers_domain::keyset::Seek;
use customers_domain::page::PageRequest;
use customers_domain::ports::RepoError;
use customers_domain::review::{
    Moderation, Rating, Review, ReviewFilter, ReviewResponse, ReviewStats,
};
use customers_domain::review::{ReviewError, ReviewRepository};
use diesel::result::Error as DieselError;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;

use crate::customers::lock_customer;
use crate::error::breaks_unique_index;
use crate::pool::{Database, Rollback, with_connection, write_transaction};
use crate::schema::{review_stats, reviews};
use crate::time::to_db;
use counters::{change_counters, open_counters};
use rows::{NewReview, ReviewRow, StatsRow};

/// The unique index behind "one review per order", by its PostgreSQL name and its SQLite
/// columns.
const ONE_PER_ORDER: (&str, &str) = ("reviews_order_unique", "reviews.store_id, reviews.order_id");

/// Why an insert wrote nothing: the order has a review already.
struct AlreadyReviewed;

impl ReviewRepository for Database {
    /// The review's customer is locked first, as recording an order and erasing a customer do,
    /// so an insert and the erasure of its customer queue instead of failing on the foreign
    /// key. A customer erased before the insert ran is no longer the review's: the review is
    /// stored without one, as the erasure would have left it.
    async fn insert(&self, review: &Review) -> Result<(), ReviewError> {
        let row = NewReview::new(review);
        let store = review.store_id.as_str().to_owned();
        let customer = review.customer_id.as_ref().map(|c| c.as_str().to_owned());
        // What the review adds to its store's counters, by the domain's counting.
        let mut counted = ReviewStats::default();
        counted.add(review.rating, review.moderation.is_approved);
        let written = write_transaction!(self, |conn| refusing AlreadyReviewed => {
            let customer = match &customer {
                Some(customer) => lock_customer(&store, customer)
                    .get_result::<(i64, bool)>(conn)
                    .await
                    .optional()?
                    .map(|_| customer),
                None => None,
            };
            diesel::insert_into(reviews::table)
                .values((&row, reviews::customer_id.eq(customer)))
                .execute(conn)
                .await
                .map_err(|error: DieselError| {
                    let (index, columns) = ONE_PER_ORDER;
                    if breaks_unique_index(&error, index, columns) {
                        Rollback::Refused(AlreadyReviewed)
                    } else {
                        Rollback::Failed(error)
                    }
                })?;
            open_counters(&store)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            change_counters(&store, counted).execute(conn).await?;
            Ok(())
        })?;
        written.map_err(|AlreadyReviewed| ReviewError::AlreadyReviewed)
    }

    async fn find(&self, store: &StoreId, id: &ReviewId) -> Result<Option<Review>, RepoError> {
        // A point read (see `pool::Lanes`).
        let row = with_connection!(self.point_reads(), |conn| {
            reviews::table
                .find((store.as_str(), id.as_str()))
                .select(ReviewRow::as_select())
                .first::<ReviewRow>(conn)
                .await
                .optional()
        })?;
        row.map(ReviewRow::into_review).transpose()
    }

    async fn list(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        page: PageRequest,
    ) -> Result<(Vec<Review>, u64), RepoError> {
        list::list(self, store, filter, page).await
    }

    async fn seek(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        seek: &Seek,
    ) -> Result<Vec<Review>, RepoError> {
        list::seek(self, store, filter, seek).await
    }

    async fn count(
        &self,
        store: &StoreId,
        filter: &ReviewFilter,
        limit: Option<u64>,
    ) -> Result<u64, RepoError> {
        list::count(self, store, filter, limit).await
    }

    /// One row; a store without reviews has none, and zeros.
    async fn stats(&self, store: &StoreId) -> Result<ReviewStats, RepoError> {
        let row = with_connection!(self, |conn| {
            review_stats::table
                .find(store.as_str())
                .select(StatsRow::as_select())
                .first::<StatsRow>(conn)
                .await
                .optional()
        })?;
        Ok(row.map(ReviewStats::from).unwrap_or_default())
    }

    async fn set_moderation(
        &self,
        store: &StoreId,
        id: &ReviewId,
        moderation: Moderation,
        expected_version: i64,
    ) -> Result<bool, RepoError> {
        let (store, id) = (store.as_str().to_owned(), id.as_str().to_owned());
        write_transaction!(self, |conn| {
            let review = reviews::table
                .find((&store, &id))
                .filter(reviews::version.eq(expected_version));
            // Every change bumps the version, so the row at `expected_version` is the row the
            // update below changes (or it changes nothing).
            let Some(was_approved) = review
                .select(reviews::is_approved)
                .first::<bool>(conn)
                .await
                .optional()?
            else {
                return Ok(false);
            };
            let updated = diesel::update(review)
                .set((
                    reviews::is_approved.eq(moderation.is_approved),
                    reviews::is_public.eq(moderation.is_public),
                    reviews::is_featured.eq(moderation.is_featured),
                    reviews::version.eq(reviews::version + 1),
                ))
                .execute(conn)
                .await?;
            if updated == 0 {
                return Ok(false);
            }
            let mut change = ReviewStats::default();
            change.reapprove(was_approved, moderation.is_approved);
            if change != ReviewStats::default() {
                change_counters(&store, change).execute(conn).await?;
            }
            Ok(true)
        })
    }

    async fn respond(
        &self,
        store: &StoreId,
        id: &ReviewId,
        response: &ReviewResponse,
    ) -> Result<bool, RepoError> {
        // A transaction although it is one statement: it bumps the version, so it must not
        // run twice (see `with_connection!`).
        let (store, id) = (store.as_str().to_owned(), id.as_str().to_owned());
        let (text, responded_at, responded_by) = (
            response.text.clone(),
            to_db(response.responded_at),
            response.responded_by.as_str().to_owned(),
        );
        let updated = write_transaction!(self, |conn| {
            diesel::update(reviews::table.find((&store, &id)))
                .set((
                    reviews::response_text.eq(&text),
                    reviews::responded_at.eq(responded_at),
                    reviews::responded_by.eq(&responded_by),
                    reviews::version.eq(reviews::version + 1),
                ))
                .execute(conn)
                .await
        })?;
        Ok(updated > 0)
    }

    async fn delete(&self, store: &StoreId, id: &ReviewId) -> Result<bool, RepoError> {
        let (store, id) = (store.as_str().to_owned(), id.as_str().to_owned());
        write_transaction!(self, |conn| {
            let Some((rating, approved)) = diesel::delete(reviews::table.find((&store, &id)))
                .returning((reviews::rating, reviews::is_approved))
                .get_result::<(i32, bool)>(conn)
                .await
                .optional()?
            else {
                return Ok(false);
            };
            // The table's CHECK keeps `rating` within 1–5.
            let rating = Rating::from_stored(i64::from(rating));
            let mut change = ReviewStats::default();
            change.remove(rating, approved);
            change_counters(&store, change).execute(conn).await?;
            Ok(true)
        })
    }
}
