//! Review rows and counter rows as stored, and their conversion to and from the domain's types.

use chrono::NaiveDateTime;
use customers_domain::ids::{CustomerId, OrderId, ReviewId, StoreId, UserId};
use customers_domain::ports::RepoError;
use customers_domain::review::{Moderation, Rating, Review, ReviewResponse, ReviewStats};
use diesel::{Insertable, Queryable, Selectable};

use crate::error::corrupt;
use crate::schema::{review_stats, reviews};
use crate::time::{from_db, to_db};

pub(super) fn rating_to_db(rating: Rating) -> i32 {
    i32::from(rating.value())
}

fn rating_from_db(stored: i32) -> Result<Rating, RepoError> {
    Rating::parse(i64::from(stored)).map_err(|_| corrupt("rating", &stored.to_string()))
}

/// A new review's row, except `customer_id`: the insert decides it (see `insert`).
#[derive(Insertable)]
#[diesel(table_name = reviews)]
pub(super) struct NewReview {
    store_id: String,
    id: String,
    order_id: String,
    rating: i32,
    food_rating: Option<i32>,
    delivery_rating: Option<i32>,
    packaging_rating: Option<i32>,
    comment: Option<String>,
    is_approved: bool,
    is_public: bool,
    is_featured: bool,
    response_text: Option<String>,
    responded_at: Option<NaiveDateTime>,
    responded_by: Option<String>,
    created_at: NaiveDateTime,
    version: i64,
}

impl NewReview {
    pub(super) fn new(review: &Review) -> Self {
        let response = review.response.as_ref();
        Self {
            store_id: review.store_id.as_str().to_owned(),
            id: review.id.as_str().to_owned(),
            order_id: review.order_id.as_str().to_owned(),
            rating: rating_to_db(review.rating),
            food_rating: review.food_rating.map(rating_to_db),
            delivery_rating: review.delivery_rating.map(rating_to_db),
            packaging_rating: review.packaging_rating.map(rating_to_db),
            comment: review.comment.clone(),
            is_approved: review.moderation.is_approved,
            is_public: review.moderation.is_public,
            is_featured: review.moderation.is_featured,
            response_text: response.map(|r| r.text.clone()),
            responded_at: response.map(|r| to_db(r.responded_at)),
            responded_by: response.map(|r| r.responded_by.as_str().to_owned()),
            created_at: to_db(review.created_at),
            version: review.version,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = reviews, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(super) struct ReviewRow {
    store_id: String,
    id: String,
    order_id: String,
    customer_id: Option<String>,
    rating: i32,
    food_rating: Option<i32>,
    delivery_rating: Option<i32>,
    packaging_rating: Option<i32>,
    comment: Option<String>,
    is_approved: bool,
    is_public: bool,
    is_featured: bool,
    response_text: Option<String>,
    responded_at: Option<NaiveDateTime>,
    responded_by: Option<String>,
    created_at: NaiveDateTime,
    version: i64,
}

impl ReviewRow {
    pub(super) fn into_review(self) -> Result<Review, RepoError> {
        let optional = |stored: Option<i32>| stored.map(rating_from_db).transpose();
        let response = match (self.response_text, self.responded_at, self.responded_by) {
            (Some(text), Some(at), Some(by)) => Some(ReviewResponse {
                text,
                responded_at: from_db(at),
                responded_by: UserId::from_stored(by),
            }),
            (None, None, None) => None,
            _ => return Err(corrupt("response of review", &self.id)),
        };
        Ok(Review {
            rating: rating_from_db(self.rating)?,
            food_rating: optional(self.food_rating)?,
            delivery_rating: optional(self.delivery_rating)?,
            packaging_rating: optional(self.packaging_rating)?,
            id: ReviewId::from_stored(self.id),
            store_id: StoreId::from_stored(self.store_id),
            order_id: OrderId::from_stored(self.order_id),
            customer_id: self.customer_id.map(CustomerId::from_stored),
            comment: self.comment,
            moderation: Moderation {
                is_approved: self.is_approved,
                is_public: self.is_public,
                is_featured: self.is_featured,
            },
            response,
            created_at: from_db(self.created_at),
            version: self.version,
        })
    }
}

/// A store's review counters.
#[derive(Queryable, Selectable)]
#[diesel(table_name = review_stats, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(super) struct StatsRow {
    total: i64,
    rated_1: i64,
    rated_2: i64,
    rated_3: i64,
    rated_4: i64,
    rated_5: i64,
    approved: i64,
}

impl From<StatsRow> for ReviewStats {
    fn from(row: StatsRow) -> Self {
        ReviewStats {
            total: row.total,
            distribution: [
                row.rated_1,
                row.rated_2,
                row.rated_3,
                row.rated_4,
                row.rated_5,
            ],
            approved: row.approved,
        }
    }
}
